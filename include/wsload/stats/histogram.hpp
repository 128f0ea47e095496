#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

namespace wsload::stats {

namespace detail {

/// Little-endian unsigned integer of N 64-bit limbs: sums must merge exactly, and a sum of
/// squares of 64-bit values needs up to 192 bits.
template <std::size_t N>
using wide = std::array<std::uint64_t, N>;
using slot = std::atomic<std::uint64_t>;

/// a * b as {low, high}, without compiler extensions; mul_wide uses __int128 where it exists.
inline wide<2> mul_wide_portable(std::uint64_t a, std::uint64_t b) noexcept
{
    constexpr std::uint64_t lo32 = 0xffff'ffff;
    const std::uint64_t ll = (a & lo32) * (b & lo32), lh = (a & lo32) * (b >> 32);
    const std::uint64_t hl = (a >> 32) * (b & lo32), hh = (a >> 32) * (b >> 32);
    const std::uint64_t mid = (ll >> 32) + (lh & lo32) + (hl & lo32);
    return {(mid << 32) | (ll & lo32), hh + (lh >> 32) + (hl >> 32) + (mid >> 32)};
}

inline wide<2> mul_wide(std::uint64_t a, std::uint64_t b) noexcept
{
#if defined(__SIZEOF_INT128__)
    __extension__ typedef unsigned __int128 u128;
    const u128 p = u128(a) * b;
    return {std::uint64_t(p), std::uint64_t(p >> 64)};
#else
    return mul_wide_portable(a, b);
#endif
}

/// a + b + carry; `carry` (any value in, 0..2 out) becomes what overflowed.
inline std::uint64_t add_carry(std::uint64_t a, std::uint64_t b, std::uint64_t& carry) noexcept
{
    const std::uint64_t s = a + b, t = s + carry;
    carry = std::uint64_t(s < a) + std::uint64_t(t < s);
    return t;
}

template <std::size_t N, std::size_t M>
wide<N + M> mul(const wide<N>& a, const wide<M>& b) noexcept
{
    wide<N + M> r{};
    for (std::size_t i = 0; i < N; ++i) {
        std::uint64_t high = 0;
        for (std::size_t j = 0; j < M; ++j) {
            const auto p = mul_wide(a[i], b[j]);
            r[i + j] = add_carry(r[i + j], p[0], high);
            high += p[1]; // a*b + r + high < 2^128, so this cannot wrap
        }
        r[i + M] = high;
    }
    return r;
}

/// a - b, for a >= b.
template <std::size_t N>
wide<N> sub(const wide<N>& a, const wide<N>& b) noexcept
{
    wide<N> r{};
    for (std::size_t i = 0, borrow = 0; i < N; ++i) {
        r[i] = a[i] - b[i] - borrow;
        borrow = a[i] < b[i] || (a[i] == b[i] && borrow);
    }
    return r;
}

template <std::size_t N>
long double to_long_double(const wide<N>& v) noexcept
{
    long double r = 0;
    for (std::size_t i = N; i-- > 0;) r = std::ldexp(r, 64) + static_cast<long double>(v[i]);
    return r;
}

/// acc += v. Single writer, so a plain load and store per limb rather than a locked RMW;
/// `release` stores for the seqlock in histogram (free on x86).
template <std::size_t N>
void add_to(std::array<slot, N>& acc, const wide<N>& v) noexcept
{
    std::uint64_t carry = 0;
    for (std::size_t i = 0; i < N; ++i)
        acc[i].store(add_carry(acc[i].load(std::memory_order_relaxed), v[i], carry),
                     std::memory_order_release);
}

} // namespace detail

/// Log-linear (HDR) histogram of nanosecond values: exact below 2^ceil(log2(2*10^digits)),
/// relative error < 10^-digits above; one flat array allocated up front. One thread (the owner)
/// calls record, merge-into and reset; any thread may read it or merge from it meanwhile.
class histogram {
public:
    static constexpr std::uint64_t default_highest_ns = 3'600'000'000'000; // 1 h

