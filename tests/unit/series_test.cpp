#ifndef BOOST_TEST_DYN_LINK
#define BOOST_TEST_DYN_LINK
#endif
// The time series of a long run without holding it (issue 18): per-second histograms spilled
// to a file and read back exactly, seconds merged as the threads cut them, and the result file
// written from the spill byte for byte as the document in memory would be.
#include <wsload/report/json.hpp>
#include <wsload/report/result_file.hpp>
#include <wsload/runtime/run_config.hpp>
#include <wsload/stats/histogram_spill.hpp>
#include <wsload/stats/series_merge.hpp>

#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace {

namespace stats = wsload::stats;
using stats::histogram;
using namespace std::chrono_literals;

/// Every field of two states, buckets included.
void check_same_state(const histogram::state& a, const histogram::state& b)
{
    BOOST_TEST(a.digits == b.digits);
    BOOST_TEST(a.highest == b.highest);
    BOOST_TEST(a.count == b.count);
    BOOST_TEST(a.clamped == b.clamped);
    BOOST_TEST(a.min == b.min);
    BOOST_TEST(a.max == b.max);
    BOOST_TEST(a.sum == b.sum);
    BOOST_TEST(a.sum_squares == b.sum_squares);
    BOOST_REQUIRE(a.buckets.size() == b.buckets.size());
    for (std::size_t i = 0; i < a.buckets.size(); ++i) {
        BOOST_TEST(a.buckets[i].first == b.buckets[i].first);
        BOOST_TEST(a.buckets[i].second == b.buckets[i].second);
    }
}

/// A histogram of `n` log-normal round trips (~0.4 ms median), with a value past the 1-h top
/// every 1,000th (clamped: its bucket, min/max and the wide sums all matter).
histogram spill_test_histogram(std::mt19937_64& rng, std::size_t n)
{
    std::lognormal_distribution<double> latency(13.0, 1.5);
    histogram h;
    for (std::size_t i = 0; i < n; ++i)
        h.record(i % 1000 == 999 ? histogram::default_highest_ns * 3 : static_cast<std::uint64_t>(latency(rng)));
    return h;
}

std::vector<histogram::state> read_all(const stats::histogram_spill& spill)
{
    std::vector<histogram::state> out;
    spill.for_each([&](const histogram::state& s) { out.push_back(s); });
    return out;
}

/// Sets an environment variable for a scope.
struct scoped_env {
    scoped_env(const char* name, const char* value) : name_(name)
    {
        if (const char* old = std::getenv(name)) old_ = old, had_ = true;
        ::setenv(name, value, 1);
    }
    ~scoped_env()
    {
        if (had_)
            ::setenv(name_, old_.c_str(), 1);
        else
            ::unsetenv(name_);
    }
    const char* name_;
    std::string old_;
    bool had_ = false;
};

