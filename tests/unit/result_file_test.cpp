#ifndef BOOST_TEST_DYN_LINK
#define BOOST_TEST_DYN_LINK
#endif
// Result files: what is written reads back the same, and merging the files of three runs
// gives the same totals and percentiles as one run that recorded everything.
#include <support/report_text.hpp>
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

/// A result file as wsload wrote it before requests were counted by class (the writer of
/// commit bddb1d9, run on a small run: 3 attempts, 1 refused; 5 requests, 4 answered, 1 failed),
/// its environment cut to what is read. No "request_totals".
constexpr const char* file_before_request_classes =
    R"({"schema":"wsload.result/1","scenario":"old","config":{"target":"ws://127.0.0.1:9000/ws","users":2,"ramp_s":0E0,)"
    R"("duration_s":0E0,"ping_interval_s":0E0,"connect_timeout_s":1E1,"threads":1,"seed":0},"run":{"elapsed_s":1E0,)"
    R"("interrupted":false,"ended_early":false,"exit_status":0},"connections":{"attempted":3,"succeeded":2,)"
    R"("failed":1,"success_rate":6.666666666666667E1,"open_at_end":0,"failures":{"dns":0,"refused":1,"timeout":0,)"
    R"("tls":0,"http_status":0,"handshake":0,"reset":0,"aborted":0,"local_limit":0,"other":0},"http_statuses":{},)"
    R"("disconnects":{"normal":0,"going_away":0,"protocol_error":0,"message_too_big":0,"server_close":0,"network":0,)"
    R"("ping_timeout":0,"client_close":0,"client_stop":2,"peer_close":0},"disconnects_total":2,"close_codes":{}},)"
    R"("latency_ms":{"connect":{"count":2,"min":1E0,"max":1E0,"mean":1E0,"stddev":0E0,"p50":1E0,"p90":1E0,"p95":1E0,)"
    R"("p99":1E0},"connect_tcp":{"count":0,"min":0E0,"max":0E0,"mean":0E0,"stddev":0E0,"p50":0E0,"p90":0E0,)"
    R"("p95":0E0,"p99":0E0},"connect_tls":{"count":0,"min":0E0,"max":0E0,"mean":0E0,"stddev":0E0,"p50":0E0,)"
    R"("p90":0E0,"p95":0E0,"p99":0E0},"connect_upgrade":{"count":0,"min":0E0,"max":0E0,"mean":0E0,"stddev":0E0,)"
    R"("p50":0E0,"p90":0E0,"p95":0E0,"p99":0E0},"round_trip":{"count":4,"min":2E0,"max":2E0,"mean":2E0,"stddev":0E0,)"
    R"("p50":2E0,"p90":2E0,"p95":2E0,"p99":2E0},"ping_round_trip":{"count":0,"min":0E0,"max":0E0,"mean":0E0,)"
    R"("stddev":0E0,"p50":0E0,"p90":0E0,"p95":0E0,"p99":0E0}},"histograms":{"connect":{"digits":3,"highest_ns":3600000000000,)"
    R"("count":2,"clamped":0,"min_ns":1000000,"max_ns":1000000,"sum_limbs":["2000000","0"],"sum_squares_limbs":["2000000000000",)"
    R"("0","0"],"buckets":[[11169,2]]},"connect_tcp":{"digits":3,"highest_ns":3600000000000,"count":0,"clamped":0,)"
    R"("min_ns":0,"max_ns":0,"sum_limbs":["0","0"],"sum_squares_limbs":["0","0","0"],"buckets":[]},"connect_tls":{"digits":3,)"
    R"("highest_ns":3600000000000,"count":0,"clamped":0,"min_ns":0,"max_ns":0,"sum_limbs":["0","0"],"sum_squares_limbs":["0",)"
    R"("0","0"],"buckets":[]},"connect_upgrade":{"digits":3,"highest_ns":3600000000000,"count":0,"clamped":0,)"
    R"("min_ns":0,"max_ns":0,"sum_limbs":["0","0"],"sum_squares_limbs":["0","0","0"],"buckets":[]},"round_trip":{"digits":3,)"
    R"("highest_ns":3600000000000,"count":4,"clamped":0,"min_ns":2000000,"max_ns":2000000,"sum_limbs":["8000000",)"
    R"("0"],"sum_squares_limbs":["16000000000000","0","0"],"buckets":[[12193,4]]},"ping_round_trip":{"digits":3,)"
    R"("highest_ns":3600000000000,"count":0,"clamped":0,"min_ns":0,"max_ns":0,"sum_limbs":["0","0"],"sum_squares_limbs":["0",)"
    R"("0","0"],"buckets":[]}},"requests":[{"type":"WS","name":"round trip","sent":5,"answered":4,"timed_out":0,)"
    R"("failed":1,"rejected":0,"latency_ms":{"count":4,"min":2E0,"max":2E0,"mean":2E0,"stddev":0E0,"p50":2E0,)"
    R"("p90":2E0,"p95":2E0,"p99":2E0},"round_trip":{"digits":3,"highest_ns":3600000000000,"count":4,"clamped":0,)"
    R"("min_ns":2000000,"max_ns":2000000,"sum_limbs":["8000000","0"],"sum_squares_limbs":["16000000000000",)"
    R"("0","0"],"buckets":[[12193,4]]}}],"timeseries":{"interval_s":1,"columns":["t","active","new_connections",)"
    R"("connect_failures","disconnects","messages_sent","messages_received","bytes_sent","bytes_received","round_trips",)"
    R"("round_trip_p50_ns","round_trip_p99_ns"],"rows":[[1,2,2,1,0,5,4,0,0,4,2000000,2000000]],"round_trip_histograms":[{"digits":3,)"
    R"("highest_ns":3600000000000,"count":4,"clamped":0,"min_ns":2000000,"max_ns":2000000,"sum_limbs":["8000000",)"
    R"("0"],"sum_squares_limbs":["16000000000000","0","0"],"buckets":[[12193,4]]}]},"environment":{"started_at_unix_ms":1700000000000},)"
    R"("thresholds":[],"grades":[],"counters":{"connect_attempts":3,"connect_successes":2,"active_connections":0,)"
    R"("messages_sent":5,"messages_received":4,"bytes_sent":0,"bytes_received":0,"pings_sent":0,"pongs_received":0,)"
    R"("pongs_missed":0,"requests_sent":5,"requests_answered":4,"requests_timed_out":0,"requests_failed":1,)"
    R"("users_started":0,"users_finished":0,"behaviour_errors":0,"inbox_dropped":0,"requests_rejected":0,"tls_sessions_resumed":0},)"
    R"("rates":{"messages_sent_per_s":5E0,"messages_received_per_s":4E0,"pong_rate":0E0}})";