    /// 3 significant digits up to 1 h: 33,792 buckets, 270,336 bytes.
    histogram() : histogram(3) {}
    /// Significant digits in 1..5; values above highest_ns are counted in the top bucket.
    explicit histogram(int digits, std::uint64_t highest_ns = default_highest_ns)
    {
        set_layout(digits, highest_ns);
    }
    /// Copies are snapshots, safe to take while `other` records. (No move: it copies.)
    histogram(const histogram& other) : histogram(other.digits_, other.highest_) { merge(other); }
    histogram& operator=(const histogram& other)
    {
        if (this == &other) return *this;
        if (!same_layout(other)) set_layout(other.digits_, other.highest_);
        reset();
        merge(other);
        return *this;
    }

    /// Counts `count` occurrences of `ns`. Owner thread only.
    void record(std::uint64_t ns, std::uint64_t count = 1) noexcept
    {
        if (count == 0) return;
        const bool clamp = ns > highest_;
        bump(counts_[clamp ? top_index_ : index_of(ns)], count);
        const auto square = detail::mul_wide(ns, ns);
        if (count == 1) [[likely]]  // one value: its sums need no multiplication by the count
            add({1, clamp ? 1u : 0u, ns, ns, {ns, 0}, {square[0], square[1], 0}});
        else
            add({count, clamp ? count : 0, ns, ns, detail::mul_wide(ns, count),
                 detail::mul(square, detail::wide<1>{count})});
    }

    /// Adds other's counts exactly; throws std::invalid_argument unless same_layout(other).
    /// Owner thread of *this only; `other` may be recording meanwhile.
    void merge(const histogram& other)
    {
        if (!same_layout(other)) throw std::invalid_argument("histogram::merge: different layouts");
        // The span from one reading of the aggregates, the aggregates added from a later one:
        // a value `other` records meanwhile may then be counted without its bucket, never its
        // bucket without the count (percentile() reads that case as max()).
        const auto [first, end] = other.span(other.aggregates());
        for (std::size_t i = first; i < end; ++i)
            if (const auto c = other.counts_[i].load(relaxed)) bump(counts_[i], c);
        if (const auto a = other.aggregates(); a.count != 0) add(a);
    }

    /// Takes away `earlier`, an earlier state of the same histogram (every bucket at most this
    /// one's): what was recorded between the two, exactly, bucket by bucket. Min and max of the
    /// difference are not known to the nanosecond: they become the lowest and highest values of
    /// its lowest and highest non-empty buckets (exact below 2^ceil(log2(2*10^digits)), within
    /// the histogram's precision above), kept inside this one's [min, max]; exact when the
    /// overall min or max was recorded since `earlier`. Throws
    /// std::invalid_argument on another layout or when `earlier` is not earlier. Owner only.
    void subtract(const histogram& earlier)
    {
        if (!same_layout(earlier)) throw std::invalid_argument("histogram::subtract: different layouts");
        const auto a = aggregates(), e = earlier.aggregates();
        if (e.count == 0) return;
        if (e.count > a.count || e.clamped > a.clamped)
            throw std::invalid_argument("histogram::subtract: not an earlier state of this histogram");
        // Both spans: a bucket `earlier` has and this one lacks is an error to catch.
        const auto [first, end] = joined(span(a), earlier.span(e));
        for (std::size_t i = first; i < end; ++i)
            if (counts_[i].load(relaxed) < earlier.counts_[i].load(relaxed))
                throw std::invalid_argument("histogram::subtract: not an earlier state of this histogram");
        snapshot d{a.count - e.count, a.clamped - e.clamped, 0, 0, detail::sub(a.sum, e.sum),
                   detail::sub(a.sum_squares, e.sum_squares)};
        std::size_t lowest = size_, highest = 0;
        for (std::size_t i = first; i < end; ++i) {
            const auto c = counts_[i].load(relaxed) - earlier.counts_[i].load(relaxed);
            counts_[i].store(c, relaxed);
            if (c == 0) continue;
            lowest = std::min(lowest, i);
            highest = i;
        }
        if (d.count != 0) {
            // A min below the earlier one (a max above) was recorded since: exact.
            d.min = a.min < e.min ? a.min : std::clamp(bucket_range(lowest).first, a.min, a.max);
            // Clamped values sit in the top bucket above its range: only the overall max bounds them.
            d.max = a.max > e.max || d.clamped != 0 ? a.max : std::clamp(bucket_range(highest).second, a.min, a.max);
        } else {
            d = snapshot{};
        }
        seq_.store(seq_.load(relaxed) + 1, relaxed);
        for (auto* x : {&count_, &clamped_, &min_, &max_}) put(*x, 0);
        for (auto& limb : sum_) put(limb, 0);
        for (auto& limb : sum_squares_) put(limb, 0);
        put(seq_, seq_.load(relaxed) + 1);
        if (d.count != 0) add(d);
    }

