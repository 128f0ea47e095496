#pragma once
// What the in-process cases of a load shape share: a run that follows a plan against an
// im_server on two threads, a user that asks until it is stopped, and the check that the run's
// phases add up to its totals exactly.

#include <support/child_process.hpp>
#include <support/layer_under_test.hpp>
#include <wsload/core/task.hpp>
#include <wsload/net/url.hpp>
#include <wsload/runtime/user.hpp>
#include <wsload/runtime/run_config.hpp>
#include <wsload/sched/arrivals.hpp>
#include <wsload/sched/plan.hpp>
#include <wsload/stats/run_result.hpp>

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <string>
#include <string_view>

namespace wsload::test {

/// A run of `plan` against `server`, bounded by the plan's length + 10 s (the run ends when
/// every user has ended).
inline wsload::run_config shaped_run(const im_server_process& server, const wsload::sched::plan& plan)
{
    wsload::run_config c;
    c.name = "load-shape";
    c.target = wsload::net::parse_url("ws://127.0.0.1:" + std::to_string(server.port()) + "/ws");
    c.load = plan;
    c.users = plan.peak();
    c.duration = plan.length() + std::chrono::seconds(10);
    c.threads = 2;
    c.ws_layer = layer_under_test();
    return c;
}

/// An open-model run of `arrivals` against `server` that lasts `duration`.
inline wsload::run_config arrival_run(const im_server_process& server, wsload::sched::arrival_plan arrivals,
                                      std::chrono::nanoseconds duration)
{
    auto c = shaped_run(server, wsload::sched::plan().go_to(arrivals.max_users(), std::chrono::nanoseconds(0)));
    c.load.reset();
    c.arrivals = std::move(arrivals);
    c.duration = duration;
    return c;
}

/// Connects, then asks and waits 50 ms until the shape or the run stops it.
inline wsload::task<> ask_until_stopped(wsload::user& u)
{
    auto ws = co_await u.websocket();
    if (!ws) co_return;
    while (u.running()) {
        const auto text = "hi " + u.id();
        // Captured by reference: a lambda holding a string, made inside the co_await
        // expression, would be destroyed twice by g++ 12.
        const auto answers = [&text](std::string_view m) { return m == text; };
        co_await ws.request(text, answers);
        co_await u.think(std::chrono::milliseconds(50));
    }
}

/// Every counter (but the gauge), failure class and histogram of the phases adds up to the
/// run's. On the test's thread.
inline void check_phases_add_up(const wsload::stats::run_result& r)
{
    namespace stats = wsload::stats;
    stats::totals sum;
    for (const auto& p : r.phases) sum.add(*p.totals);
    const auto& t = *r.totals;
    for (std::size_t i = 0; i < stats::counter_count; ++i)
        if (i != static_cast<std::size_t>(stats::counter_id::active_connections))
            BOOST_TEST(sum.counters[i] == t.counters[i], stats::counter_names[i]);
    BOOST_TEST(sum.connect_failures == t.connect_failures);
    BOOST_TEST(sum.disconnects == t.disconnects);
    BOOST_TEST(sum.request_failures == t.request_failures);
    for (std::size_t i = 0; i < stats::histogram_count; ++i) {
        const auto a = sum.histograms[i].export_state(), b = t.histograms[i].export_state();
        BOOST_TEST(a.count == b.count, stats::histogram_names[i]);
        BOOST_TEST(a.sum == b.sum);
        BOOST_TEST((a.buckets == b.buckets));
    }
}

}  // namespace wsload::test
