#ifndef BOOST_TEST_DYN_LINK
#define BOOST_TEST_DYN_LINK
#endif
#include <wsload/stats/histogram.hpp>

#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <ostream>
#include <random>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

namespace {

namespace data = boost::unit_test::data;
using wsload::stats::histogram;
using samples = std::vector<std::uint64_t>;

constexpr std::uint64_t hour = 3'600'000'000'000;
constexpr std::uint64_t u64_max = std::numeric_limits<std::uint64_t>::max();

struct distribution {
    std::string name;
    std::function<samples()> make;
};
std::ostream& operator<<(std::ostream& os, const distribution& d) { return os << d.name; }

samples generate(std::size_t n, std::function<std::uint64_t(std::mt19937_64&)> f)
{
    std::mt19937_64 rng(20240601);
    samples out(n);
    for (auto& v : out) v = f(rng);
    return out;
}

samples adversarial()
{
    // Powers of two and every bucket edge around them, for each sub-bucket layout in use.
    samples out;
    for (unsigned k = 0; k < 64; ++k) {
        const std::uint64_t p = std::uint64_t(1) << k;
        for (std::uint64_t v : {p - 1, p, p + 1, p + (p >> 1), p + (p >> 1) - 1}) out.push_back(v);
    }
    for (std::uint64_t sub : {32u, 256u, 2048u, 16384u, 262144u})
        for (unsigned shift = 0; shift < 30; ++shift)
            for (std::uint64_t j : {sub / 2, sub / 2 + 1, sub - 1})
                for (std::uint64_t d : {0, 1, 2}) out.push_back((j << shift) + d - 1);
    return out;
}

const std::vector<distribution> distributions = {
    {"uniform", [] { return generate(100'000, [](auto& r) { return r() % 1'000'000'001; }); }},
    {"exponential", [] {
         std::exponential_distribution<double> e(1.0 / 1e6); // mean 1 ms
         return generate(100'000, [&](auto& r) { return std::uint64_t(e(r)); });
     }},
    {"long_tail", [] {
         std::lognormal_distribution<double> l(13.0, 2.5); // median ~0.4 ms, tail to minutes
         return generate(100'000, [&](auto& r) { return std::uint64_t(std::min(l(r), 1e15)); });
     }},
    {"bimodal", [] {
         std::normal_distribution<double> fast(200e3, 20e3), slow(50e6, 5e6);
         return generate(100'000, [&](auto& r) {
             return std::uint64_t(std::max(0.0, r() % 2 ? fast(r) : slow(r)));
         });
     }},
    {"all_equal", [] { return samples(1000, 123'456'789); }},
    {"single", [] { return samples{987'654'321}; }},
    {"zeros", [] { return samples(10, 0); }},
    {"beyond_an_hour", [] {
         return generate(10'000, [](auto& r) {
             const std::uint64_t v = r() % 4;
             return v == 0 ? r() % hour : v == 1 ? hour + r() % hour : v == 2 ? 10 * hour : u64_max;
         });
     }},
    {"adversarial", adversarial},
};

std::uint64_t pow10(int digits)
{
    std::uint64_t p = 1;
    while (digits-- > 0) p *= 10;
    return p;
}

std::vector<double> percentiles_to_check(int digits)
{
    std::vector<double> ps;
    if (digits <= 3)
        for (int i = 0; i <= 1000; ++i) ps.push_back(i / 10.0);
    else // a walk over 3.4 million buckets per query: a few points are enough
        ps = {0, 0.1, 1, 10, 25, 50, 75, 90, 99, 99.9, 99.99, 100};
    return ps;
}

// The histogram's rank rule, applied to the exact samples.
std::uint64_t exact_percentile(samples& s, double p)
{
    const auto n = s.size();
    // Same rank definition as histogram::percentile (ceil, with doubles' excess of 1e-12 forgiven).
    auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(n) * (1 - 1e-12)));
    rank = std::clamp<std::size_t>(rank, 1, n);
    std::nth_element(s.begin(), s.begin() + std::ptrdiff_t(rank - 1), s.end());
    return s[rank - 1];
}

