#pragma once
// When each user starts. The load shape is kept apart from the behaviour: a shape only
// answers "when does user i start", so later shapes (spawn rate, stages, steps, arrival
// rate) plug into the same engine.

#include <chrono>
#include <cstdint>

namespace wsload::sched {

/// `users` start evenly spread over `ramp` (all at once when ramp is zero): user i starts
/// at ramp * i / users, as wsbench's --ramp and Locust's spawn rate users/ramp do.
struct linear_ramp {
    std::uint64_t users = 0;
    std::chrono::nanoseconds ramp{0};

    std::chrono::nanoseconds start_offset(std::uint64_t i) const noexcept
    {
        if (users == 0 || ramp.count() <= 0) return std::chrono::nanoseconds(0);
        __extension__ using u128 = unsigned __int128;  // ramp * i overflows 64 bits for long ramps
        const auto wide = static_cast<u128>(ramp.count()) * i / users;
        return std::chrono::nanoseconds(static_cast<std::int64_t>(wide));
    }
};

}  // namespace wsload::sched