    /// Forgets every value. Owner thread only.
    void reset() noexcept
    {
        const auto [first, end] = span(aggregates());
        for (std::size_t i = first; i < end; ++i) counts_[i].store(0, relaxed);
        seq_.store(seq_.load(relaxed) + 1, relaxed);
        for (auto* a : {&count_, &clamped_, &min_, &max_, &sum_[0], &sum_[1]}) put(*a, 0);
        for (auto& limb : sum_squares_) put(limb, 0);
        put(seq_, seq_.load(relaxed) + 1);
    }

    bool same_layout(const histogram& o) const noexcept
    {
        return digits_ == o.digits_ && highest_ == o.highest_;
    }
    int significant_digits() const noexcept { return digits_; }
    std::uint64_t highest_trackable() const noexcept { return highest_; }
    /// Size of the bucket array; the object itself adds about 150 bytes.
    std::size_t memory_bytes() const noexcept { return size_ * sizeof(std::uint64_t); }

    std::uint64_t count() const noexcept { return aggregates().count; }
    bool empty() const noexcept { return count() == 0; }
    /// Values above highest_trackable(): they sit in the top bucket, min/max/mean stay exact.
    std::uint64_t clamped() const noexcept { return aggregates().clamped; }
    std::uint64_t min() const noexcept { return aggregates().min; }
    std::uint64_t max() const noexcept { return aggregates().max; }
    /// Exact sum underneath, divided once; 0 when empty.
    double mean() const noexcept
    {
        const auto a = aggregates();
        return a.count == 0 ? 0.0 : double(detail::to_long_double(a.sum) / a.count);
    }
    /// Population standard deviation from n*sum(x^2) - sum(x)^2, computed exactly.
    double stddev() const noexcept
    {
        const auto a = aggregates();
        const auto n_s2 = detail::mul(a.sum_squares, detail::wide<1>{a.count});
        const auto diff = detail::to_long_double(detail::sub(n_s2, detail::mul(a.sum, a.sum)));
        const long double n = a.count;
        return a.count < 2 ? 0.0 : double(std::sqrt(diff / n / n));
    }
    /// Highest value equivalent to the one of rank ceil(p/100*count), capped at max();
    /// p <= 0 gives min(), p >= 100 max(), 0 when empty.
    std::uint64_t percentile(double p) const noexcept
    {
        const auto a = aggregates();
        if (a.count == 0 || !(p > 0)) return a.min;
        if (p >= 100) return a.max;
        // (1 - 1e-12): 99.9 / 100 * 1000 is 999.0000000000001 in doubles, whose ceil would
        // skip to the next rank.
        const double r = std::ceil(p / 100.0 * static_cast<double>(a.count) * (1 - 1e-12));
        const auto rank = std::clamp<std::uint64_t>(static_cast<std::uint64_t>(r), 1, a.count);
        std::uint64_t seen = 0;
        for (std::size_t i = span(a).first; i < size_; ++i) {
            seen += counts_[i].load(relaxed);
            if (seen >= rank) return std::min(bucket_range(i).second, a.max);
        }
        return a.max; // a concurrent writer counted the value but not yet its bucket
    }

    /// Calls f(lowest_ns, highest_equivalent_ns, count) for each non-empty bucket, in order.
    /// Clamped values are in the bucket of highest_trackable().
    template <class F>
    void for_each_bucket(F f) const
    {
        const auto [first, end] = span(aggregates());
        for (std::size_t i = first; i < end; ++i)
            if (const auto c = counts_[i].load(relaxed)) {
                const auto [lo, hi] = bucket_range(i);
                f(lo, hi, c);
            }
    }

