#pragma once
// Per-user random numbers: fast, reproducible from (seed, user index), no shared state.

#include <chrono>
#include <cstdint>
#include <limits>

namespace wsload {

/// xoshiro256** seeded through splitmix64: a UniformRandomBitGenerator, so the
/// <random> distributions work with it. One per user; never shared across threads.
class random_generator {
public:
    using result_type = std::uint64_t;

    explicit random_generator(std::uint64_t seed = 0) noexcept { reseed(seed); }

    void reseed(std::uint64_t seed) noexcept
    {
        for (auto& s : state_) s = splitmix64(seed);
    }

    static constexpr result_type min() noexcept { return 0; }
    static constexpr result_type max() noexcept { return std::numeric_limits<result_type>::max(); }

    result_type operator()() noexcept
    {
        const auto result = rotl(state_[1] * 5, 7) * 9;
        const auto t = state_[1] << 17;
        state_[2] ^= state_[0];
        state_[3] ^= state_[1];
        state_[1] ^= state_[2];
        state_[0] ^= state_[3];
        state_[2] ^= t;
        state_[3] = rotl(state_[3], 45);
        return result;
    }

    /// Uniform integer in [0, bound); bound 0 gives 0. Lemire's multiply-shift, no modulo bias
    /// worth measuring for load-test use.
    std::uint64_t below(std::uint64_t bound) noexcept
    {
        __extension__ using u128 = unsigned __int128;  // pedantic: a GCC/Clang extension, on purpose
        return static_cast<std::uint64_t>((static_cast<u128>((*this)()) * bound) >> 64);
    }

    /// Uniform double in [0, 1).
    double uniform() noexcept { return static_cast<double>((*this)() >> 11) * 0x1.0p-53; }

    /// A uniformly random point in [0, period): used to spread users' schedules so they do
    /// not all fire on the same tick (a client that does measures its own burst).
    template <class Rep, class Period>
    std::chrono::duration<Rep, Period> phase(std::chrono::duration<Rep, Period> period) noexcept
    {
        if (period.count() <= 0) return period.zero();
        return std::chrono::duration<Rep, Period>(
            static_cast<Rep>(below(static_cast<std::uint64_t>(period.count()))));
    }

private:
    static std::uint64_t rotl(std::uint64_t x, int k) noexcept { return (x << k) | (x >> (64 - k)); }
    static std::uint64_t splitmix64(std::uint64_t& x) noexcept
    {
        auto z = (x += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    }

    std::uint64_t state_[4];
};

}  // namespace wsload
