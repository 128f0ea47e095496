#ifndef BOOST_TEST_DYN_LINK
#define BOOST_TEST_DYN_LINK
#endif
// The generator's own health (issue 18, item 5): busy share, event-loop lag and late sends are
// computed and recorded as documented, their warnings say which worker and what figure, the
// per-second figures merge across threads and files (sum, max, or), and result files carry them.
#include <support/report_text.hpp>
#include <wsload/net/detail/request_accounting.hpp>
#include <wsload/report/html.hpp>
#include <wsload/report/console.hpp>
#include <wsload/report/json.hpp>
#include <wsload/report/result_file.hpp>
#include <wsload/runtime/run_config.hpp>
#include <wsload/stats/generator.hpp>
#include <wsload/stats/series_merge.hpp>

#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

namespace {

namespace stats = wsload::stats;
namespace report = wsload::report;
using namespace std::chrono_literals;

/// A second of one worker as worker::close_second cuts it: generator columns only.
stats::second_record generator_second(std::chrono::nanoseconds end, std::uint64_t busy, std::uint64_t lag_ns,
                                      std::uint64_t late)
{
    stats::second_record r;
    r.end = end;
    r.row.late_sends = late;
    r.row.event_loop_lag_max_ns = lag_ns;
    r.row.busiest_worker_pct = busy;
    r.row.generator_limited = stats::worker_second{static_cast<unsigned>(busy), lag_ns}.limited() ? 1 : 0;
    return r;
}

/// `s` with the generator's columns of row k set to (late, lag, busy, limited).
void set_generator_row(stats::second& s, std::uint64_t late, std::uint64_t lag, std::uint64_t busy, std::uint64_t limited)
{
    s.late_sends = late;
    s.event_loop_lag_max_ns = lag;
    s.busiest_worker_pct = busy;
    s.generator_limited = limited;
}

/// A run whose time series is `rows` (no round trips), started at `start`, with `workers` as its generator.
stats::run_result generator_run(std::vector<stats::second> rows, std::vector<stats::worker_health> workers,
                                std::chrono::system_clock::time_point start)
{
    stats::run_result r;
    r.totals = std::make_unique<stats::totals>();
    r.elapsed = std::chrono::seconds(rows.size());
    r.started_at = start;
    for (auto& row : rows) {
        r.series.push_back(row);
        r.series_round_trips.push_back(stats::histogram().export_state());
    }
    r.generator = std::move(workers);
    return r;
}

/// The run the generator's files and reports describe: 10 users on 2 threads.
stats::run_info generator_info()
{
    wsload::run_config c;
    c.name = "generator-test";
    c.target = wsload::net::parse_url("ws://127.0.0.1:9000/ws");
    c.users = 10;
    c.threads = 2;
    return wsload::describe(c);
}

stats::worker_health health_of(unsigned worker, std::initializer_list<stats::worker_second> seconds)
{
    stats::worker_health h;
    h.worker = worker;
    for (const auto& s : seconds) h.add_second(s, std::chrono::milliseconds(10 * s.busy_pct), 1s);
    return h;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(generator_health)

BOOST_AUTO_TEST_CASE(busy_is_cpu_over_wall_in_whole_percent_capped_at_100)
{
    BOOST_TEST(stats::busy_pct(500ms, 1s) == 50u);
    BOOST_TEST(stats::busy_pct(904ms, 1s) == 90u);
    BOOST_TEST(stats::busy_pct(906ms, 1s) == 91u);
    BOOST_TEST(stats::busy_pct(1020ms, 1s) == 100u);  // clock granularity, not 102 %
    BOOST_TEST(stats::busy_pct(0ms, 1s) == 0u);
    BOOST_TEST(stats::busy_pct(5ms, 0ms) == 0u);
    BOOST_TEST(stats::busy_pct(30ms, 60ms) == 50u);  // a short last slice is its own ratio
}

BOOST_AUTO_TEST_CASE(a_second_is_limited_past_90_percent_busy_or_10_ms_of_lag_and_not_at_them)
{
    BOOST_TEST(!(stats::worker_second{90, 10'000'000}.limited()));
    BOOST_TEST((stats::worker_second{91, 0}.limited()));
    BOOST_TEST((stats::worker_second{0, 10'000'001}.limited()));
    BOOST_TEST(stats::second_warning(1, {90, 10'000'000}).empty());
    BOOST_TEST(stats::second_warning(3, {97, 2'000'000}) ==
               "generator: worker 3 97% busy (over 90%): latency this second may be the client's, not the server's");
    BOOST_TEST(stats::second_warning(0, {40, 25'300'000}) ==
               "generator: worker 0 timers 25.3 ms late (over 10.0 ms): latency this second may be the client's, not "
               "the server's");
}

BOOST_AUTO_TEST_CASE(a_shard_records_lag_with_the_seconds_max_and_late_sends_with_their_lateness)
{
    stats::shard s;
    s.record_lag(300'000);
    s.record_lag(12'000'000);
    s.record_lag(1'000'000);
    BOOST_TEST(s[stats::histogram_id::event_loop_lag].count() == 3u);
    BOOST_TEST(s[stats::histogram_id::event_loop_lag].max() == 12'000'000u);
    BOOST_TEST(s.lag_max_this_second == 12'000'000u);
    s.count_late_send(4'000'000);
    BOOST_TEST(s[stats::counter_id::late_sends].get() == 1u);
    BOOST_TEST(s[stats::histogram_id::send_lateness].count() == 1u);
    BOOST_TEST(s[stats::histogram_id::send_lateness].min() == 4'000'000u);
}

BOOST_AUTO_TEST_CASE(send_time_counts_a_send_late_only_past_1_ms_after_its_intended_time)
{
    stats::shard s;
    using wsload::net::detail::send_time;
    const auto before = wsload::clock::now();
    BOOST_TEST((send_time(s, std::nullopt) >= before));  // no intended time: now, never late
    const auto on_time = wsload::clock::now() + 1s;  // a send ahead of its time is not late
    BOOST_TEST((send_time(s, on_time) == on_time));
    const auto almost = wsload::clock::now() - 500us;
    BOOST_TEST((send_time(s, almost) == almost));
    BOOST_TEST(s[stats::counter_id::late_sends].get() == 0u);
    const auto late = wsload::clock::now() - 5ms;
    BOOST_TEST((send_time(s, late) == late));  // the round trip still counts from the intended time
    BOOST_TEST(s[stats::counter_id::late_sends].get() == 1u);
    BOOST_TEST(s[stats::histogram_id::send_lateness].count() == 1u);
    BOOST_TEST(s[stats::histogram_id::send_lateness].min() >= 5'000'000u);
    BOOST_TEST(s[stats::histogram_id::send_lateness].min() < 1'000'000'000u);
}

BOOST_AUTO_TEST_CASE(a_worker_over_the_run_counts_its_limited_seconds_and_warns_with_its_figures)
{
    const auto quiet = health_of(0, {{20, 1'000'000}, {35, 2'000'000}});
    BOOST_TEST(!quiet.limited());
    BOOST_TEST(quiet.busy_pct() == 28u);  // 550 ms of CPU over 2 s
    BOOST_TEST(quiet.peak_busy_pct == 35u);
    BOOST_TEST(stats::run_warning(quiet).empty());

    auto busy = health_of(2, {{95, 1'000'000}, {100, 30'000'000}, {40, 500'000}, {60, 0}});
    BOOST_TEST(busy.seconds == 4u);
    BOOST_TEST(busy.busy_seconds == 2u);
    BOOST_TEST(busy.lagging_seconds == 1u);
    BOOST_TEST(busy.busy_pct() == 74u);  // 2,950 ms over 4 s
    busy.lag_max_ns = 30'000'000;
    busy.lag_p99_ns = 29'900'000;
    BOOST_TEST(stats::run_warning(busy) ==
               "generator: worker 2 was over 90% busy in 2 of 4 s (peak 100%, 74% over the run) and over 10.0 ms of "
               "timer lag in 1 of 4 s (max 30.0 ms, p99 29.9 ms): latency in those seconds (timeseries "
               "generator_limited) may be the client's; use more --threads or machines");
}

BOOST_AUTO_TEST_CASE(threads_seconds_merge_by_sum_max_and_or_with_the_short_tail_folded_in)
{
    std::vector<stats::second> rows;
    stats::histogram_spill spilled;
    stats::series_builder builder(2, rows, spilled);
    // Second 1: worker 0 busy, worker 1 lagging; second 2: both quiet; a 50 ms tail in which
    // worker 1 lagged, folded into second 2.
    builder.add(0, generator_second(1s, 95, 1'000'000, 3));
    builder.add(1, generator_second(1s, 20, 15'000'000, 1));
    builder.add(0, generator_second(2s, 30, 2'000'000, 0));
    builder.add(1, generator_second(2s, 10, 500'000, 2));
    builder.add(0, generator_second(2050ms, 0, 0, 0));
    builder.add(1, generator_second(2050ms, 0, 40'000'000, 1));
    builder.finish();
    BOOST_REQUIRE(rows.size() == 2u);
    BOOST_TEST(rows[0].late_sends == 4u);
    BOOST_TEST(rows[0].event_loop_lag_max_ns == 15'000'000u);
    BOOST_TEST(rows[0].busiest_worker_pct == 95u);
    BOOST_TEST(rows[0].generator_limited == 1u);
    BOOST_TEST(rows[1].late_sends == 3u);
    BOOST_TEST(rows[1].event_loop_lag_max_ns == 40'000'000u);
    BOOST_TEST(rows[1].busiest_worker_pct == 30u);
    BOOST_TEST(rows[1].generator_limited == 1u);  // from the tail's lag
}

BOOST_AUTO_TEST_CASE(the_generator_reads_back_from_a_result_file_and_files_merge_it)
{
    const auto start = std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000));
    std::vector<stats::second> a_rows(3), b_rows(2);
    for (std::uint32_t k = 0; k < 3; ++k) a_rows[k].t = k + 1;
    for (std::uint32_t k = 0; k < 2; ++k) b_rows[k].t = k + 1;
    set_generator_row(a_rows[0], 2, 3'000'000, 50, 0);
    set_generator_row(a_rows[1], 7, 12'000'000, 99, 1);
    set_generator_row(a_rows[2], 0, 400'000, 10, 0);
    set_generator_row(b_rows[0], 1, 20'000'000, 60, 1);  // b starts 1 s after a: a's second 2
    set_generator_row(b_rows[1], 5, 100'000, 80, 0);
    auto a_worker = health_of(0, {{50, 3'000'000}, {99, 12'000'000}, {10, 400'000}});
    a_worker.lag_p99_ns = 11'000'000;
    a_worker.lag_max_ns = 12'000'000;
    a_worker.late_sends = 9;
    a_worker.late_p99_ns = 2'500'000;
    const auto b0 = health_of(0, {{60, 20'000'000}, {80, 100'000}});
    const auto b1 = health_of(1, {{5, 0}, {5, 0}});

    auto a = wsload::test::through_result_text(generator_info(), generator_run(a_rows, {a_worker}, start),
                                               "a.json");
    BOOST_REQUIRE(a.result.generator.size() == 1u);
    const auto& back = a.result.generator[0];
    BOOST_TEST((back.cpu == a_worker.cpu));
    BOOST_TEST((back.wall == a_worker.wall));
    BOOST_TEST(back.peak_busy_pct == 99u);
    BOOST_TEST(back.seconds == 3u);
    BOOST_TEST(back.busy_seconds == 1u);
    BOOST_TEST(back.lagging_seconds == 1u);
    BOOST_TEST(back.lag_p99_ns == 11'000'000u);
    BOOST_TEST(back.lag_max_ns == 12'000'000u);
    BOOST_TEST(back.late_sends == 9u);
    BOOST_TEST(back.late_p99_ns == 2'500'000u);
    BOOST_REQUIRE(a.result.series.size() == 3u);
    for (std::size_t k = 0; k < 3; ++k)
        BOOST_TEST(stats::values(a.result.series[k]) == stats::values(a_rows[k]), boost::test_tools::per_element());

    std::vector<report::loaded_result> parts;
    parts.push_back(std::move(a));
    parts.push_back(
        wsload::test::through_result_text(generator_info(), generator_run(b_rows, {b0, b1}, start + 1s), "b.json"));
    const auto merged = report::merge_results(std::move(parts));
    const auto& g = merged.result.generator;
    BOOST_REQUIRE(g.size() == 3u);  // the workers of both runs, numbered on
    BOOST_TEST(g[0].worker == 0u);
    BOOST_TEST(g[1].worker == 1u);
    BOOST_TEST(g[2].worker == 2u);
    BOOST_TEST(g[1].lagging_seconds == 1u);
    BOOST_TEST(g[2].busy_seconds == 0u);
    const auto& s = merged.result.series;
    BOOST_REQUIRE(s.size() == 3u);
    BOOST_TEST(s[0].late_sends == 2u);
    BOOST_TEST(s[0].generator_limited == 0u);
    BOOST_TEST(s[1].late_sends == 8u);                           // 7 + 1
    BOOST_TEST(s[1].event_loop_lag_max_ns == 20'000'000u);       // max
    BOOST_TEST(s[1].busiest_worker_pct == 99u);                  // max
    BOOST_TEST(s[1].generator_limited == 1u);                    // or
    BOOST_TEST(s[2].late_sends == 5u);
    BOOST_TEST(s[2].busiest_worker_pct == 80u);
    BOOST_TEST(s[2].generator_limited == 0u);

    // And the merged file says so: the workers over a limit, by number.
    const auto text = wsload::test::report_text(generator_info(), merged.result);
    BOOST_TEST(text.find("--- Generator (per worker thread) ---") != std::string::npos);
    BOOST_TEST(text.find("WARNING generator: worker 0 was over 90% busy in 1 of 3 s") != std::string::npos);
    BOOST_TEST(text.find("WARNING generator: worker 1 was over 10.0 ms of timer lag in 1 of 2 s") != std::string::npos);
    BOOST_TEST(text.find("WARNING generator: worker 2") == std::string::npos);
    const auto page = report::html_report(generator_info(), merged.result, report::judge(merged.result, {}));
    BOOST_TEST(page.find("<table id=\"table-generator\">") != std::string::npos);
    BOOST_TEST(page.find("<p class=\"generator-warning\">generator: worker 0 was over 90% busy") != std::string::npos);
    BOOST_TEST(page.find("<p class=\"generator-warning\">generator: worker 2") == std::string::npos);
    const auto doc = report::result_document(generator_info(), merged.result,
                                             report::judge(merged.result, {}));
    BOOST_TEST(doc.at("generator").at("limited_seconds").to_number<std::uint64_t>() == 1u);
    BOOST_TEST(doc.at("generator").at("workers").as_array()[2].at("limited").as_bool() == false);
}

BOOST_AUTO_TEST_CASE(a_run_within_the_limits_has_a_generator_table_and_no_warning)
{
    std::vector<stats::second> rows(2);
    rows[0].t = 1;
    rows[1].t = 2;
    const auto r = generator_run(rows, {health_of(0, {{30, 100'000}, {40, 200'000}})}, {});
    const auto text = wsload::test::report_text(generator_info(), r);
    BOOST_TEST(text.find("--- Generator (per worker thread) ---") != std::string::npos);
    BOOST_TEST(text.find("WARNING") == std::string::npos);
    const auto page = report::html_report(generator_info(), r, report::judge(r, {}));
    BOOST_TEST(page.find("<table id=\"table-generator\">") != std::string::npos);
    BOOST_TEST(page.find("generator-warning\">") == std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
