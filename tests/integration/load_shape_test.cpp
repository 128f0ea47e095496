// Load shapes in the engine, against a real im_server: users start and stop as the plan says,
// a user the shape stops ends like one at the run's end (running() false, waits cut short,
// connections closed with 1000), one that does not end in time is counted as aborted, and an
// index stopped can start again. Every start, stop and connection is counted exactly once.

#include <support/child_process.hpp>
#include <support/layer_under_test.hpp>
#include <support/shaped_run.hpp>
#include <wsload/runtime/engine.hpp>
#include <wsload/runtime/iteration_loop.hpp>

#include <boost/asio/steady_timer.hpp>
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <mutex>
#include <set>
#include <vector>

using namespace std::chrono_literals;
namespace stats = wsload::stats;
using stats::counter_id;

BOOST_AUTO_TEST_SUITE(load_shape)

BOOST_AUTO_TEST_CASE(stages_ramp_down_stops_users_like_the_end_of_a_run, *boost::unit_test::timeout(60))
{
    wsload::test::im_server_process server(WSLOAD_IM_SERVER);
    const auto plan = wsload::sched::stages{{0s, 8}, {1s, 8}, {1s, 0}}.to_plan();
    std::atomic<int> ended_waiting{0};
    wsload::runtime::engine engine(wsload::test::shaped_run(server, plan), [&](wsload::user& u) -> wsload::task<> {
        auto ws = co_await u.websocket();
        if (!ws) co_return;
        while (u.running()) {
            co_await ws.request("hi " + u.id(), [&](std::string_view m) { return m == "hi " + u.id(); });
            // A long wait: the ramp-down must cut it short.
            if (!co_await ws.receive(30s) && !u.running()) ++ended_waiting;
        }
    });
    const auto started = wsload::clock::now();
    const auto r = engine.run();
    const auto& t = *r.totals;
    BOOST_TEST(t[counter_id::users_started] == 8u);
    BOOST_TEST(t[counter_id::users_stopped] == 8u);
    BOOST_TEST(t[counter_id::users_aborted] == 0u);
    BOOST_TEST(t[counter_id::users_finished] == 8u);
    BOOST_TEST(ended_waiting == 8);
    BOOST_TEST(t[counter_id::connect_attempts] == 8u);
    BOOST_TEST(t[counter_id::connect_successes] == 8u);
    BOOST_TEST(t[counter_id::active_connections] == 0u);
    BOOST_TEST(t.ended(stats::disconnect_reason::client_stop) == 8u);
    BOOST_TEST(t.disconnect_total() == 8u);
    BOOST_TEST(t[counter_id::requests_sent] == 8u);
    BOOST_TEST(t[counter_id::requests_answered] == 8u);
    // The stages took 2 s, the last stop at 2 s; the run ended with its users, not at its duration.
    BOOST_TEST((r.elapsed < 6s));
    BOOST_TEST((wsload::clock::now() - started < 8s));
    BOOST_TEST(!r.interrupted);
}

BOOST_AUTO_TEST_CASE(a_user_that_outlives_its_ramp_down_timeout_is_counted_aborted, *boost::unit_test::timeout(60))
{
    wsload::test::im_server_process server(WSLOAD_IM_SERVER);
    const auto plan = wsload::sched::stages{{0s, 4}, {500ms, 4}, {0s, 0}, {3s, 0}}.to_plan();
    auto config = wsload::test::shaped_run(server, plan);
    config.ramp_down_timeout = 300ms;
    std::atomic<int> closed_before_abort{0};
    wsload::runtime::engine engine(config, [&](wsload::user& u) -> wsload::task<> {
        auto ws = co_await u.websocket();
        if (!ws) co_return;
        // Deaf to running(): an asio timer of its own, which no stop cuts short.
        boost::asio::steady_timer deaf(co_await boost::asio::this_coro::executor, 1500ms);
        co_await deaf.async_wait(wsload::use_task);
        if (!ws.is_open() && ws.end_reason() == stats::disconnect_reason::client_stop) ++closed_before_abort;
    });
    const auto r = engine.run();
    const auto& t = *r.totals;
    BOOST_TEST(t[counter_id::users_started] == 4u);
    BOOST_TEST(t[counter_id::users_stopped] == 4u);
    BOOST_TEST(t[counter_id::users_aborted] == 4u);  // still in their timer at 800 ms
    BOOST_TEST(t[counter_id::users_finished] == 4u);
    BOOST_TEST(closed_before_abort == 4);  // the stop closed their connections gracefully first
    BOOST_TEST(t.ended(stats::disconnect_reason::client_stop) == 4u);
    BOOST_TEST(t.disconnect_total() == 4u);
}