/// Requests over HTTP and WebSocket: 10 sent, 6 answered (200 x5 and a status past 599, read
/// as 0), 1 rejected (404), 3 failed (closed x2, reset); times `scale` when given.
std::unique_ptr<stats::shard> shard_with_request_classes(std::uint64_t scale = 1)
{
    auto s = std::make_unique<stats::shard>();
    for (std::uint64_t k = 0; k < scale; ++k) {
        (*s)[stats::counter_id::requests_sent].add(10);
        (*s)[stats::counter_id::requests_answered].add(6);
        (*s)[stats::counter_id::requests_rejected].add(1);
        for (int i = 0; i < 5; ++i) s->count_http_response(200);
        s->count_http_response(999);
        s->count_http_response(404);
        s->count_request_failure(stats::request_failure::closed);
        s->count_request_failure(stats::request_failure::closed);
        s->count_request_failure(stats::request_failure::reset);
    }
    return s;
}

/// `shard` written as a result file and read back, through text.
report::loaded_result through_a_file(const stats::shard& shard, const std::string& name)
{
    const auto r = run_of({&shard}, {{2'000'000}}, std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000)));
    return wsload::test::through_result_text(wsload::describe(config_of(5)), r, name);
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

BOOST_AUTO_TEST_CASE(request_classes_and_http_responses_are_written_under_request_totals_and_read_back)
{
    const auto s = shard_with_request_classes();
    const auto r = run_of({s.get()}, {}, std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000)));
    const auto doc = report::result_document(wsload::describe(config_of(5)), r, report::judge(r, {}));
    BOOST_TEST(boost::json::serialize(doc.at("request_totals")) ==
               R"({"sent":10,"answered":6,"rejected":1,"timed_out":0,"failed":3,)"
               R"("failures":{"not_connected":0,"closed":2,"reset":1,"too_large":0,"unparsable":0,"stopped":0,"other":0},)"
               R"("http_responses":{"0":1,"200":5,"404":1}})");

    const auto loaded = through_a_file(*s, "http.json");
    const auto& t = *loaded.result.totals;
    BOOST_TEST(t.request_failures == r.totals->request_failures);
    BOOST_TEST(t.http_responses == r.totals->http_responses);
    BOOST_TEST(t[stats::counter_id::requests_failed] == 3u);
    BOOST_TEST(t.failed(stats::request_failure::closed) == 2u);
    BOOST_TEST(t.http_responses[200] == 5u);
    BOOST_TEST(t.http_responses[0] == 1u);
    // The run's timer slack (issue 18) is stated in the file and read back.
    BOOST_TEST(doc.at("config").at("timer_slack_s").as_double() == 0.0005);
    BOOST_TEST(loaded.config.timer_slack.count() == 500'000);
}

