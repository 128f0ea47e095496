// The generator tells on itself (issue 18, item 5), in-process against a real im_server: a
// worker kept busy on purpose (a behaviour that burns 50 ms of CPU between sends meant 10 ms
// apart) is reported with its timers and sends late (and over 90% busy when the machine gives
// it a core), on the live line, in the final report and as marked seconds in the JSON; a light
// load on the same setup is quiet.

#include <support/child_process.hpp>
#include <support/layer_under_test.hpp>
#include <support/report_text.hpp>
#include <wsload/runtime/engine.hpp>
#include <wsload/runtime/iteration_loop.hpp>
#include <wsload/sched/arrivals.hpp>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <memory>
#include <string>

using namespace std::chrono_literals;
namespace stats = wsload::stats;
namespace report = wsload::report;

namespace {

wsload::run_config one_worker(const wsload::test::im_server_process& server, std::uint64_t users)
{
    wsload::run_config c;
    c.name = "generator";
    c.target = wsload::net::parse_url("ws://127.0.0.1:" + std::to_string(server.port()) + "/ws");
    c.users = users;
    c.duration = 3s;
    c.grace = 2s;
    c.threads = 1;
    c.ws_layer = wsload::test::layer_under_test();
    return c;
}

/// An open model on one worker with no server (its iterations connect nowhere): `rate` arrivals
/// a second for `duration` on `users` users, all pre-allocated; the totals at the end.
std::unique_ptr<stats::totals> run_arrivals(double rate, std::uint64_t users, std::chrono::nanoseconds duration,
                                            wsload::iterations it)
{
    wsload::run_config c;
    c.name = "arrivals";
    c.target = wsload::net::parse_url("ws://127.0.0.1:9/ws");
    c.users = users;
    c.threads = 1;
    c.arrivals = wsload::sched::arrival_rate{rate, users, users}.to_plan();
    c.duration = duration;
    wsload::runtime::engine engine(
        c, wsload::runtime::iteration_behavior(std::make_shared<const wsload::iterations>(std::move(it)), true));
    auto r = engine.run();
    BOOST_REQUIRE(r.generator.size() == 1u);
    BOOST_TEST(r.generator[0].late_sends == (*r.totals)[stats::counter_id::late_sends]);
    return std::move(r.totals);
}

/// A run and what a user would read of it: every live line, the final report, the JSON.
struct generator_outcome {
    stats::run_result result;
    std::string live;
    std::string report;
    boost::json::object doc;
};

generator_outcome run_reported(const wsload::run_config& c, wsload::runtime::behavior b)
{
    generator_outcome o;
    const auto info = wsload::describe(c);
    wsload::runtime::engine engine(c, std::move(b));
    engine.on_progress([&](const wsload::runtime::progress& p) {
        o.live += wsload::test::printed_text([&](std::FILE* out) { report::print_progress(out, p, info); });
    });
    o.result = engine.run();
    const auto verdict = report::judge(o.result, {});
    o.report = wsload::test::report_text(info, o.result);
    o.doc = report::result_document(info, o.result, verdict);
    return o;
}

/// The values of `column` in the JSON time series, a row each.
std::vector<std::uint64_t> json_column(const boost::json::object& doc, std::string_view column)
{
    const auto& ts = doc.at("timeseries").as_object();
    const auto& columns = ts.at("columns").as_array();
    std::size_t at = columns.size();
    for (std::size_t i = 0; i < columns.size(); ++i)
        if (columns[i].as_string() == column) at = i;
    BOOST_REQUIRE(at < columns.size());
    std::vector<std::uint64_t> values;
    for (const auto& row : ts.at("rows").as_array()) values.push_back(row.as_array()[at].to_number<std::uint64_t>());
    return values;
}

/// Sends meant every `interval` from the user's start, each recorded from that intended time,
/// with `burn` of CPU work after each reply (a busy loop: the worker does nothing else
/// meanwhile); the CPU time the loops took is added to `burned`.
wsload::runtime::behavior paced_user(std::chrono::milliseconds interval, std::chrono::milliseconds burn,
                                     std::atomic<std::int64_t>* burned = nullptr)
{
    return [interval, burn, burned](wsload::user& u) -> wsload::task<> {
        auto ws = co_await u.websocket();
        if (!ws) co_return;
        auto due = wsload::clock::now();
        while (u.running() && ws.is_open()) {
            due += interval;
            co_await u.sleep_until(due);
            if (!u.running()) break;
            wsload::request_options o;
            o.timeout = 30s;  // from the intended time, which falls behind by seconds here
            o.intended_at = due;
            co_await ws.request("paced " + u.id(), [](std::string_view) { return true; }, o);
            if (burn.count() == 0) continue;
            const auto cpu = wsload::runtime::worker::thread_cpu_time();
            const auto until = wsload::clock::now() + burn;
            while (u.running() && wsload::clock::now() < until) {
            }
            if (burned) *burned += (wsload::runtime::worker::thread_cpu_time() - cpu).count();
        }
    };
}

}  // namespace