    /// Everything a histogram knows, exactly: layout, aggregates (sums as 64-bit limbs, least
    /// significant first) and the non-empty buckets by flat index. What result files carry,
    /// so that histograms of other processes and machines merge without loss.
    struct state {
        int digits = 3;
        std::uint64_t highest = default_highest_ns;
        std::uint64_t count = 0, clamped = 0, min = 0, max = 0;
        std::array<std::uint64_t, 2> sum{};
        std::array<std::uint64_t, 3> sum_squares{};
        std::vector<std::pair<std::uint32_t, std::uint64_t>> buckets;  ///< {flat index, count}
    };

    state export_state() const
    {
        state s;
        s.digits = digits_;
        s.highest = highest_;
        const auto a = aggregates();
        s.count = a.count;
        s.clamped = a.clamped;
        s.min = a.min;
        s.max = a.max;
        for (std::size_t i = 0; i < 2; ++i) s.sum[i] = a.sum[i];
        for (std::size_t i = 0; i < 3; ++i) s.sum_squares[i] = a.sum_squares[i];
        const auto [first, end] = span(a);
        for (std::size_t i = first; i < end; ++i)
            if (const auto c = counts_[i].load(relaxed)) s.buckets.emplace_back(static_cast<std::uint32_t>(i), c);
        return s;
    }

    /// Adds an exported state (a merge); throws std::invalid_argument on another layout or a
    /// bucket index out of range (a corrupt file). Owner thread only.
    void merge(const state& s)
    {
        if (s.digits != digits_ || s.highest != highest_)
            throw std::invalid_argument("histogram::merge: different layouts");
        std::uint64_t in_buckets = 0;
        const auto [first, end] = span(snapshot{s.count, s.clamped, s.min, s.max});
        for (const auto& [index, c] : s.buckets) {
            if (index >= size_) throw std::invalid_argument("histogram::merge: bucket index out of range");
            // Every value is within [min, max]; the scans rely on it (span()).
            if (c != 0 && (index < first || index >= end))
                throw std::invalid_argument("histogram::merge: a bucket outside [min, max]");
            in_buckets += c;
        }
        if (in_buckets != s.count) throw std::invalid_argument("histogram::merge: bucket counts do not add up");
        for (const auto& [index, c] : s.buckets) bump(counts_[index], c);
        if (s.count == 0) return;
        snapshot a{s.count, s.clamped, s.min, s.max};
        for (std::size_t i = 0; i < 2; ++i) a.sum[i] = s.sum[i];
        for (std::size_t i = 0; i < 3; ++i) a.sum_squares[i] = s.sum_squares[i];
        add(a);
    }

private:
    using slot = detail::slot;
    static constexpr auto relaxed = std::memory_order_relaxed;
    struct snapshot {
        std::uint64_t count = 0, clamped = 0, min = 0, max = 0;
        detail::wide<2> sum{};
        detail::wide<3> sum_squares{};
    };
    static void bump(slot& a, std::uint64_t n) noexcept { a.store(a.load(relaxed) + n, relaxed); }

    // The aggregates span several words (sums carry across limbs), so readers take them through
    // a seqlock, or a torn sum could be off by 2^64. Release stores and acquire loads inside it
    // rather than fences: same code on x86, and ThreadSanitizer understands them.
    static void put(slot& a, std::uint64_t v) noexcept { a.store(v, std::memory_order_release); }
    void add(const snapshot& a) noexcept
    {
        seq_.store(seq_.load(relaxed) + 1, relaxed); // odd: update in progress
        const auto count = count_.load(relaxed);
        put(count_, count + a.count);
        put(clamped_, clamped_.load(relaxed) + a.clamped);
        if (count == 0 || a.min < min_.load(relaxed)) put(min_, a.min);
        if (a.max > max_.load(relaxed)) put(max_, a.max);
        detail::add_to(sum_, a.sum);
        detail::add_to(sum_squares_, a.sum_squares);
        put(seq_, seq_.load(relaxed) + 1);
    }
    snapshot aggregates() const noexcept
    {
        constexpr auto acquire = std::memory_order_acquire;
        for (;;) {
            const auto before = seq_.load(acquire);
            snapshot s{count_.load(acquire), clamped_.load(acquire), min_.load(acquire),
                       max_.load(acquire)};
            for (std::size_t i = 0; i < 2; ++i) s.sum[i] = sum_[i].load(acquire);
            for (std::size_t i = 0; i < 3; ++i) s.sum_squares[i] = sum_squares_[i].load(acquire);
            if ((before & 1) == 0 && seq_.load(relaxed) == before) return s;
            std::this_thread::yield(); // the writer is mid-update: a few ns, or preempted
        }
    }