/// One source's second k: counts that identify it, and `n` round trips.
stats::second_record second_of(std::mt19937_64& rng, std::size_t source, std::size_t k, std::chrono::nanoseconds end,
                               std::size_t n)
{
    stats::second_record r;
    r.end = end;
    r.row.active = 10 * (source + 1) + k;
    r.row.new_connections = source + k;
    r.row.messages_sent = 1000 * (source + 1) + k;
    r.row.messages_received = n;
    r.row.bytes_sent = 64 * r.row.messages_sent;
    r.round_trips = spill_test_histogram(rng, n).export_state();
    return r;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(time_series_spill)

BOOST_AUTO_TEST_CASE(states_read_back_exactly_in_order, *boost::unit_test::timeout(60))
{
    std::mt19937_64 rng(18);
    std::vector<histogram::state> written;
    stats::histogram_spill spill;
    BOOST_TEST(spill.empty());
    for (std::size_t k = 0; k < 200; ++k) {
        written.push_back(spill_test_histogram(rng, k % 7 == 0 ? 0 : 50 * k).export_state());
        spill.push_back(written.back());
    }
    written.push_back(histogram(2, 1'000'000).export_state());  // another layout goes through too
    spill.push_back(written.back());
    BOOST_TEST(spill.size() == written.size());
    BOOST_TEST(spill.on_disk());
    const auto back = read_all(spill);
    BOOST_REQUIRE(back.size() == written.size());
    for (std::size_t k = 0; k < back.size(); ++k) check_same_state(back[k], written[k]);
    BOOST_TEST(read_all(spill).size() == written.size());  // reading again starts over

    // Moved, it is the same sequence; appending goes on after it.
    stats::histogram_spill moved = std::move(spill);
    moved.push_back(written.front());
    const auto again = read_all(moved);
    BOOST_REQUIRE(again.size() == written.size() + 1);
    check_same_state(again.back(), written.front());
    check_same_state(again[100], written[100]);
}

BOOST_AUTO_TEST_CASE(with_no_usable_temporary_directory_states_stay_in_memory, *boost::unit_test::timeout(60))
{
    scoped_env tmp("TMPDIR", "/nonexistent/wsload-no-such-dir");
    std::mt19937_64 rng(19);
    stats::histogram_spill spill;
    std::vector<histogram::state> written;
    for (std::size_t k = 0; k < 20; ++k) {
        written.push_back(spill_test_histogram(rng, 100 * k).export_state());
        spill.push_back(written.back());
    }
    BOOST_TEST(!spill.on_disk());
    const auto back = read_all(spill);
    BOOST_REQUIRE(back.size() == written.size());
    for (std::size_t k = 0; k < back.size(); ++k) check_same_state(back[k], written[k]);
}

// Three threads' seconds, handed in as a run hands them (interleaved, one thread lagging, one
// ending a second early, a last partial second of 40 ms), merge to exactly what merging every
// thread's histograms of each second in memory gives.
BOOST_AUTO_TEST_CASE(seconds_merged_as_they_come_equal_merging_in_memory, *boost::unit_test::timeout(60))
{
    std::mt19937_64 rng(20);
    constexpr std::size_t sources = 3, seconds = 6;
    // Source 2 stops one second early; second 6 (index 5) is the partial one, 40 ms long.
    std::vector<std::vector<stats::second_record>> cut(sources);
    for (std::size_t s = 0; s < sources; ++s)
        for (std::size_t k = 0; k < (s == 2 ? seconds - 1 : seconds); ++k) {
            const auto end = k + 1 < seconds ? std::chrono::seconds(k + 1) + std::chrono::milliseconds(s)
                                             : std::chrono::seconds(k) + 40ms;
            cut[s].push_back(second_of(rng, s, k, end, 200 * (s + 1) + 10 * k));
        }

    // What the rows must be: seconds 1..4 on their own, second 5 with the 40 ms tail folded in.
    std::vector<stats::second> expected_rows;
    std::vector<histogram::state> expected_states;
    histogram h;
    for (std::size_t k = 0; k < seconds; ++k) {
        const bool fold = k + 1 == seconds;
        if (!fold) {
            if (k > 0) expected_states.push_back(h.export_state()), h.reset();
            expected_rows.emplace_back();
            expected_rows.back().t = static_cast<std::uint32_t>(k + 1);
        }
        auto& row = expected_rows.back();
        row.active = 0;
        for (std::size_t s = 0; s < sources; ++s) {
            if (k >= cut[s].size()) continue;
            row.active += cut[s][k].row.active;
            row.new_connections += cut[s][k].row.new_connections;
            row.messages_sent += cut[s][k].row.messages_sent;
            row.messages_received += cut[s][k].row.messages_received;
            row.bytes_sent += cut[s][k].row.bytes_sent;
            h.merge(cut[s][k].round_trips);
        }
        if (k + 1 == seconds) expected_states.push_back(h.export_state());
    }
    for (std::size_t i = 0; i < expected_rows.size(); ++i) {
        histogram one;
        one.merge(expected_states[i]);
        expected_rows[i].round_trips = one.count();
        expected_rows[i].round_trip_p50_ns = one.percentile(50);
        expected_rows[i].round_trip_p99_ns = one.percentile(99);
    }
    BOOST_REQUIRE(expected_rows.size() == seconds - 1);

    std::vector<stats::second> rows;
    stats::histogram_spill spilled;
    stats::series_builder builder(sources, rows, spilled);
    // Sources 0 and 1 run ahead; source 2 hands in its seconds two at a time, late.
    std::size_t taken2 = 0;
    for (std::size_t k = 0; k < seconds; ++k) {
        builder.add(1, cut[1][k]);
        builder.add(0, cut[0][k]);
        if (k % 2 == 1)
            for (; taken2 <= k && taken2 < cut[2].size(); ++taken2) builder.add(2, cut[2][taken2]);
        // Nothing is merged before every source has cut it; held back, at most two seconds.
        BOOST_TEST(builder.seconds_merged() == taken2);
        BOOST_TEST(spilled.size() == (taken2 == 0 ? 0 : taken2 - 1));  // the open row is not spilled yet
    }
    for (; taken2 < cut[2].size(); ++taken2) builder.add(2, cut[2][taken2]);
    builder.finish();

    BOOST_REQUIRE(rows.size() == expected_rows.size());
    BOOST_REQUIRE(spilled.size() == expected_rows.size());
    for (std::size_t i = 0; i < rows.size(); ++i) BOOST_TEST(stats::values(rows[i]) == stats::values(expected_rows[i]));
    const auto back = read_all(spilled);
    for (std::size_t i = 0; i < back.size(); ++i) check_same_state(back[i], expected_states[i]);
    // Every round trip of every source is in exactly one row.
    std::uint64_t all = 0, in_rows = 0;
    for (const auto& source : cut)
        for (const auto& r : source) all += r.round_trips.count;
    for (const auto& row : rows) in_rows += row.round_trips;
    BOOST_TEST(in_rows == all);
}

// The result file is written from the spill one histogram at a time; its text is exactly the
// document built whole in memory, and it reads back (and merges) as before.
BOOST_AUTO_TEST_CASE(the_result_file_streamed_from_the_spill_is_the_whole_document, *boost::unit_test::timeout(60))
{
    std::mt19937_64 rng(21);
    stats::shard shard;
    stats::run_result r;
    r.started_at = std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000));
    r.elapsed = 30s;
    std::vector<histogram::state> states;
    for (std::uint32_t k = 0; k < 30; ++k) {
        const auto h = spill_test_histogram(rng, k == 3 ? 0 : 300 + 7 * k);
        shard[stats::histogram_id::round_trip].merge(h);
        stats::second row;
        row.t = k + 1;
        row.round_trips = h.count();
        row.round_trip_p50_ns = h.percentile(50);
        row.round_trip_p99_ns = h.percentile(99);
        r.series.push_back(row);
        states.push_back(h.export_state());
        r.series_round_trips.push_back(states.back());
    }
    const stats::shard* shards[] = {&shard};
    r.totals = stats::collect<stats::totals>(shards);
    wsload::run_config config;
    config.name = "spill \"round_trip_histograms\":[] test";  // the key's text inside a value changes nothing
    config.users = 7;
    config.threads = 2;
    const auto info = wsload::describe(config);
    const auto verdict = wsload::report::judge(r, {});

    std::ostringstream streamed;
    wsload::report::write_result_document(streamed, info, r, verdict);
    const auto whole = boost::json::serialize(wsload::report::result_document(info, r, verdict));
    BOOST_TEST(streamed.str() == whole);

    const auto loaded = wsload::report::load_result(boost::json::parse(streamed.str()).as_object(), "spill.json");
    BOOST_REQUIRE(loaded.result.series.size() == 30u);
    const auto back = read_all(loaded.result.series_round_trips);
    BOOST_REQUIRE(back.size() == states.size());
    histogram sum;
    for (std::size_t k = 0; k < back.size(); ++k) {
        check_same_state(back[k], states[k]);
        sum.merge(back[k]);
    }
    // The seconds' histograms add up to the run's round-trip histogram, exactly.
    const auto& total = (*loaded.result.totals)[stats::histogram_id::round_trip];
    BOOST_TEST(sum.count() == total.count());
    check_same_state(sum.export_state(), total.export_state());

    // Two copies merge second by second: each row's histogram is the second's twice over.
    std::vector<wsload::report::loaded_result> parts;
    parts.push_back(wsload::report::load_result(boost::json::parse(streamed.str()).as_object(), "a.json"));
    parts.push_back(wsload::report::load_result(boost::json::parse(whole).as_object(), "b.json"));
    const auto merged = wsload::report::merge_results(std::move(parts));
    BOOST_REQUIRE(merged.result.series.size() == 30u);
    const auto merged_states = read_all(merged.result.series_round_trips);
    for (std::size_t k = 0; k < merged_states.size(); ++k) {
        histogram twice;
        twice.merge(states[k]);
        twice.merge(states[k]);
        check_same_state(merged_states[k], twice.export_state());
        BOOST_TEST(merged.result.series[k].round_trips == 2 * states[k].count);
        BOOST_TEST(merged.result.series[k].round_trip_p99_ns == twice.percentile(99));
    }
}

// The streamed file writes each second's state as text directly: byte for byte what
// serialize(to_json(state)) writes, at the edges too (empty; every figure at its largest).
BOOST_AUTO_TEST_CASE(a_state_is_written_as_serialize_writes_it)
{
    const auto same = [](const histogram::state& state) {
        std::string direct = "x";  // appended to, not replaced
        wsload::report::append_json(direct, state);
        BOOST_TEST(direct == "x" + boost::json::serialize(wsload::report::to_json(state)));
    };
    same(histogram().export_state());
    histogram h(5, 7'200'000'000'000);
    for (std::uint64_t v : {0ull, 1ull, 99'999ull, 123'456'789ull, 7'200'000'000'000ull, ~0ull}) h.record(v, v % 7 + 1);
    same(h.export_state());
    histogram::state big;
    big.digits = 5;
    big.highest = big.count = big.clamped = big.min = big.max = ~0ull;
    big.sum = {~0ull, ~0ull};
    big.sum_squares = {~0ull, 0, ~0ull};
    big.buckets = {{0u, 1u}, {~0u, ~0ull}};
    same(big);
}

BOOST_AUTO_TEST_SUITE_END()