void check_against_exact(const histogram& h, samples s)
{
    const int digits = h.significant_digits();
    BOOST_TEST_REQUIRE(h.count() == s.size());
    const std::uint64_t lo = *std::min_element(s.begin(), s.end());
    const std::uint64_t hi = *std::max_element(s.begin(), s.end());
    BOOST_TEST(h.min() == lo);
    BOOST_TEST(h.max() == hi);
    BOOST_TEST(h.clamped() == std::size_t(std::count_if(s.begin(), s.end(), [&](auto v) {
                   return v > h.highest_trackable();
               })));
    long double sum = 0;
    for (auto v : s) sum += v;
    const long double mean = sum / s.size();
    long double squares = 0;
    for (auto v : s) squares += (v - mean) * (v - mean);
    BOOST_TEST(h.mean() == double(mean), boost::test_tools::tolerance(1e-12));
    if (squares == 0)
        BOOST_TEST(h.stddev() == 0.0);
    else
        BOOST_TEST(h.stddev() == double(std::sqrt(squares / s.size())),
                   boost::test_tools::tolerance(1e-9));

    const long double precision = 1.0L / pow10(digits);
    for (double p : percentiles_to_check(digits)) {
        const std::uint64_t exact = exact_percentile(s, p);
        const std::uint64_t got = h.percentile(p);
        BOOST_TEST_CONTEXT("p" << p << " exact " << exact << " got " << got)
        {
            if (p == 0)
                BOOST_TEST(got == lo);
            else if (p == 100)
                BOOST_TEST(got == hi);
            else if (exact > h.highest_trackable()) {
                // Clamped: reported as the top bucket's value, which is around the limit.
                BOOST_TEST(got >= h.highest_trackable());
                BOOST_TEST(got - h.highest_trackable() <= h.highest_trackable() * precision);
            } else {
                BOOST_TEST(got >= exact);
                BOOST_TEST(got <= hi);
                BOOST_TEST(got - exact <= exact * precision);
                if (exact < 2 * pow10(digits)) BOOST_TEST(got == exact); // exact range
            }
        }
    }
}

void check_same(const histogram& a, const histogram& b)
{
    BOOST_TEST(a.count() == b.count());
    BOOST_TEST(a.min() == b.min());
    BOOST_TEST(a.max() == b.max());
    BOOST_TEST(a.clamped() == b.clamped());
    for (int i = 0; i <= 1000; ++i) BOOST_TEST(a.percentile(i / 10.0) == b.percentile(i / 10.0));
    BOOST_TEST(a.mean() == b.mean(), boost::test_tools::tolerance(1e-9));
    BOOST_TEST(a.stddev() == b.stddev(), boost::test_tools::tolerance(1e-9));
    using bucket = std::tuple<std::uint64_t, std::uint64_t, std::uint64_t>;
    std::vector<bucket> ba, bb;
    a.for_each_bucket([&](auto l, auto h, auto c) { ba.emplace_back(l, h, c); });
    b.for_each_bucket([&](auto l, auto h, auto c) { bb.emplace_back(l, h, c); });
    BOOST_TEST((ba == bb));
}

} // namespace

BOOST_AUTO_TEST_SUITE(histogram_suite)

BOOST_DATA_TEST_CASE(percentiles_within_precision,
                     data::make(distributions) * data::make({1, 2, 3, 4, 5}), dist, digits)
{
    const auto s = dist.make();
    histogram h(digits);
    for (auto v : s) h.record(v);
    check_against_exact(h, s);
}

BOOST_DATA_TEST_CASE(merging_eight_shards_is_exact, data::make(distributions), dist)
{
    const auto s = dist.make();
    histogram all;
    std::vector<histogram> shards(8);
    for (std::size_t i = 0; i < s.size(); ++i) {
        all.record(s[i]);
        shards[i % 8].record(s[i]);
    }
    histogram merged;
    for (const auto& shard : shards) merged.merge(shard);
    check_same(merged, all);
    check_against_exact(merged, s);

    const histogram copy = merged; // copies are snapshots
    check_same(copy, all);
    histogram assigned(1, 1000);
    assigned = all; // takes the source's layout
    BOOST_TEST(assigned.same_layout(all));
    check_same(assigned, all);
}