    /// The flat indices [first, end) that can hold counts, from the aggregates: every value is
    /// in [min, max] and every mutation keeps that so (subtract() narrows min and max to the
    /// buckets left), so the buckets outside are empty. A scan of the span, not of the whole
    /// array: a second's round trips (a few hundred buckets of ~30,000) cost that much less to
    /// export, reset and merge, and each worker does that every second.
    std::pair<std::size_t, std::size_t> span(const snapshot& a) const noexcept
    {
        if (a.count == 0) return {0, 0};
        const auto at = [&](std::uint64_t v) { return v > highest_ ? top_index_ : index_of(v); };
        return {at(a.min), at(a.max) + 1};
    }
    static std::pair<std::size_t, std::size_t> joined(std::pair<std::size_t, std::size_t> x,
                                                      std::pair<std::size_t, std::size_t> y) noexcept
    {
        if (x.first == x.second) return y;
        if (y.first == y.second) return x;
        return {std::min(x.first, y.first), std::max(x.second, y.second)};
    }

    // With half = sub-bucket count / 2: bucket 0 holds [0, 2 * half) exactly; bucket b >= 1
    // holds [half << b, 2 * half << b) in steps of 2^b, at flat index (b + 1) * half onwards.
    std::size_t index_of(std::uint64_t v) const noexcept
    {
        const unsigned half_bits = sub_bits_ - 1;
        const auto b = unsigned(std::bit_width(v | ((2ull << half_bits) - 1))) - 1 - half_bits;
        return (std::size_t(b + 1) << half_bits) + (v >> b) - (1ull << half_bits);
    }
    /// {lowest, highest equivalent value} of flat index i.
    std::pair<std::uint64_t, std::uint64_t> bucket_range(std::size_t i) const noexcept
    {
        const unsigned half_bits = sub_bits_ - 1;
        if (i < (std::size_t(2) << half_bits)) return {i, i};
        const unsigned b = unsigned(i >> half_bits) - 1;
        const std::uint64_t lo = ((i & ((1ull << half_bits) - 1)) + (1ull << half_bits)) << b;
        return {lo, lo + ((1ull << b) - 1)};
    }

    void set_layout(int digits, std::uint64_t highest)
    {
        if (digits < 1 || digits > 5 || highest == 0)
            throw std::invalid_argument("histogram: digits must be 1..5 and highest at least 1");
        constexpr std::uint64_t pow10[] = {1, 10, 100, 1'000, 10'000, 100'000};
        sub_bits_ = unsigned(std::countr_zero(std::bit_ceil(2 * pow10[digits])));
        const auto width = unsigned(std::bit_width(highest));
        size_ = (width > sub_bits_ ? width - sub_bits_ + 2 : 2) << (sub_bits_ - 1);
        counts_ = std::make_unique<slot[]>(size_);
        digits_ = digits;
        highest_ = highest;
        top_index_ = index_of(highest);
    }

    int digits_ = 0;
    std::uint64_t highest_ = 0;
    unsigned sub_bits_ = 0;                // log2 of the sub-bucket count
    std::size_t size_ = 0, top_index_ = 0; // size_ = (bucket count + 1) * half
    std::unique_ptr<slot[]> counts_;
    slot seq_{0}, count_{0}, clamped_{0}, min_{0}, max_{0}; // min_ is valid once count_ > 0
    std::array<slot, 2> sum_{};
    std::array<slot, 3> sum_squares_{};
};

} // namespace wsload::stats