BOOST_AUTO_TEST_CASE(a_stage_going_back_up_starts_the_stopped_indices_again, *boost::unit_test::timeout(60))
{
    wsload::test::im_server_process server(WSLOAD_IM_SERVER);
    const auto plan = wsload::sched::stages{{0s, 6}, {600ms, 6}, {0s, 2}, {600ms, 2}, {0s, 6}, {600ms, 6}}.to_plan();
    auto config = wsload::test::shaped_run(server, plan);
    config.duration = plan.length();
    std::mutex m;
    std::multiset<std::uint64_t> lives;
    wsload::runtime::engine engine(config, [&](wsload::user& u) -> wsload::task<> {
        {
            std::lock_guard lock(m);
            lives.insert(u.index());
        }
        auto ws = co_await u.websocket();
        if (!ws) co_return;
        while (u.running()) co_await u.think(1s);
    });
    const auto r = engine.run();
    const auto& t = *r.totals;
    BOOST_TEST(t[counter_id::users_started] == 10u);  // 6, then 4 of them again
    BOOST_TEST(t[counter_id::users_stopped] == 4u);   // the ramp-down; the rest end with the run
    BOOST_TEST(t[counter_id::users_finished] == 10u);
    BOOST_TEST(t[counter_id::connect_successes] == 10u);
    BOOST_TEST(t.ended(stats::disconnect_reason::client_stop) == 10u);
    for (std::uint64_t i = 0; i < 6; ++i) BOOST_TEST(lives.count(i) == (i < 2 ? 1u : 2u));
}

BOOST_AUTO_TEST_CASE(iterations_are_counted_timed_and_a_throwing_one_ends_only_itself, *boost::unit_test::timeout(60))
{
    wsload::test::im_server_process server(WSLOAD_IM_SERVER);
    auto config = wsload::test::shaped_run(server, wsload::sched::linear_ramp{4, 0s}.to_plan());
    config.iterations_per_user = 6;
    std::atomic<int> starts{0}, stops{0}, answered{0};
    struct per_user {
        wsload::websocket ws;
        int n = 0;
    };
    std::array<per_user, 4> state;
    auto it = wsload::iterations([&](wsload::user& u) -> wsload::task<> {
                  auto& s = state[u.index()];
                  if (++s.n % 3 == 0) throw std::runtime_error("every third fails");
                  const auto text = "it " + std::to_string(s.n);
                  if (co_await s.ws.request(text, [&](std::string_view m) { return m == text; })) ++answered;
              })
                  .on_start([&](wsload::user& u) -> wsload::task<> {
                      state[u.index()].ws = co_await u.websocket();
                      ++starts;
                  })
                  .on_stop([&](wsload::user& u) -> wsload::task<> {
                      co_await state[u.index()].ws.close(1000);
                      ++stops;
                  });
    wsload::runtime::engine engine(config,
                                   wsload::runtime::iteration_behavior(std::make_shared<const wsload::iterations>(it)));
    const auto r = engine.run();
    const auto& t = *r.totals;
    BOOST_TEST(starts == 4);
    BOOST_TEST(stops == 4);
    BOOST_TEST(t[counter_id::iterations] == 16u);  // 6 each, every third failed: 4 ok of 6
    BOOST_TEST(t[counter_id::iteration_errors] == 8u);
    BOOST_TEST(t[stats::histogram_id::iteration].count() == 24u);
    BOOST_TEST(answered == 16);
    BOOST_TEST(t[counter_id::requests_answered] == 16u);
    BOOST_TEST(t[counter_id::behaviour_errors] == 0u);
    BOOST_REQUIRE(t.errors.size() == 1u);
    BOOST_TEST(t.errors.begin()->first == "iteration: every third fails");
    BOOST_TEST(t.errors.begin()->second == 8u);
    BOOST_TEST(t.ended(stats::disconnect_reason::client_close) == 4u);
    BOOST_TEST((r.elapsed < 10s));  // ended when the users had run their iterations
}