BOOST_AUTO_TEST_CASE(empty_histogram_reads_as_zero)
{
    histogram h;
    BOOST_TEST(h.empty());
    BOOST_TEST(h.count() == 0u);
    BOOST_TEST(h.min() == 0u);
    BOOST_TEST(h.max() == 0u);
    BOOST_TEST(h.mean() == 0.0);
    BOOST_TEST(h.stddev() == 0.0);
    BOOST_TEST(h.clamped() == 0u);
    for (double p : {0.0, 50.0, 99.9, 100.0}) BOOST_TEST(h.percentile(p) == 0u);
    int calls = 0;
    h.for_each_bucket([&](auto, auto, auto) { ++calls; });
    BOOST_TEST(calls == 0);

    histogram merged;
    merged.merge(h);
    BOOST_TEST(merged.empty());
    BOOST_TEST(merged.min() == 0u);

    h.record(5);
    h.record(7);
    h.reset();
    BOOST_TEST(h.empty());
    BOOST_TEST(h.min() == 0u);
    BOOST_TEST(h.max() == 0u);
    BOOST_TEST(h.percentile(50) == 0u);
    h.record(9);
    BOOST_TEST(h.min() == 9u);
    BOOST_TEST(h.max() == 9u);
}

// Export, reset, merge and subtract scan only the buckets between min and max (histogram::span):
// values at both ends of the range, and clamped ones, must all be found, and a state whose
// buckets lie outside its own [min, max] (a corrupt file) refused.
BOOST_AUTO_TEST_CASE(scans_between_min_and_max_miss_nothing)
{
    const std::vector<std::uint64_t> values = {0, 1, 4095, 4096, 1'000'000, 5 * hour, u64_max};
    for (std::size_t lo = 0; lo < values.size(); ++lo)
        for (std::size_t hi = lo; hi < values.size(); ++hi) {
            histogram h;
            h.record(values[lo]);
            h.record(values[hi], 3);
            // Values above the highest trackable one (1 h) share the top bucket.
            const bool one_bucket = lo == hi || (values[lo] > hour && values[hi] > hour);
            const auto s = h.export_state();
            BOOST_TEST(s.buckets.size() == (one_bucket ? 1u : 2u));
            histogram merged, from_state;
            merged.merge(h);
            from_state.merge(s);
            check_same(merged, h);
            check_same(from_state, h);
            // Rank 1 is the low value's bucket, found from the start of the span (a clamped
            // value reads as the top bucket's).
            if (values[lo] <= hour) {
                BOOST_TEST(h.percentile(25) >= values[lo]);
                BOOST_TEST((h.percentile(25) < values[hi]) == !one_bucket);
            }
            BOOST_TEST(h.percentile(100) == values[hi]);
            // A subtraction leaves the later values only, found at both ends.
            histogram later = h;
            later.record(values[lo], 2);
            later.subtract(h);
            BOOST_TEST(later.count() == 2u);
            BOOST_TEST(later.export_state().buckets.size() == 1u);
            // A reset leaves no bucket behind, at either end.
            h.reset();
            BOOST_TEST(h.export_state().buckets.empty());
            h.record(2);
            BOOST_TEST(h.export_state().buckets.size() == 1u);
            BOOST_TEST(h.percentile(100) == 2u);
            histogram again;
            again.merge(h.export_state());
            BOOST_TEST(again.count() == 1u);
        }

    histogram h;
    h.record(10);
    h.record(1'000'000);
    auto s = h.export_state();
    s.max = 10;  // the 1'000'000 bucket is now above max
    BOOST_CHECK_THROW(histogram().merge(s), std::invalid_argument);
    s = h.export_state();
    s.min = 500;  // the 10 bucket is now below min
    BOOST_CHECK_THROW(histogram().merge(s), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(exact_figures)
{
    histogram h;
    for (std::uint64_t v : {1, 2, 3, 4}) h.record(v);
    BOOST_TEST(h.count() == 4u);
    BOOST_TEST(h.mean() == 2.5);
    BOOST_TEST(h.stddev() == std::sqrt(1.25));
    BOOST_TEST(h.percentile(25) == 1u);
    BOOST_TEST(h.percentile(25.1) == 2u);
    BOOST_TEST(h.percentile(50) == 2u);
    BOOST_TEST(h.percentile(75) == 3u);
    BOOST_TEST(h.percentile(99) == 4u);
    BOOST_TEST(h.percentile(-5) == 1u);
    BOOST_TEST(h.percentile(150) == 4u);

    // 3 digits: 2048 sub-buckets, so 1'000'000 (2^19.9) lies in a bucket 2^9 = 512 wide.
    histogram g;
    g.record(1'000'000);
    g.record(1'000'001);
    BOOST_TEST(g.percentile(50) == 1'000'001u); // 1'000'447 capped at max()
    g.record(2'000'000);
    BOOST_TEST(g.percentile(50) == 1'000'447u); // highest value of [999'936, 1'000'448)
    BOOST_TEST(g.percentile(66.7) == 2'000'000u);
    std::vector<std::tuple<std::uint64_t, std::uint64_t, std::uint64_t>> buckets;
    g.for_each_bucket([&](auto lo, auto hi, auto c) { buckets.emplace_back(lo, hi, c); });
    // 2'000'000 (2^20.9) is in a bucket 2^10 wide.
    const decltype(buckets) expected = {{999'936, 1'000'447, 2}, {1'999'872, 2'000'895, 1}};
    BOOST_TEST((buckets == expected));
}

BOOST_AUTO_TEST_CASE(record_with_count_equals_repeated_records)
{
    histogram a, b;
    for (const std::uint64_t v : {std::uint64_t(0), std::uint64_t(17), std::uint64_t(123'456'789),
                                  5 * hour, u64_max}) {
        a.record(v, 1000);
        for (int i = 0; i < 1000; ++i) b.record(v);
    }
    a.record(42, 0); // counts nothing
    check_same(a, b);
    BOOST_TEST(a.clamped() == 2000u);
    BOOST_TEST(a.max() == u64_max);
}

BOOST_AUTO_TEST_CASE(huge_values_keep_exact_aggregates)
{
    histogram h;
    h.record(u64_max);
    h.record(u64_max);
    h.record(u64_max - 2);
    BOOST_TEST(h.mean() == double(u64_max) - 2.0 / 3.0, boost::test_tools::tolerance(1e-15));
    BOOST_TEST(h.stddev() == std::sqrt(8.0 / 9.0), boost::test_tools::tolerance(1e-9));
    BOOST_TEST(h.clamped() == 3u);
    BOOST_TEST(h.percentile(100) == u64_max);
    BOOST_TEST(h.percentile(50) <= hour + hour / 1000);
}

BOOST_DATA_TEST_CASE(buckets_tile_the_range_within_precision, data::make({1, 2, 3, 4, 5}), digits)
{
    histogram h(digits);
    for (std::uint64_t v = 0; v < 64; ++v) h.record(v);
    for (unsigned k = 6; k < 42; ++k) {
        h.record((std::uint64_t(1) << k) - 1);
        h.record(std::uint64_t(1) << k);
    }
    std::uint64_t previous_hi = 0;
    bool first = true;
    h.for_each_bucket([&](std::uint64_t lo, std::uint64_t hi, std::uint64_t c) {
        BOOST_TEST(c >= 1u);
        BOOST_TEST(lo <= hi);
        BOOST_TEST((first || lo > previous_hi));
        BOOST_TEST((hi - lo) * pow10(digits) <= lo); // width / lowest <= 10^-digits
        previous_hi = hi;
        first = false;
    });
}

BOOST_AUTO_TEST_CASE(rejects_bad_configuration_and_mixed_layouts)
{
    BOOST_CHECK_THROW(histogram(0), std::invalid_argument);
    BOOST_CHECK_THROW(histogram(6), std::invalid_argument);
    BOOST_CHECK_THROW(histogram(3, 0), std::invalid_argument);
    histogram a(3), b(2), c(3, 1'000'000);
    BOOST_TEST(a.same_layout(histogram()));
    BOOST_TEST(!a.same_layout(b));
    BOOST_TEST(!a.same_layout(c));
    BOOST_CHECK_THROW(a.merge(b), std::invalid_argument);
    BOOST_CHECK_THROW(a.merge(c), std::invalid_argument);
    BOOST_TEST(histogram().memory_bytes() == 270'336u);
}

BOOST_AUTO_TEST_CASE(wide_multiplication_matches_portable_form)
{
    namespace d = wsload::stats::detail;
    std::mt19937_64 rng(7);
    for (int i = 0; i < 100'000; ++i) {
        const std::uint64_t a = i < 4 ? u64_max - std::uint64_t(i) : rng();
        const std::uint64_t b = i < 4 ? u64_max : rng() >> (i % 64);
        BOOST_TEST_REQUIRE((d::mul_wide(a, b) == d::mul_wide_portable(a, b)));
    }
    BOOST_TEST((d::mul_wide_portable(u64_max, u64_max) == d::wide<2>{1, u64_max - 1}));
}

BOOST_AUTO_TEST_CASE(reader_merges_while_writer_records, *boost::unit_test::timeout(60))
{
    // Values 2^40 + i make every square carry across limbs, so a torn read of the sums would
    // show as a mean or stddev far from the closed form for that count.
    constexpr std::uint64_t base = std::uint64_t(1) << 40, n = 2'000'000;
    histogram h;
    std::atomic<bool> done{false};
    std::thread writer([&] {
        for (std::uint64_t i = 0; i < n; ++i) h.record(base + i);
        done.store(true, std::memory_order_release);
    });
    std::uint64_t previous = 0, snapshots = 0, bad = 0;
    while (!done.load(std::memory_order_acquire) || snapshots == 0) {
        histogram snap;
        snap.merge(h);
        const std::uint64_t c = snap.count();
        ++snapshots;
        if (c < previous) ++bad;
        previous = c;
        if (c == 0) continue;
        const double mean = double(base) + double(c - 1) / 2;
        const double sd = std::sqrt((double(c) * double(c) - 1) / 12);
        if (snap.mean() != mean || std::abs(snap.stddev() - sd) > 1e-6 * sd + 1e-9) ++bad;
        if (snap.min() != base || snap.max() != base + c - 1) ++bad;
    }
    writer.join();
    BOOST_TEST(bad == 0u);
    BOOST_TEST_MESSAGE(snapshots << " snapshots taken while recording");
    const histogram final_copy(h);
    BOOST_TEST(final_copy.count() == n);
    BOOST_TEST(final_copy.max() == base + n - 1);
}

// Scans read only the buckets between min and max: whatever was written before a reset, or
// outside what a subtract leaves, must never come back, and what is written anywhere (first
// bucket, top bucket, a merged state) must be found.
BOOST_AUTO_TEST_CASE(scans_see_exactly_what_was_written_since_the_last_reset)
{
    using bucket_list = std::vector<std::pair<std::uint32_t, std::uint64_t>>;
    const auto buckets_of = [](const histogram& h) { return h.export_state().buckets; };
    const auto single = [](std::uint64_t v) {
        histogram one;
        one.record(v);
        return one.export_state().buckets;
    };

    histogram h;
    h.record(0);
    h.record(hour + 1);  // clamped: the top bucket
    h.record(1'000'000);
    BOOST_TEST(h.export_state().buckets.size() == 3u);
    h.reset();
    BOOST_TEST(buckets_of(h).empty());
    BOOST_TEST(h.percentile(100) == 0u);
    h.record(7);
    h.record(7);
    BOOST_TEST((buckets_of(h) == bucket_list{{single(7)[0].first, 2}}));
    BOOST_TEST(h.percentile(50) == 7u);
    BOOST_TEST(h.percentile(99.9) == 7u);

    // A subtract leaves the span of what is left: the earlier values are gone for good.
    histogram a;
    a.record(10);
    a.record(2'000'000'000);
    const histogram earlier = a;
    a.record(20);
    a.subtract(earlier);
    BOOST_TEST((buckets_of(a) == single(20)));
    BOOST_TEST(a.percentile(1) == 20u);
    a.reset();
    a.record(3);
    BOOST_TEST((buckets_of(a) == single(3)));
    BOOST_TEST(a.count() == 1u);

    // Merged in from a state and from a histogram: found by every scan, then cleared by reset.
    histogram m;
    m.record(hour * 2);  // top bucket
    histogram to;
    to.merge(m.export_state());
    to.merge(h);
    BOOST_TEST(to.count() == 3u);
    BOOST_TEST(to.percentile(50) == 7u);
    BOOST_TEST(to.percentile(100) == hour * 2);
    std::uint64_t visited = 0;
    to.for_each_bucket([&](std::uint64_t, std::uint64_t, std::uint64_t c) { visited += c; });
    BOOST_TEST(visited == 3u);
    to.reset();
    to.record(5);
    histogram check;
    check.merge(to.export_state());  // throws if a stale bucket made the counts disagree
    BOOST_TEST((buckets_of(check) == single(5)));

    // Copies and assignments carry the span with the counts.
    histogram copy = to;
    BOOST_TEST((buckets_of(copy) == single(5)));
    copy = m;
    BOOST_TEST((buckets_of(copy) == single(hour * 2)));
}

BOOST_AUTO_TEST_SUITE_END()