BOOST_AUTO_TEST_SUITE(generator_warnings)

BOOST_AUTO_TEST_CASE(a_worker_saturated_on_purpose_is_reported_live_at_the_end_and_in_the_json,
                     *boost::unit_test::timeout(60))
{
    wsload::test::im_server_process server(WSLOAD_IM_SERVER);
    std::atomic<std::int64_t> burned{0};
    const auto o = run_reported(one_worker(server, 2), paced_user(10ms, 50ms, &burned));
    const auto& t = *o.result.totals;
    BOOST_TEST_MESSAGE(o.live);
    BOOST_TEST_MESSAGE(o.report);
    BOOST_TEST(t[stats::counter_id::requests_answered] > 10u);

    BOOST_REQUIRE(o.result.generator.size() == 1u);
    const auto& w = o.result.generator[0];
    BOOST_TEST(w.seconds >= 3u);
    // The loop runs one 50 ms burst after another: a probe due in one fires at its end, so the
    // timers are late every second, whatever share of a core the machine gives the thread (the
    // probe's random gaps keep it from falling between bursts every time).
    BOOST_TEST(w.lagging_seconds >= 2u);
    BOOST_TEST((std::chrono::nanoseconds(w.lag_max_ns) > stats::lag_limit));
    BOOST_TEST(w.limited());
    // Busy is the thread's real CPU time: at least what the bursts measured burning, at most the
    // wall time. (Over 90% on an idle machine; on a shared one the thread gets what it is given,
    // and the lag above is what shows it was starved.)
    BOOST_TEST_MESSAGE("worker 0: " << w.busy_pct() << "% busy, peak " << w.peak_busy_pct << "%, burned "
                                    << burned.load() / 1'000'000 << " ms of CPU in the bursts");
    BOOST_TEST(burned.load() > 0);
    BOOST_TEST(w.cpu.count() >= burned.load());
    BOOST_TEST((w.cpu <= w.wall + 50ms));
    BOOST_TEST(w.busy_pct() == stats::busy_pct(w.cpu, w.wall));
    // Two users due every 10 ms behind 50 ms bursts: nearly every send is late, by tens of ms.
    BOOST_TEST(t[stats::counter_id::late_sends] * 2 > t[stats::counter_id::requests_sent]);
    BOOST_TEST(w.late_sends == t[stats::counter_id::late_sends]);
    BOOST_TEST((std::chrono::nanoseconds(w.late_p99_ns) > 10ms));
    BOOST_TEST(t[stats::histogram_id::send_lateness].count() == t[stats::counter_id::late_sends]);

    // The live line warned, naming the worker and its figure.
    BOOST_TEST(o.live.find("WARNING generator: worker 0 ") != std::string::npos);
    BOOST_TEST(o.live.find(" late (over 10.0 ms): latency this second may be the client's") != std::string::npos);
    // So did the report.
    BOOST_TEST(o.report.find("WARNING generator: worker 0 was over ") != std::string::npos);
    BOOST_TEST(o.report.find("of timer lag in ") != std::string::npos);
    // And the JSON marks the seconds: in the time series and per worker.
    std::uint64_t marked = 0;
    for (auto v : json_column(o.doc, "generator_limited")) marked += v;
    BOOST_TEST(marked >= 2u);
    BOOST_TEST(o.doc.at("generator").at("limited_seconds").to_number<std::uint64_t>() == marked);
    const auto& worker = o.doc.at("generator").at("workers").as_array().at(0).as_object();
    BOOST_TEST(worker.at("limited").as_bool());
    BOOST_TEST(worker.at("late_sends").to_number<std::uint64_t>() == t[stats::counter_id::late_sends]);
    std::uint64_t late_in_rows = 0;
    for (auto v : json_column(o.doc, "late_sends")) late_in_rows += v;
    BOOST_TEST(late_in_rows <= t[stats::counter_id::late_sends]);  // the rows stop at elapsed_s
    BOOST_TEST(late_in_rows > 0u);
}