BOOST_AUTO_TEST_CASE(shared_iterations_are_run_exactly_once_over_all_users, *boost::unit_test::timeout(60))
{
    wsload::test::im_server_process server(WSLOAD_IM_SERVER);
    auto config = wsload::test::shaped_run(server, wsload::sched::linear_ramp{5, 0s}.to_plan());
    config.iterations = 23;
    std::atomic<int> ran{0};
    auto it = wsload::iterations([&](wsload::user& u) -> wsload::task<> {
        ++ran;
        co_await u.think(5ms);
    });
    wsload::runtime::engine engine(config,
                                   wsload::runtime::iteration_behavior(std::make_shared<const wsload::iterations>(it)));
    const auto r = engine.run();
    BOOST_TEST(ran == 23);
    BOOST_TEST((*r.totals)[counter_id::iterations] == 23u);
    BOOST_TEST((*r.totals)[counter_id::users_finished] == 5u);
}

BOOST_AUTO_TEST_CASE(paced_steps_are_an_interval_apart_across_threads, *boost::unit_test::timeout(60))
{
    wsload::test::im_server_process server(WSLOAD_IM_SERVER);
    auto config = wsload::test::shaped_run(server, wsload::sched::linear_ramp{6, 0s}.to_plan());
    config.threads = 3;
    std::mutex m;
    std::vector<wsload::clock::time_point> logins;
    wsload::runtime::engine engine(config, [&](wsload::user& u) -> wsload::task<> {
        co_await u.pace("login", 100ms);
        std::lock_guard lock(m);
        logins.push_back(wsload::clock::now());
    });
    engine.run();
    BOOST_REQUIRE(logins.size() == 6u);
    std::sort(logins.begin(), logins.end());
    for (std::size_t i = 1; i < logins.size(); ++i) BOOST_TEST((logins[i] - logins[i - 1] >= 95ms));
    BOOST_TEST((logins.back() - logins.front() < 800ms));
}

BOOST_AUTO_TEST_CASE(steps_cut_the_figures_by_level_exactly, *boost::unit_test::timeout(60))
{
    wsload::test::im_server_process server(WSLOAD_IM_SERVER);
    const auto plan = wsload::sched::steps{{2, 4, 6}, 800ms}.to_plan();
    auto config = wsload::test::shaped_run(server, plan);
    config.duration = plan.length();
    wsload::runtime::engine engine(config, wsload::test::ask_until_stopped);
    const auto r = engine.run();
    BOOST_REQUIRE(r.phases.size() == 3u);
    const std::uint64_t levels[] = {2, 4, 6};
    for (std::size_t k = 0; k < 3; ++k) {
        const auto& p = r.phases[k];
        const auto& t = *p.totals;
        BOOST_TEST(p.name == "level " + std::to_string(levels[k]));
        BOOST_TEST(p.users == levels[k]);
        BOOST_TEST((p.start == 800ms * k));
        // Each level starts its 2 new users at its first instant, after the reading: they count
        // in it, as do their connections (a loopback connect takes far less than a level).
        BOOST_TEST(t[counter_id::users_started] == 2u);
        BOOST_TEST(t[counter_id::connect_attempts] == 2u);
        BOOST_TEST(t[counter_id::connect_successes] == 2u);
        BOOST_TEST(t[stats::histogram_id::connect].count() == 2u);
        BOOST_TEST(t[counter_id::requests_sent] > 0u);
        BOOST_TEST(t[counter_id::requests_answered] == t[stats::histogram_id::round_trip].count());
        // Everyone connected stays: open at the level's end, as many as have started so far.
        if (k < 2) BOOST_TEST(t[counter_id::active_connections] == levels[k]);
        if (k < 2) BOOST_TEST((p.end == r.phases[k + 1].start));
        if (k < 2) BOOST_TEST(t.disconnect_total() == 0u);
    }
    BOOST_TEST((r.phases[2].end == r.elapsed));
    BOOST_TEST(r.phases[2].totals->ended(stats::disconnect_reason::client_stop) == 6u);  // the run's end
    wsload::test::check_phases_add_up(r);
}

