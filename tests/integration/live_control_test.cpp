// Live changes of the load while a run goes (issue 18 item 6), against a real im_server: the
// target users up and down and the spawn rate in-process, the same over the control endpoint of
// --metrics-listen with real HTTP (and its bad requests), a change refused once the stop has
// begun, and an arrival rate changed in an open-model run. The control calls come from a thread
// of the test's, as the endpoint's would; it records, and the test thread asserts after the run.

#include <support/child_process.hpp>
#include <support/shaped_run.hpp>
#include <wsload/dsl/control_routes.hpp>
#include <wsload/report/prometheus.hpp>
#include <wsload/runtime/engine.hpp>
#include <wsload/runtime/iteration_loop.hpp>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <cmath>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
namespace stats = wsload::stats;
using stats::counter_id;
using wsload::runtime::change_result;

namespace {

/// Waits (on the control thread) until the run has gone `t`, or 20 s have passed.
void live_wait_until(const wsload::runtime::engine& engine, std::chrono::nanoseconds t)
{
    const auto give_up = wsload::clock::now() + 20s;
    while (engine.elapsed() < t && wsload::clock::now() < give_up) std::this_thread::sleep_for(2ms);
}

struct live_reply {
    unsigned status = 0;
    std::string body;
    std::string allow;
};

/// One HTTP/1.1 request to the endpoint on 127.0.0.1:port, its connection closed after.
live_reply live_http(std::uint16_t port, boost::beast::http::verb verb, const std::string& target)
{
    namespace http = boost::beast::http;
    boost::asio::io_context ioc;
    boost::asio::ip::tcp::socket socket(ioc);
    socket.connect({boost::asio::ip::make_address("127.0.0.1"), port});
    http::request<http::empty_body> request{verb, target, 11};
    request.set(http::field::host, "127.0.0.1");
    request.keep_alive(false);
    http::write(socket, request);
    boost::beast::flat_buffer buffer;
    http::response<http::string_body> response;
    http::read(socket, buffer, response);
    return {response.result_int(), response.body(), std::string(response[http::field::allow])};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(live_control)

BOOST_AUTO_TEST_CASE(the_target_goes_up_and_down_and_each_change_is_a_phase, *boost::unit_test::timeout(60))
{
    wsload::test::im_server_process server(WSLOAD_IM_SERVER);
    auto config = wsload::test::shaped_run(server, wsload::sched::linear_ramp{4, 0s}.to_plan());
    config.duration = 10s;  // an upper bound: the control thread ends the run
    wsload::runtime::engine engine(config, wsload::test::ask_until_stopped);
    std::vector<change_result> results;
    std::vector<wsload::runtime::load_state> states;
    std::thread control([&] {
        live_wait_until(engine, 400ms);
        results.push_back(engine.set_users({.target = 10, .spawn_rate = 100.0}));  // 6 more over 60 ms
        states.push_back(engine.state());
        live_wait_until(engine, 900ms);
        states.push_back(engine.state());
        results.push_back(engine.set_users({.target = 3, .over = 0s}));  // 7 stopped at once
        live_wait_until(engine, 1400ms);
        states.push_back(engine.state());
        results.push_back(engine.set_users({.target = 100'000}));                 // above the maximum
        results.push_back(engine.set_arrival_rate({.per_second = 5}));            // a closed model
        results.push_back(engine.set_users({.target = 5, .spawn_rate = -1.0}));   // a bad rate
        engine.request_stop("the test's end");
        const auto give_up = wsload::clock::now() + 10s;
        while (!engine.state().stopping && wsload::clock::now() < give_up) std::this_thread::sleep_for(1ms);
        results.push_back(engine.set_users({.target = 6}));  // once the stop has begun
    });
    const auto r = engine.run();
    control.join();

    BOOST_REQUIRE(results.size() == 6u);
    BOOST_TEST(results[0].applied());
    BOOST_TEST(results[1].applied());
    BOOST_TEST((results[2].outcome == change_result::status::refused));
    BOOST_TEST(results[2].reason == "100000 users is above this run's maximum of 1000 (--live-max-users)");
    BOOST_TEST((results[3].outcome == change_result::status::refused));
    BOOST_TEST(results[3].reason == "this run is a closed model: it has no arrival rate (change its users)");
    BOOST_TEST((results[4].outcome == change_result::status::invalid));
    BOOST_TEST((results[5].outcome == change_result::status::refused));
    BOOST_TEST(results[5].reason == "the run is stopping: changes are refused once its stop has begun");
    BOOST_REQUIRE(states.size() == 3u);
    BOOST_TEST(states[0].target_users == 10u);
    BOOST_TEST(states[0].phase == "live 10 users");
    BOOST_TEST(states[1].running_users == 10u);  // all started 500 ms ago
    BOOST_TEST(states[2].target_users == 3u);
    BOOST_TEST(states[2].running_users == 3u);  // the 7 stopped have ended (their waits were cut short)
    BOOST_TEST(states[2].changes == 2u);

    const auto& t = *r.totals;
    BOOST_TEST(t[counter_id::users_started] == 10u);
    BOOST_TEST(t[counter_id::users_stopped] == 7u);  // by the change; the other 3 ended with the run
    BOOST_TEST(t[counter_id::users_aborted] == 0u);
    BOOST_TEST(t[counter_id::users_finished] == 10u);
    BOOST_TEST(t[counter_id::connect_successes] == 10u);
    BOOST_TEST(t.ended(stats::disconnect_reason::client_stop) == 10u);
    BOOST_TEST(r.ended_early);

    BOOST_REQUIRE(r.phases.size() == 3u);
    BOOST_TEST(r.phases[0].name == "initial");
    BOOST_TEST(r.phases[0].users == 4u);
    BOOST_TEST(r.phases[1].name == "live 10 users");
    BOOST_TEST(r.phases[1].users == 10u);
    BOOST_TEST(r.phases[2].name == "live 3 users");
    BOOST_TEST((r.phases[1].start >= 400ms && r.phases[1].start < 900ms));
    BOOST_TEST((r.phases[0].end == r.phases[1].start));
    BOOST_TEST((r.phases[2].end == r.elapsed));
    BOOST_TEST((*r.phases[0].totals)[counter_id::users_started] == 4u);
    BOOST_TEST((*r.phases[1].totals)[counter_id::users_started] == 6u);
    BOOST_TEST((*r.phases[1].totals)[counter_id::users_stopped] == 0u);
    BOOST_TEST((*r.phases[2].totals)[counter_id::users_started] == 0u);
    BOOST_TEST((*r.phases[2].totals)[counter_id::users_stopped] == 7u);
    wsload::test::check_phases_add_up(r);
}

BOOST_AUTO_TEST_CASE(a_new_spawn_rate_speeds_up_the_ramp_under_way, *boost::unit_test::timeout(60))
{
    wsload::test::im_server_process server(WSLOAD_IM_SERVER);
    // 20 users at 10/s would take 2 s; at 0.5 s the rest go at 100/s (about 150 ms).
    auto config = wsload::test::shaped_run(server, wsload::sched::spawn_rate{20, 10}.to_plan());
    config.duration = 1500ms;
    wsload::runtime::engine engine(config, wsload::test::ask_until_stopped);
    std::vector<wsload::runtime::load_state> states;
    change_result result;
    std::thread control([&] {
        live_wait_until(engine, 500ms);
        states.push_back(engine.state());
        result = engine.set_spawn_rate(100);
        states.push_back(engine.state());
        live_wait_until(engine, 1100ms);
        states.push_back(engine.state());
    });
    const auto r = engine.run();
    control.join();

    BOOST_TEST(result.applied());
    BOOST_REQUIRE(states.size() == 3u);
    BOOST_TEST(std::abs(states[0].spawn_rate - 10) < 1e-6);
    BOOST_TEST(states[0].target_users == 20u);
    BOOST_TEST(states[0].running_users <= 7u);  // 6 by 0.5 s at 10/s
    BOOST_TEST(std::abs(states[1].spawn_rate - 100) < 1e-6);
    BOOST_TEST(states[1].phase == "live 20 users at 100/s");
    BOOST_TEST(states[2].running_users == 20u);  // at 10/s only 12 would run by 1.1 s
    const auto& t = *r.totals;
    BOOST_TEST(t[counter_id::users_started] == 20u);
    BOOST_TEST(t[counter_id::connect_successes] == 20u);
    BOOST_REQUIRE(r.phases.size() == 2u);
    BOOST_TEST((*r.phases[0].totals)[counter_id::users_started] + (*r.phases[1].totals)[counter_id::users_started] == 20u);
    BOOST_TEST((*r.phases[1].totals)[counter_id::users_started] >= 13u);
    wsload::test::check_phases_add_up(r);
}

BOOST_AUTO_TEST_CASE(the_control_endpoint_over_http, *boost::unit_test::timeout(60))
{
    namespace http = boost::beast::http;
    wsload::test::im_server_process server(WSLOAD_IM_SERVER);
    // Stages of their own length: 2 users, held, then up to 4 from 1 s to 2 s. A change at 0.3 s
    // to 1 user drops stage 3; the run still ends at the stages' end (2 s).
    const auto plan = wsload::sched::stages{{0s, 2}, {1s, 2}, {1s, 4}}.to_plan();
    auto config = wsload::test::shaped_run(server, plan);
    config.duration = plan.length();
    config.metrics_listen = "127.0.0.1:0";
    wsload::runtime::engine engine(config, wsload::test::ask_until_stopped);
    wsload::report::prometheus_sink sink(config.metrics_listen, wsload::dsl::control_routes(engine));
    sink.start(engine, wsload::describe(config));
    BOOST_REQUIRE(sink.endpoint() != nullptr);
    const auto port = sink.endpoint()->port();

    // Bad requests and changes this run cannot take, each with its status and its one line.
    struct refusal {
        http::verb verb;
        std::string target;
        unsigned status;
        std::string line;
    };
    const std::vector<refusal> refusals{
        {http::verb::post, "/control/users?target=abc", 400, "target=abc is not a whole number of users (e.g. target=500)"},
        {http::verb::post, "/control/users", 400, "parameter target is missing (e.g. target=500)"},
        {http::verb::post, "/control/users?target=3&speed=2", 400, "unknown parameter \"speed\" (use target, rate, over)"},
        {http::verb::post, "/control/users?target=3&target=4", 400, "parameter target is given twice (give it once)"},
        {http::verb::post, "/control/users?target=3&rate=1&over=1s", 400, "give a spawn rate or a time to get there, not both"},
        {http::verb::post, "/control/users?target=3&over=3x", 400,
         "over: \"3x\" is not a duration (use 30s, 2m or 1h30m)"},
        {http::verb::post, "/control/spawn-rate?rate=0", 400, "the spawn rate must be above 0 users/s"},
        {http::verb::post, "/control/arrival-rate?rate=5", 409,
         "this run is a closed model: it has no arrival rate (change its users)"},
        {http::verb::post, "/control/users?target=5000", 409, "5000 users is above this run's maximum of 1000 (--live-max-users)"},
        {http::verb::get, "/control/users", 405, "method not allowed: use POST"},
    };
    std::vector<live_reply> replies;
    std::thread control([&] {
        live_wait_until(engine, 300ms);
        replies.push_back(live_http(port, http::verb::get, "/control"));
        replies.push_back(live_http(port, http::verb::post, "/control/users?target=1&over=0s"));
        replies.push_back(live_http(port, http::verb::get, "/metrics"));
        for (const auto& r : refusals) replies.push_back(live_http(port, r.verb, r.target));
    });
    const auto started = wsload::clock::now();
    const auto r = engine.run();
    control.join();
    const auto after = live_http(port, http::verb::post, "/control/users?target=2");  // the run is over

    BOOST_REQUIRE(replies.size() == 3 + refusals.size());
    BOOST_TEST(replies[0].status == 200u);
    BOOST_TEST(replies[0].body.find("\"model\":\"closed\",\"target_users\":2,") != std::string::npos, replies[0].body);
    BOOST_TEST(replies[0].body.find("\"phase\":\"stage 2\"") != std::string::npos, replies[0].body);
    BOOST_TEST(replies[1].status == 200u);
    BOOST_TEST(replies[1].body.find("\"target_users\":1,") != std::string::npos, replies[1].body);
    BOOST_TEST(replies[1].body.find("\"changes\":1,\"phase\":\"live 1 user\"}") != std::string::npos, replies[1].body);
    BOOST_TEST(replies[2].status == 200u);  // the metrics, beside the control
    for (std::size_t k = 0; k < refusals.size(); ++k) {
        BOOST_TEST(replies[3 + k].status == refusals[k].status, refusals[k].target);
        BOOST_TEST(replies[3 + k].body == refusals[k].line + "\n", refusals[k].target);
    }
    BOOST_TEST(replies.back().allow == "POST");
    BOOST_TEST(after.status == 409u);
    BOOST_TEST(after.body == "the run is stopping: changes are refused once its stop has begun\n");

    const auto& t = *r.totals;
    BOOST_TEST(t[counter_id::users_started] == 2u);  // stage 3's ramp to 4 was dropped
    BOOST_TEST(t[counter_id::users_stopped] == 1u);
    BOOST_TEST(t[counter_id::users_finished] == 2u);
    BOOST_TEST((r.elapsed >= 2s && r.elapsed < 2500ms));  // the stages' end, as planned
    BOOST_TEST((wsload::clock::now() - started < 10s));
    BOOST_REQUIRE(r.phases.size() == 3u);
    BOOST_TEST(r.phases[0].name == "stage 1");
    BOOST_TEST(r.phases[1].name == "stage 2");
    BOOST_TEST(r.phases[2].name == "live 1 user");
    BOOST_TEST((*r.phases[2].totals)[counter_id::users_stopped] == 1u);
    wsload::test::check_phases_add_up(r);
}

BOOST_AUTO_TEST_CASE(an_arrival_rate_changed_while_running_is_followed, *boost::unit_test::timeout(60))
{
    wsload::test::im_server_process server(WSLOAD_IM_SERVER);
    auto config = wsload::test::arrival_run(server, wsload::sched::arrival_rate{20, 4, 8}.to_plan(), 2s);
    std::atomic<int> ran{0};
    auto it = wsload::iterations([&](wsload::user& u) -> wsload::task<> {
        ++ran;
        co_await u.think(5ms);
    });
    wsload::runtime::engine engine(
        config, wsload::runtime::iteration_behavior(std::make_shared<const wsload::iterations>(it), true));
    std::vector<change_result> results;
    std::vector<wsload::runtime::load_state> states;
    std::thread control([&] {
        live_wait_until(engine, 1s);
        states.push_back(engine.state());
        results.push_back(engine.set_arrival_rate({.per_second = 60}));
        states.push_back(engine.state());
        results.push_back(engine.set_users({.target = 3}));
        results.push_back(engine.set_spawn_rate(10));
    });
    const auto r = engine.run();
    control.join();

    BOOST_REQUIRE(results.size() == 3u);
    BOOST_TEST(results[0].applied());
    BOOST_TEST((results[1].outcome == change_result::status::refused));
    BOOST_TEST(results[1].reason ==
               "this run is an open model: its users follow its arrival rate (change the arrival rate)");
    BOOST_TEST((results[2].outcome == change_result::status::refused));
    BOOST_REQUIRE(states.size() == 2u);
    BOOST_TEST(states[0].open_model);
    BOOST_TEST(states[0].arrival_rate == 20.0);
    BOOST_TEST(states[1].arrival_rate == 60.0);
    BOOST_TEST(states[1].max_users == 8u);

    const auto& t = *r.totals;
    BOOST_TEST(t[counter_id::dropped_iterations] == 0u);  // 8 users of 5 ms are plenty
    BOOST_REQUIRE(r.phases.size() == 2u);
    BOOST_TEST(r.phases[0].name == "initial");
    BOOST_TEST(r.phases[1].name == "live 60 iterations/s");
    const auto change = std::chrono::duration<double>(r.phases[1].start).count();
    const auto end = std::chrono::duration<double>(r.elapsed).count();
    const auto arrivals = [](const stats::totals& p) {
        return static_cast<double>(p[counter_id::iterations] + p[counter_id::iteration_errors] +
                                   p[counter_id::dropped_iterations]);
    };
    // 20/s from 0 (the first at once) up to the change, 60/s after it: within 3 arrivals (an
    // iteration that spans the change, the last ones cut by the run's end).
    const auto before = arrivals(*r.phases[0].totals), expected_before = 20 * change + 1;
    const auto after = arrivals(*r.phases[1].totals), expected_after = 60 * (end - change);
    BOOST_TEST_MESSAGE("arrivals: " << before << " before the change at " << change << " s (" << expected_before
                                    << " asked), " << after << " after it to " << end << " s (" << expected_after << " asked)");
    BOOST_TEST(std::abs(before - expected_before) <= 3.0, before << " arrivals before the change, " << expected_before << " asked");
    BOOST_TEST(std::abs(after - expected_after) <= 3.0, after << " arrivals after the change, " << expected_after << " asked");
    BOOST_TEST(static_cast<double>(ran.load()) == arrivals(t));
    wsload::test::check_phases_add_up(r);
}

BOOST_AUTO_TEST_SUITE_END()