BOOST_AUTO_TEST_CASE(a_light_load_stays_quiet, *boost::unit_test::timeout(60))
{
    wsload::test::im_server_process server(WSLOAD_IM_SERVER);
    const auto o = run_reported(one_worker(server, 4), paced_user(100ms, 0ms));
    const auto& t = *o.result.totals;
    BOOST_TEST_MESSAGE(o.report);
    BOOST_TEST(t[stats::counter_id::requests_answered] >= 80u);  // 4 users x 10/s x ~3 s

    BOOST_REQUIRE(o.result.generator.size() == 1u);
    const auto& w = o.result.generator[0];
    BOOST_TEST(!w.limited());
    BOOST_TEST(w.peak_busy_pct <= stats::busy_limit_pct);
    BOOST_TEST(w.seconds >= 3u);
    // The probe ran all along: ten samples a second.
    BOOST_TEST(t[stats::histogram_id::event_loop_lag].count() >= 20u);
    BOOST_TEST((std::chrono::nanoseconds(w.lag_max_ns) <= stats::lag_limit));
    // Late sends are counted (a shared machine can delay a few) but mark no second: they can be
    // the server's doing on a closed loop.
    BOOST_TEST(t[stats::histogram_id::send_lateness].count() == t[stats::counter_id::late_sends]);

    BOOST_TEST(o.live.find("WARNING") == std::string::npos);
    BOOST_TEST(o.report.find("WARNING") == std::string::npos);
    BOOST_TEST(o.report.find("--- Generator (per worker thread) ---") != std::string::npos);
    for (auto v : json_column(o.doc, "generator_limited")) BOOST_TEST(v == 0u);
    BOOST_TEST(o.doc.at("generator").at("limited_seconds").to_number<std::uint64_t>() == 0u);
    BOOST_TEST(!o.doc.at("generator").at("workers").as_array().at(0).at("limited").as_bool());
}

BOOST_AUTO_TEST_CASE(arrivals_the_worker_starts_late_are_late_sends, *boost::unit_test::timeout(30))
{
    // 50 arrivals a second for 1 s on one worker, each iteration 30 ms of CPU: every arrival
    // after the first waits for the one before, later and later. No connection: no server.
    const auto totals = run_arrivals(50, 2, 990ms,  // the last arrival at 980 ms
                                     wsload::iterations([](wsload::user&) -> wsload::task<> {
                                         const auto until = wsload::clock::now() + 30ms;
                                         while (wsload::clock::now() < until) {
                                         }
                                         co_return;
                                     }));
    const auto& t = *totals;
    // The worker is behind until the end: the arrivals it never reached are dropped, so every
    // one of the 50 the shape asked for is an iteration or dropped.
    BOOST_TEST(t[stats::counter_id::iterations] + t[stats::counter_id::dropped_iterations] == 50u);
    BOOST_TEST(t[stats::counter_id::dropped_iterations] > 0u);
    BOOST_TEST(t[stats::counter_id::iterations] > 0u);
    BOOST_TEST(t[stats::counter_id::late_sends] * 2 >= t[stats::counter_id::iterations]);  // all but the first few
    BOOST_TEST(t[stats::histogram_id::send_lateness].count() == t[stats::counter_id::late_sends]);
    BOOST_TEST((std::chrono::nanoseconds(t[stats::histogram_id::send_lateness].percentile(99)) > 10ms));
}

BOOST_AUTO_TEST_CASE(a_high_arrival_rate_is_accounted_exactly, *boost::unit_test::timeout(30))
{
    // 20,000 arrivals a second for 500 ms on one worker, each iteration returning at once: the
    // spawner meets arrivals already due (it starts them without a timer each), and however
    // loaded the machine, each of the 10,000 is an iteration or dropped.
    std::atomic<std::uint64_t> ran{0};
    const auto totals = run_arrivals(20000, 20, 500ms,  // arrivals at 0, 50 us, ..., 499.95 ms
                                     wsload::iterations([&ran](wsload::user&) -> wsload::task<> {
                                         ran.fetch_add(1, std::memory_order_relaxed);
                                         co_return;
                                     }));
    const auto& t = *totals;
    BOOST_TEST(t[stats::counter_id::iterations] == ran.load());
    BOOST_TEST(t[stats::counter_id::iterations] + t[stats::counter_id::dropped_iterations] == 10000u);
    BOOST_TEST(t[stats::counter_id::iterations] > 0u);
    BOOST_TEST(t[stats::counter_id::users_started] == 20u);
}

BOOST_AUTO_TEST_SUITE_END()