BOOST_AUTO_TEST_CASE(a_run_ended_during_a_stage_closes_it_and_leaves_the_next_out, *boost::unit_test::timeout(60))
{
    wsload::test::im_server_process server(WSLOAD_IM_SERVER);
    // Stage 1 is a jump (no length), stage 2 holds, stage 3 starts a user at 0.7 s and
    // another at 1.2 s, stage 4 would start at 1.7 s.
    const auto plan = wsload::sched::stages{{0s, 3}, {700ms, 3}, {1s, 5}, {3s, 5}}.to_plan();
    auto config = wsload::test::shaped_run(server, plan);
    config.duration = 1s;
    wsload::runtime::engine engine(config, wsload::test::ask_until_stopped);
    const auto r = engine.run();
    BOOST_REQUIRE(r.phases.size() == 3u);  // stage 4 was never reached
    const auto& jump = *r.phases[0].totals;
    const auto& hold = *r.phases[1].totals;
    const auto& ramp = *r.phases[2].totals;
    BOOST_TEST(r.phases[0].name == "stage 1");
    // The jump's instant is the jump's: its users start in it (their connects may begin before
    // the reading that closes it, and end in the hold).
    BOOST_TEST((r.phases[0].start == 0s && r.phases[0].end == 0s));
    BOOST_TEST(jump[counter_id::users_started] == 3u);
    BOOST_TEST(hold[counter_id::users_started] == 0u);
    BOOST_TEST(jump[counter_id::connect_successes] + hold[counter_id::connect_successes] == 3u);
    BOOST_TEST(ramp[counter_id::users_started] == 1u);
    BOOST_TEST(ramp[counter_id::connect_successes] == 1u);
    BOOST_TEST((r.phases[2].start == 700ms));
    BOOST_TEST((r.phases[2].end == r.elapsed));
    BOOST_TEST(ramp.ended(stats::disconnect_reason::client_stop) == 4u);
    wsload::test::check_phases_add_up(r);
}

BOOST_AUTO_TEST_CASE(an_arrival_rate_starts_iterations_on_time_and_counts_what_it_could_not, *boost::unit_test::timeout(60))
{
    wsload::test::im_server_process server(WSLOAD_IM_SERVER);
    // 40 iterations a second for 1 s (k = 0..39), each taking 100 ms, on 2 users and at most 3:
    // 3 users run at most 30 a second, so some arrivals find no free user and are dropped.
    // The last arrival at 975 ms; the one at 1 s never comes.
    auto config = wsload::test::arrival_run(server, wsload::sched::arrival_rate{40, 2, 3}.to_plan(), 990ms);
    std::atomic<int> started{0}, ran{0}, stopped{0};
    std::mutex dues_mutex;
    std::vector<wsload::clock::time_point> dues;  // each iteration's due time, as its user saw it
    std::atomic<int> early{0};
    auto it = wsload::iterations([&](wsload::user& u) -> wsload::task<> {
                  ++ran;
                  if (u.iteration_due() > wsload::clock::now()) ++early;
                  {
                      std::lock_guard lock(dues_mutex);
                      dues.push_back(u.iteration_due());
                  }
                  const auto text = "it " + u.id();
                  auto ws = co_await u.websocket();
                  if (ws) co_await ws.request(text, [&](std::string_view m) { return m == text; });
                  co_await u.think(100ms);
              })
                  .on_start([&](wsload::user&) -> wsload::task<> {
                      ++started;
                      co_return;
                  })
                  .on_stop([&](wsload::user&) -> wsload::task<> {
                      ++stopped;
                      co_return;
                  });
    wsload::runtime::engine engine(
        config, wsload::runtime::iteration_behavior(std::make_shared<const wsload::iterations>(it), true));
    const auto r = engine.run();
    const auto& t = *r.totals;
    BOOST_TEST(started == 3);
    BOOST_TEST(stopped == 3);
    BOOST_TEST(t[counter_id::users_started] == 3u);
    const auto done = t[counter_id::iterations] + t[counter_id::iteration_errors];
    BOOST_TEST(done == static_cast<std::uint64_t>(ran.load()));
    BOOST_TEST(done + t[counter_id::dropped_iterations] == 40u);  // every arrival run or counted dropped
    BOOST_TEST(t[counter_id::dropped_iterations] > 0u);
    BOOST_TEST(done >= 12u);  // up to 30 (3 users x 10/s, minus their connects), however loaded the machine
    BOOST_TEST(t[stats::histogram_id::iteration].count() == done);
    // Each iteration knows when its arrival was due: on the 25 ms grid of the rate, once each.
    BOOST_TEST(early == 0);
    std::sort(dues.begin(), dues.end());
    BOOST_REQUIRE(dues.size() == done);
    for (std::size_t k = 1; k < dues.size(); ++k) {
        const auto gap = dues[k] - dues[k - 1];
        BOOST_TEST_INFO("iteration " << k);
        BOOST_TEST((gap >= 25ms && gap % 25ms == 0ns));
    }
}

