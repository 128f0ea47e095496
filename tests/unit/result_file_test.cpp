#ifndef BOOST_TEST_DYN_LINK
#define BOOST_TEST_DYN_LINK
#endif
// Result files: what is written reads back the same, and merging the files of three runs
// gives the same totals and percentiles as one run that recorded everything.
#include <wsload/report/json.hpp>
#include <wsload/report/result_file.hpp>
#include <wsload/runtime/run_config.hpp>

#include <boost/test/unit_test.hpp>

#include <random>

namespace report = wsload::report;
namespace stats = wsload::stats;
using namespace std::chrono_literals;

namespace {

/// A run whose every figure comes from `shards`; the time series has one row per second
/// with a round-trip histogram each.
wsload::stats::run_result run_of(const std::vector<const stats::shard*>& shards,
                                   const std::vector<std::vector<std::uint64_t>>& rtt_by_second,
                                   std::chrono::system_clock::time_point start)
{
    wsload::stats::run_result r;
    r.totals = stats::collect<stats::totals>(shards);
    r.elapsed = std::chrono::seconds(rtt_by_second.size());
    r.started_at = start;
    for (std::size_t k = 0; k < rtt_by_second.size(); ++k) {
        stats::histogram h;
        for (auto v : rtt_by_second[k]) h.record(v);
        stats::second row;
        row.t = static_cast<std::uint32_t>(k + 1);
        row.messages_received = h.count();
        row.round_trips = h.count();
        row.round_trip_p50_ns = h.percentile(50);
        row.round_trip_p99_ns = h.percentile(99);
        r.series.push_back(row);
        r.series_round_trips.push_back(h.export_state());
    }
    return r;
}

wsload::run_config config_of(std::uint64_t users)
{
    wsload::run_config c;
    c.name = "merge-test";
    c.target = wsload::net::parse_url("ws://127.0.0.1:9000/ws");
    c.users = users;
    c.threads = 1;
    c.thresholds = {"connect.p99 < 1s"};
    return c;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(result_files)

BOOST_AUTO_TEST_CASE(three_files_merge_to_exactly_one_run_of_everything)
{
    std::mt19937_64 rng(42);
    std::lognormal_distribution<double> latency(13.0, 1.0);  // ~0.4 ms median, long tail
    const auto start = std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000));

    stats::shard all;
    std::vector<std::unique_ptr<stats::shard>> parts;
    std::vector<std::vector<std::uint64_t>> all_seconds(3);
    std::vector<std::vector<std::vector<std::uint64_t>>> part_seconds(3, std::vector<std::vector<std::uint64_t>>(3));
    for (int p = 0; p < 3; ++p) parts.push_back(std::make_unique<stats::shard>());
    for (int i = 0; i < 30'000; ++i) {
        const int p = i % 3, second = (i / 7) % 3;
        const auto v = static_cast<std::uint64_t>(latency(rng));
        for (auto* s : {&all, parts[p].get()}) {
            (*s)[stats::histogram_id::round_trip].record(v);
            (*s)[stats::histogram_id::connect].record(v / 2);
            (*s)[stats::counter_id::messages_received].add();
        }
        // Named requests, met in a different order by each part: merged by (type, name).
        const char* name = i % 5 == 0 ? "login" : "send message";
        for (auto* s : {&all, parts[p].get()}) {
            auto& named = s->requests.find("WS", name);
            named.sent.add();
            if (i % 97 == 0) {
                named.timed_out.add();
            } else {
                named.round_trip.record(v);
                named.answered.add();
            }
        }
        all_seconds[second].push_back(v);
        part_seconds[p][second].push_back(v);
        if (i % 1000 == 0) {
            all.count_failure(stats::connect_failure::http_status, 503);
            parts[p]->count_failure(stats::connect_failure::http_status, 503);
        }
    }

    std::vector<report::loaded_result> loaded;
    for (int p = 0; p < 3; ++p) {
        const auto r = run_of({parts[p].get()}, part_seconds[p], start + std::chrono::milliseconds(100 * p));
        const auto doc = report::result_document(wsload::describe(config_of(10)), r, report::judge(r, {report::parse_threshold("connect.p99 < 1s")}));
        // Through text, as a file would go.
        const auto reparsed = boost::json::parse(boost::json::serialize(doc)).as_object();
        loaded.push_back(report::load_result(reparsed, "part" + std::to_string(p)));
    }
    const auto merged = report::merge_results(std::move(loaded));
    const auto whole = run_of({&all}, all_seconds, start);

    const auto& m = *merged.result.totals;
    const auto& w = *whole.totals;
    BOOST_TEST(m.counters == w.counters);
    BOOST_TEST(m.connect_failures == w.connect_failures);
    BOOST_TEST(m.http_statuses[503] == w.http_statuses[503]);
    for (std::size_t i = 0; i < stats::histogram_count; ++i) {
        const auto &a = m.histograms[i], &b = w.histograms[i];
        BOOST_TEST(a.count() == b.count());
        BOOST_TEST(a.min() == b.min());
        BOOST_TEST(a.max() == b.max());
        BOOST_TEST(a.mean() == b.mean());
        BOOST_TEST(a.stddev() == b.stddev());
        for (double p = 0; p <= 100; p += 0.5) BOOST_REQUIRE(a.percentile(p) == b.percentile(p));
    }
    BOOST_REQUIRE(m.requests.size() == 2u);
    for (const auto& [key, b] : w.requests) {
        const auto it = m.requests.find(key);
        BOOST_REQUIRE(it != m.requests.end());
        const auto& a = it->second;
        BOOST_TEST(a.sent == b.sent);
        BOOST_TEST(a.answered == b.answered);
        BOOST_TEST(a.timed_out == b.timed_out);
        BOOST_TEST(a.failed == b.failed);
        BOOST_TEST(a.round_trip.count() == b.round_trip.count());
        BOOST_TEST(a.round_trip.mean() == b.round_trip.mean());
        for (double p = 0; p <= 100; p += 0.5) BOOST_REQUIRE(a.round_trip.percentile(p) == b.round_trip.percentile(p));
    }
    BOOST_TEST(merged.config.users == 30u);
    BOOST_REQUIRE(merged.result.series.size() == 3u);  // starts 0.1 s apart: the same seconds
    for (std::size_t k = 0; k < 3; ++k) {
        BOOST_TEST(merged.result.series[k].round_trips == whole.series[k].round_trips);
        BOOST_TEST(merged.result.series[k].round_trip_p50_ns == whole.series[k].round_trip_p50_ns);
        BOOST_TEST(merged.result.series[k].round_trip_p99_ns == whole.series[k].round_trip_p99_ns);
    }
    BOOST_TEST(merged.config.thresholds.size() == 1u);
}

BOOST_AUTO_TEST_CASE(unusable_files_are_usage_errors)
{
    BOOST_CHECK_THROW(report::load_result(boost::json::object{{"schema", "other/1"}}, "x.json"), wsload::usage_error);
    BOOST_CHECK_THROW(report::load_result(boost::json::object{{"schema", "wsload.result/1"}}, "x.json"), wsload::usage_error);
    BOOST_CHECK_THROW(report::load_result_file("/nonexistent/result.json"), wsload::usage_error);
    BOOST_CHECK_THROW(report::merge_results({}), wsload::usage_error);
}

BOOST_AUTO_TEST_SUITE_END()