BOOST_AUTO_TEST_CASE(merging_adds_request_classes_and_http_responses_exactly)
{
    const auto a = shard_with_request_classes(1);
    auto b = shard_with_request_classes(3);
    b->count_request_failure(stats::request_failure::not_connected);
    b->count_http_response(503);
    std::vector<report::loaded_result> parts;
    parts.push_back(through_a_file(*a, "a.json"));
    parts.push_back(through_a_file(*b, "b.json"));
    const auto merged = report::merge_results(std::move(parts));
    const auto& m = *merged.result.totals;
    using F = stats::request_failure;
    BOOST_TEST(m.failed(F::not_connected) == 1u);
    BOOST_TEST(m.failed(F::closed) == 8u);
    BOOST_TEST(m.failed(F::reset) == 4u);
    BOOST_TEST(m.failed(F::other) == 0u);
    BOOST_TEST(m[stats::counter_id::requests_failed] == 13u);
    BOOST_TEST(m.http_responses[200] == 20u);
    BOOST_TEST(m.http_responses[404] == 4u);
    BOOST_TEST(m.http_responses[503] == 1u);
    BOOST_TEST(m.http_responses[0] == 4u);
    const stats::shard* both[] = {a.get(), b.get()};
    const auto expected = stats::collect<stats::counter_totals>(both);
    BOOST_TEST(m.request_failures == expected->request_failures);
    BOOST_TEST(m.http_responses == expected->http_responses);

    // What `wsload-report merge` writes carries the sums.
    const auto doc = report::result_document(merged.config, merged.result, report::judge(merged.result, {}));
    const auto& totals = doc.at("request_totals").as_object();
    BOOST_TEST(totals.at("failed").to_number<std::uint64_t>() == 13u);
    BOOST_TEST(boost::json::serialize(totals.at("failures")) ==
               R"({"not_connected":1,"closed":8,"reset":4,"too_large":0,"unparsable":0,"stopped":0,"other":0})");
    BOOST_TEST(boost::json::serialize(totals.at("http_responses")) == R"({"0":4,"200":20,"404":4,"503":1})");
}

BOOST_AUTO_TEST_CASE(a_file_from_before_request_classes_loads_its_failures_as_other_and_merges)
{
    const auto old = report::load_result(boost::json::parse(file_before_request_classes).as_object(), "old.json");
    const auto& t = *old.result.totals;
    BOOST_TEST(t[stats::counter_id::requests_sent] == 5u);
    BOOST_TEST(t[stats::counter_id::requests_failed] == 1u);
    // The file does not say which class: `other`, so that the classes still sum to the total.
    BOOST_TEST(t.failed(stats::request_failure::other) == 1u);
    BOOST_TEST(t.failed(stats::request_failure::closed) == 0u);
    BOOST_TEST(t.http_responses == (std::array<std::uint64_t, stats::http_status_limit>{}));
    BOOST_TEST(t.failed(stats::connect_failure::refused) == 1u);
    BOOST_TEST(t[stats::histogram_id::round_trip].count() == 4u);
    // Nor has it the generator's figures (issue 18): no workers, and its 12 columns read by
    // name, the generator's as 0.
    BOOST_TEST(old.result.generator.empty());
    BOOST_TEST(old.config.timer_slack.count() == 0);  // written before --timer-slack: none stated
    BOOST_REQUIRE(old.result.series.size() == 1u);
    BOOST_TEST(old.result.series[0].messages_sent == 5u);
    BOOST_TEST(old.result.series[0].round_trip_p99_ns == 2'000'000u);
    BOOST_TEST(old.result.series[0].late_sends == 0u);
    BOOST_TEST(old.result.series[0].generator_limited == 0u);

    const auto recent = shard_with_request_classes();
    std::vector<report::loaded_result> parts;
    parts.push_back(report::load_result(boost::json::parse(file_before_request_classes).as_object(), "old.json"));
    parts.push_back(through_a_file(*recent, "new.json"));
    const auto merged = report::merge_results(std::move(parts));
    const auto& m = *merged.result.totals;
    BOOST_TEST(m[stats::counter_id::requests_failed] == 4u);
    const stats::shard* only_recent[] = {recent.get()};
    const auto recent_totals = stats::collect<stats::counter_totals>(only_recent);
    // The old file adds its one failure as `other`, nothing else.
    auto expected = recent_totals->request_failures;
    expected[static_cast<std::size_t>(stats::request_failure::other)] += 1;
    BOOST_TEST(m.request_failures == expected);
    std::uint64_t classes = 0;
    for (auto n : m.request_failures) classes += n;
    BOOST_TEST(classes == m[stats::counter_id::requests_failed]);
    BOOST_TEST(m.http_responses == recent_totals->http_responses);
    BOOST_TEST(m.failed(stats::request_failure::closed) == 2u);
    BOOST_TEST(m.failed(stats::request_failure::reset) == 1u);
    BOOST_TEST(m.http_responses[200] == 5u);
    BOOST_TEST(m.failed(stats::connect_failure::refused) == 1u);
}

BOOST_AUTO_TEST_CASE(unusable_files_are_usage_errors)
{
    BOOST_CHECK_THROW(report::load_result(boost::json::object{{"schema", "other/1"}}, "x.json"), wsload::usage_error);
    BOOST_CHECK_THROW(report::load_result(boost::json::object{{"schema", "wsload.result/1"}}, "x.json"), wsload::usage_error);
    BOOST_CHECK_THROW(report::load_result_file("/nonexistent/result.json"), wsload::usage_error);
    BOOST_CHECK_THROW(report::merge_results({}), wsload::usage_error);
}

BOOST_AUTO_TEST_SUITE_END()