BOOST_AUTO_TEST_CASE(paced_iterations_start_at_their_due_times, *boost::unit_test::timeout(60))
{
    // pacing::every(100ms): one iteration per 100 ms per user (Locust's constant_pacing),
    // each user's first at its own point of the first 100 ms, however long each takes.
    wsload::test::im_server_process server(WSLOAD_IM_SERVER);
    auto config = wsload::test::shaped_run(server, wsload::sched::linear_ramp{4, 0s}.to_plan());
    config.iterations_per_user = 5;
    std::array<std::vector<wsload::clock::time_point>, 4> dues;  // each user's, on its own thread
    std::array<std::vector<wsload::clock::time_point>, 4> starts;
    auto it = wsload::iterations([&](wsload::user& u) -> wsload::task<> {
                  dues[u.index()].push_back(u.iteration_due());
                  starts[u.index()].push_back(wsload::clock::now());
                  // Two of the five overrun their 100 ms: the next starts at once, still due on time.
                  co_await u.think(dues[u.index()].size() == 2 ? 230ms : 5ms);
              }).pacing(wsload::pacing::every(100ms));
    wsload::runtime::engine engine(config,
                                   wsload::runtime::iteration_behavior(std::make_shared<const wsload::iterations>(it)));
    const auto r = engine.run();
    BOOST_TEST((*r.totals)[counter_id::iterations] == 20u);
    for (std::size_t i = 0; i < 4; ++i) {
        BOOST_TEST_INFO("user " << i);
        BOOST_REQUIRE(dues[i].size() == 5u);
        for (std::size_t k = 1; k < 5; ++k) {
            BOOST_TEST((dues[i][k] - dues[i][k - 1] == 100ms));  // the schedule, not the starts
            BOOST_TEST((starts[i][k] >= dues[i][k]));             // never before its time
        }
        // The one after the overrun started late (at once), the one after that on time again.
        BOOST_TEST((starts[i][2] - dues[i][2] >= 130ms));
        BOOST_TEST((starts[i][4] - dues[i][4] < 80ms));
    }
    BOOST_TEST((r.elapsed >= 400ms));
}

BOOST_AUTO_TEST_CASE(a_ramping_arrival_rate_ends_with_its_stages_and_starts_users_as_needed, *boost::unit_test::timeout(60))
{
    wsload::test::im_server_process server(WSLOAD_IM_SERVER);
    const auto arrivals = wsload::sched::ramping_arrival_rate{0, {{1s, 20}, {500ms, 20}}, 1, 8}.to_plan();  // 10 + 10
    auto config = wsload::test::arrival_run(server, arrivals, arrivals.length());
    std::atomic<int> ran{0};
    auto it = wsload::iterations([&](wsload::user& u) -> wsload::task<> {
        ++ran;
        co_await u.think(150ms);  // about 3 users busy at 20/s
    });
    wsload::runtime::engine engine(
        config, wsload::runtime::iteration_behavior(std::make_shared<const wsload::iterations>(it), true));
    const auto r = engine.run();
    const auto& t = *r.totals;
    BOOST_TEST(ran == 20);
    BOOST_TEST(t[counter_id::iterations] == 20u);
    BOOST_TEST(t[counter_id::dropped_iterations] == 0u);
    BOOST_TEST(t[counter_id::users_started] > 1u);  // more users than the one pre-allocated
    BOOST_TEST(t[counter_id::users_started] <= 8u);
}

BOOST_AUTO_TEST_SUITE_END()
