#ifndef BOOST_TEST_DYN_LINK
#define BOOST_TEST_DYN_LINK
#endif
// Load shapes as plans (sched/): every user's starts and stops, walked per worker as the engine
// does, against the formulas the shapes promise; and their command-line forms.
#include <wsload/sched/plan.hpp>
#include <wsload/sched/arrivals.hpp>
#include <wsload/sched/pacer.hpp>
#include <wsload/sched/pacing.hpp>
#include <wsload/sched/shapes.hpp>
#include <wsload/stats/errors.hpp>

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <vector>

using namespace std::chrono_literals;
namespace sched = wsload::sched;

namespace {

/// Every worker's events of `p`, as the engine's workers walk them; checks on the way that each
/// worker's events are in time order and are its own users'.
std::vector<sched::user_event> walk(const sched::plan& p, unsigned workers)
{
    std::vector<sched::user_event> all;
    for (unsigned w = 0; w < workers; ++w) {
        sched::plan_cursor cursor(p, w, workers);
        std::chrono::nanoseconds last{-1};
        while (const auto e = cursor.next()) {
            BOOST_REQUIRE(e->index % workers == w);
            BOOST_REQUIRE(e->at >= last);
            last = e->at;
            all.push_back(*e);
        }
    }
    std::stable_sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.at < b.at; });
    return all;
}

/// Users running at t by the events (start at or before t counts, stop at or before t counts).
std::uint64_t running_at(const std::vector<sched::user_event>& events, std::chrono::nanoseconds t)
{
    std::int64_t n = 0;
    for (const auto& e : events)
        if (e.at <= t) n += e.start ? 1 : -1;
    return static_cast<std::uint64_t>(n);
}

std::int64_t ns(std::chrono::nanoseconds d) { return d.count(); }

}  // namespace

BOOST_AUTO_TEST_SUITE(load_shape)

BOOST_AUTO_TEST_CASE(linear_ramp_spreads_users_evenly_over_the_workers)
{
    const auto p = sched::linear_ramp{10'000, 10s}.to_plan();
    BOOST_TEST(p.peak() == 10'000u);
    BOOST_TEST(!p.has_own_length());
    BOOST_TEST(p.description() == "10000 users over 10s");
    for (unsigned workers : {1u, 3u, 8u}) {
        const auto events = walk(p, workers);
        BOOST_REQUIRE(events.size() == 10'000u);
        std::vector<int> seen(10'000, 0);
        for (const auto& e : events) {
            BOOST_REQUIRE(e.start);
            ++seen[e.index];
            // user i at ramp * i / users: 1 ms apart, user 0 at the start
            BOOST_REQUIRE(ns(e.at) == static_cast<std::int64_t>(e.index) * 1'000'000);
        }
        BOOST_TEST(std::all_of(seen.begin(), seen.end(), [](int n) { return n == 1; }));
    }
}

BOOST_AUTO_TEST_CASE(zero_ramp_starts_everyone_at_once_and_long_ramps_do_not_overflow)
{
    const auto at_once = walk(sched::linear_ramp{1000, 0s}.to_plan(), 2);
    BOOST_TEST(at_once.size() == 1000u);
    BOOST_TEST(std::all_of(at_once.begin(), at_once.end(), [](const auto& e) { return e.at.count() == 0; }));
    const auto long_ramp = sched::linear_ramp{10'000'000, 24h}.to_plan();
    sched::plan_cursor c(long_ramp, 0, 1);
    sched::user_event last;
    while (const auto e = c.next()) last = *e;
    BOOST_TEST(last.index == 9'999'999u);
    BOOST_TEST(ns(last.at) == ns(24h) / 10'000'000 * 9'999'999);
}

BOOST_AUTO_TEST_CASE(spawn_rate_starts_rate_users_a_second)
{
    const auto p = sched::spawn_rate{100, 8}.to_plan();  // 12.5 s to start 100
    BOOST_TEST(p.length().count() == ns(12500ms));
    BOOST_TEST(p.description() == "100 users at 8/s");
    for (const auto& e : walk(p, 3)) BOOST_REQUIRE(ns(e.at) == static_cast<std::int64_t>(e.index) * 125'000'000);
    BOOST_CHECK_THROW(sched::spawn_rate({10, 0}).to_plan(), wsload::usage_error);
}

BOOST_AUTO_TEST_CASE(stages_go_linearly_and_stop_the_newest_users_first)
{
    const auto p = sched::stages{{10s, 100}, {10s, 100}, {10s, 0}}.to_plan();
    BOOST_TEST(p.peak() == 100u);
    BOOST_TEST(p.length().count() == ns(30s));
    BOOST_TEST(p.has_own_length());
    BOOST_TEST(p.ramps_down());
    BOOST_TEST(p.final_users() == 0u);
    BOOST_TEST(p.description() == "stages 10s:100, 10s:100, 10s:0");
    BOOST_REQUIRE(p.phases().size() == 3u);
    BOOST_TEST(p.phases()[2].name == "stage 3");
    BOOST_TEST(p.phases()[2].start.count() == ns(20s));

    const auto events = walk(p, 4);
    BOOST_REQUIRE(events.size() == 200u);
    std::map<std::uint64_t, std::chrono::nanoseconds> started, stopped;
    for (const auto& e : events) (e.start ? started : stopped)[e.index] = e.at;
    BOOST_TEST(started.size() == 100u);
    BOOST_TEST(stopped.size() == 100u);
    for (std::uint64_t i = 0; i < 100; ++i) {
        BOOST_REQUIRE(ns(started[i]) == static_cast<std::int64_t>(i) * 100'000'000);      // i * 10s / 100
        BOOST_REQUIRE(ns(stopped[i]) == ns(20s) + static_cast<std::int64_t>(100 - i) * 100'000'000);  // newest first
    }
    BOOST_TEST(ns(stopped[99]) == ns(20s) + 100'000'000);
    BOOST_TEST(ns(stopped[0]) == ns(30s));  // the last one at the stage's end
    // users_at agrees with the events, everywhere.
    for (auto t = 0ns; t <= 31s; t += 37ms) BOOST_REQUIRE(p.users_at(t) == running_at(events, t));
    BOOST_TEST(p.users_at(15s) == 100u);
    BOOST_TEST(p.users_at(31s) == 0u);
}

BOOST_AUTO_TEST_CASE(a_shape_going_back_up_starts_the_same_indices_again)
{
    const auto p = sched::stages{{0s, 10}, {5s, 10}, {0s, 4}, {5s, 4}, {0s, 10}, {5s, 10}}.to_plan();
    const auto events = walk(p, 3);
    std::map<std::uint64_t, int> starts, stops;
    for (const auto& e : events) ++(e.start ? starts : stops)[e.index];
    for (std::uint64_t i = 0; i < 10; ++i) {
        BOOST_TEST(starts[i] == (i < 4 ? 1 : 2));
        BOOST_TEST(stops[i] == (i < 4 ? 0 : 1));
    }
    for (auto t = 0ns; t <= 16s; t += 250ms) BOOST_REQUIRE(p.users_at(t) == running_at(events, t));
}

BOOST_AUTO_TEST_CASE(steps_hold_each_level_after_a_warm_up)
{
    const auto p = sched::steps{{10, 50, 100}, 2min, 0s, 5, 30s}.to_plan();
    BOOST_TEST(p.length().count() == ns(30s + 6min));
    BOOST_TEST(p.peak() == 100u);
    BOOST_TEST(p.has_own_length());
    BOOST_TEST(!p.ramps_down());
    BOOST_REQUIRE(p.phases().size() == 4u);
    BOOST_TEST(p.phases()[0].name == "warm-up");
    BOOST_TEST(p.phases()[1].name == "level 10");
    BOOST_TEST(p.phases()[1].start.count() == ns(30s));
    BOOST_TEST(p.phases()[3].name == "level 100");
    BOOST_TEST(p.phases()[3].start.count() == ns(30s + 4min));
    const auto events = walk(p, 2);
    BOOST_TEST(running_at(events, 0s) == 5u);
    BOOST_TEST(running_at(events, 30s) == 10u);
    BOOST_TEST(running_at(events, 2min + 29s) == 10u);
    BOOST_TEST(running_at(events, 2min + 30s) == 50u);
    BOOST_TEST(running_at(events, 4min + 30s) == 100u);
    // With a ramp into each level: level 50 reached over 10 s.
    const auto ramped = sched::steps{{10, 50}, 1min, 10s}.to_plan();
    BOOST_TEST(ramped.users_at(1min + 10s - 1ns) == 10u);  // level 10 reached at 10 s, held 1 min
    BOOST_TEST(ramped.users_at(1min + 10s) == 11u);        // the ramp to 50 starts its first user at once
    BOOST_TEST(ramped.users_at(1min + 15s) == 31u);
    BOOST_TEST(ramped.users_at(1min + 20s) == 50u);
    BOOST_CHECK_THROW(sched::steps({{10}, 0s}).to_plan(), wsload::usage_error);
    BOOST_CHECK_THROW(sched::steps({{}, 1s}).to_plan(), wsload::usage_error);
}

BOOST_AUTO_TEST_CASE(batches_start_together_at_each_interval)
{
    const auto p = sched::batches{12, 5, 2s}.to_plan();
    BOOST_TEST(p.length().count() == ns(4s));
    const auto events = walk(p, 2);
    BOOST_REQUIRE(events.size() == 12u);
    for (const auto& e : events) BOOST_REQUIRE(ns(e.at) == static_cast<std::int64_t>(e.index / 5) * ns(2s));
    BOOST_TEST(p.description() == "12 users in batches of 5 every 2s");
}

BOOST_AUTO_TEST_CASE(a_plan_from_a_live_change_starts_where_the_users_are)
{
    // At 1 s, 4 users run (of a ramp to 10 over 2.5 s); the change goes to 8 at 4 users/s.
    const auto before = sched::linear_ramp{10, 2500ms}.to_plan();
    BOOST_TEST(before.users_at(1s) == 5u);  // users 0..4 at 0, 0.25, 0.5, 0.75, 1 s
    BOOST_TEST(before.target_at(1s) == 10u);
    BOOST_TEST(before.rate_at(1s) == 4.0);
    BOOST_TEST(before.target_at(3s) == 10u);
    BOOST_TEST(before.rate_at(3s) == 0.0);
    auto up = sched::plan::starting_at(1s, 5);
    BOOST_TEST(up.users_at(1s) == 5u);
    up.go_to(8, 750ms);
    BOOST_TEST(up.users_at(1s) == 6u);  // user 5 at once
    BOOST_TEST(up.users_at(2s) == 8u);
    BOOST_TEST(up.target_at(1200ms) == 8u);
    const auto events = walk(up, 2);
    BOOST_REQUIRE(events.size() == 3u);  // users 5, 6, 7; the 5 before are not the plan's to start
    for (std::size_t k = 0; k < 3; ++k) {
        BOOST_TEST(events[k].index == 5 + k);
        BOOST_TEST(events[k].start);
        BOOST_TEST(events[k].at.count() == ns(1s) + static_cast<std::int64_t>(k) * 250'000'000);
    }
    // Down from there: the newest first, the last at the end; nothing below the target.
    auto down = sched::plan::starting_at(1s, 5);
    down.go_to(2, 0s);
    const auto stops = walk(down, 3);
    BOOST_REQUIRE(stops.size() == 3u);
    for (const auto& e : stops) BOOST_TEST((!e.start && e.index >= 2 && e.index <= 4 && e.at == 1s));
    BOOST_TEST(down.users_at(5s) == 2u);
    // A change to where it is: no event, the users held.
    auto same = sched::plan::starting_at(1s, 5);
    same.go_to(5, 0s);
    BOOST_TEST(walk(same, 2).empty());
    BOOST_TEST(same.users_at(9s) == 5u);
}

BOOST_AUTO_TEST_CASE(command_line_forms_and_their_errors)
{
    const auto s = sched::parse_stages("30s:100,1m:100,20s:0");
    BOOST_REQUIRE(s.list.size() == 3u);
    BOOST_TEST(s.list[1].duration.count() == ns(1min));
    BOOST_TEST(s.list[2].target == 0u);
    const auto message = [](auto f) {
        try {
            f();
        } catch (const wsload::usage_error& e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    BOOST_TEST(message([] { sched::parse_stages("30s"); }) == "\"30s\" is not a stage (write duration:target, e.g. 30s:100)");
    BOOST_TEST(message([] { sched::parse_stages("30s:ten"); }) == "\"ten\" is not a number of users (in stage \"30s:ten\")");
    BOOST_TEST(message([] { sched::parse_stages("30s:10,"); }) == "\"\" is not a stage (write duration:target, e.g. 30s:100)");
    BOOST_TEST(message([] { sched::parse_stages("30s:0").to_plan(); }) == "stages: every target is 0 (no user would start)");
    BOOST_TEST(sched::parse_levels("10,50,100").size() == 3u);
    BOOST_TEST(message([] { sched::parse_levels("10,0"); }) == "\"0\" is not a level (give users per level, e.g. 10,50,100)");
    BOOST_TEST(message([] { sched::parse_levels("10,,20"); }) == "\"\" is not a level (give users per level, e.g. 10,50,100)");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(pacing_and_errors)

BOOST_AUTO_TEST_CASE(a_pacer_hands_out_slots_an_interval_apart)
{
    wsload::sched::pacer p;
    const auto t0 = wsload::clock::now();
    BOOST_TEST((p.claim("login", 2s, t0) == t0));
    BOOST_TEST((p.claim("login", 2s, t0 + 1s) == t0 + 2s));
    BOOST_TEST((p.claim("login", 2s, t0 + 1s) == t0 + 4s));
    BOOST_TEST((p.claim("login", 2s, t0 + 10s) == t0 + 10s));  // a quiet spell: no catching up
    BOOST_TEST((p.claim("connect", 5s, t0 + 1s) == t0 + 1s));  // steps are paced apart
}

BOOST_AUTO_TEST_CASE(a_fixed_interval_keeps_its_due_times_whenever_the_sender_is_ready)
{
    const auto t0 = wsload::clock::time_point{} + 1h;
    sched::send_schedule s(wsload::pacing::every(100ms), t0, 30ms);
    BOOST_TEST(!s.pacing().is_closed_loop());
    BOOST_TEST((s.next(t0) == t0 + 30ms));           // the user's own point of the first interval
    BOOST_TEST((s.next(t0 + 31ms) == t0 + 130ms));   // on time
    // The reply came 450 ms late: the sends it held up are still due when they were due, so
    // their round trips (measured from these times) show the wait.
    BOOST_TEST((s.next(t0 + 580ms) == t0 + 230ms));
    BOOST_TEST((s.next(t0 + 581ms) == t0 + 330ms));
    BOOST_TEST(s.sends() == 4u);
    // per_second is the same schedule named by its rate.
    sched::send_schedule r(wsload::pacing::per_second(20), t0, 0ms);
    r.next(t0);
    BOOST_TEST((r.next(t0) == t0 + 50ms));
}

BOOST_AUTO_TEST_CASE(a_closed_loop_is_due_when_the_sender_is_ready)
{
    // im_bench --message-interval 0 once measured every round trip from the user's first due
    // time (P50 2.1 s against a 0.2 ms echo): a closed loop's sends are due when they go.
    const auto t0 = wsload::clock::time_point{} + 1h;
    sched::send_schedule s(wsload::pacing::every(0s), t0, 30ms);
    BOOST_TEST(s.pacing().is_closed_loop());
    BOOST_TEST((s.next(t0) == t0));  // no offset: nothing to spread
    BOOST_TEST((s.next(t0 + 2s) == t0 + 2s));
    BOOST_TEST((s.next(t0 + 5s) == t0 + 5s));
    sched::send_schedule thinking(wsload::pacing::closed_loop(250ms), t0, 0ms);
    BOOST_TEST((thinking.next(t0 + 1s) == t0 + 1250ms));
}

BOOST_AUTO_TEST_CASE(a_pacing_that_cannot_be_refuses_with_one_line)
{
    BOOST_CHECK_THROW(wsload::pacing::every(-1ms), wsload::usage_error);
    BOOST_CHECK_THROW(wsload::pacing::per_second(0), wsload::usage_error);
    BOOST_CHECK_THROW(wsload::pacing::per_second(-3), wsload::usage_error);
    BOOST_CHECK_THROW(wsload::pacing::per_second(std::nan("")), wsload::usage_error);
    BOOST_CHECK_THROW(wsload::pacing::closed_loop(-1s), wsload::usage_error);
}

BOOST_AUTO_TEST_CASE(the_errors_table_counts_by_message_and_stays_bounded)
{
    wsload::stats::error_table table;
    table.count("iteration", "boom");
    table.count("iteration", "boom");
    table.count("behaviour", "boom");
    for (int i = 0; i < 200; ++i) table.count("iteration", "user " + std::to_string(i) + " refused");
    table.count("iteration", std::string(1000, 'x'));
    wsload::stats::error_counts all;
    table.add_to(all);
    BOOST_TEST(all.size() == wsload::stats::error_message_limit + 1);
    BOOST_TEST(all["iteration: boom"] == 2u);
    BOOST_TEST(all["behaviour: boom"] == 1u);
    std::uint64_t sum = 0;
    for (const auto& [message, n] : all) sum += n;
    BOOST_TEST(sum == 204u);  // every exception counted, the overflow under one line
    BOOST_TEST(all[std::string(wsload::stats::other_errors)] == 204u - 2 - 1 - 98);  // 98 user messages kept
    wsload::stats::error_counts twice = all;
    wsload::stats::merge_errors(twice, all);
    BOOST_TEST(twice["iteration: boom"] == 4u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(arrival_rates)

namespace {
std::vector<std::int64_t> arrivals_of(const sched::arrival_plan& p, unsigned workers, bool poisson = false,
                                      std::chrono::nanoseconds until = std::chrono::hours(1))
{
    std::vector<std::int64_t> all;
    for (unsigned w = 0; w < workers; ++w) {
        sched::arrival_cursor c(p, w, workers, poisson, 42);
        std::int64_t last = -1;
        while (const auto at = c.next()) {
            if (*at > until) break;
            BOOST_REQUIRE(at->count() >= last);
            last = at->count();
            all.push_back(at->count());
        }
    }
    std::sort(all.begin(), all.end());
    return all;
}
}  // namespace

BOOST_AUTO_TEST_CASE(a_constant_rate_starts_iterations_evenly_over_the_workers)
{
    const auto p = sched::arrival_rate{10, 5, 20}.to_plan();
    BOOST_TEST(p.summary() == "10 iterations/s, 5 users pre-allocated, up to 20");
    BOOST_TEST(!p.has_own_length());
    const auto a = arrivals_of(p, 3, false, 10s - 1ns);
    BOOST_REQUIRE(a.size() == 100u);  // 10 s at 10/s: k = 0..99
    for (std::size_t k = 0; k < a.size(); ++k) BOOST_REQUIRE(a[k] == static_cast<std::int64_t>(k) * 100'000'000);
}

BOOST_AUTO_TEST_CASE(a_ramping_rate_follows_the_integral_and_ends_with_its_stages)
{
    // 0 -> 10/s over 10 s (50 iterations), then 10/s for 2 s (20 more)
    const auto p = sched::ramping_arrival_rate{0, {{10s, 10}, {2s, 10}}, 2, 4}.to_plan();
    BOOST_TEST(p.has_own_length());
    BOOST_TEST(p.length().count() == ns(12s));
    BOOST_TEST(p.total() == 70.0);
    const auto a = arrivals_of(p, 2);
    BOOST_REQUIRE(a.size() == 70u);  // k < 70, the plan ends
    // In the ramp the rate is t per second: k at sqrt(2k) s.
    for (std::size_t k = 0; k < 50; ++k) BOOST_REQUIRE(std::abs(a[k] - std::llround(std::sqrt(2.0 * k) * 1e9)) < 1000);
    for (std::size_t k = 50; k < 70; ++k) BOOST_REQUIRE(std::abs(a[k] - (ns(10s) + static_cast<std::int64_t>(k - 50) * 100'000'000)) < 1000);
    BOOST_TEST(sched::parse_rate_stages("30s:50,1m:0.5").size() == 2u);
    BOOST_CHECK_THROW(sched::parse_rate_stages("30s:-1"), wsload::usage_error);
    BOOST_CHECK_THROW(sched::parse_rate_stages("30s"), wsload::usage_error);
    BOOST_CHECK_THROW((sched::ramping_arrival_rate{0, {{10s, 0}}, 1, 1}.to_plan()), wsload::usage_error);
}

BOOST_AUTO_TEST_CASE(poisson_arrivals_keep_the_rate_and_repeat_with_the_seed)
{
    const auto p = sched::arrival_rate{100, 1, 1}.to_plan();
    const auto a = arrivals_of(p, 2, true, 100s);
    BOOST_TEST(a.size() > 9'500u);  // 10,000 expected; a Poisson count's sd is 100
    BOOST_TEST(a.size() < 10'500u);
    BOOST_TEST((a == arrivals_of(p, 2, true, 100s)));  // same seed, same arrivals
    std::size_t even = 0;  // not evenly spaced
    for (std::size_t k = 1; k < a.size(); ++k) even += (a[k] - a[k - 1] == 10'000'000);
    BOOST_TEST(even < a.size() / 10);
}

BOOST_AUTO_TEST_CASE(a_live_change_continues_the_arrivals_before_it_and_follows_the_new_rate)
{
    // 10/s, changed at 3.05 s to 40/s at once: iterations 0..30 keep their times (k / 10 s),
    // then they come 25 ms apart, the integral going on from 30.5 (the next, k = 31, at 3.0625 s).
    const auto p = sched::arrival_rate{10, 1, 1}.to_plan();
    BOOST_TEST(p.rate_at(2s) == 10.0);
    auto changed = p.until(3050ms);
    BOOST_TEST(changed.length().count() == ns(3050ms));
    BOOST_TEST(std::abs(changed.total() - 30.5) < 1e-9);
    BOOST_TEST(!changed.time_of(31).has_value());  // cut there: no more before the change
    changed.go_to(40, 0s).hold(sched::arrival_rate::run_length);
    BOOST_TEST(changed.rate_at(4s) == 40.0);
    for (int k = 0; k <= 30; ++k) BOOST_REQUIRE(changed.time_of(k)->count() == p.time_of(k)->count());
    BOOST_TEST(changed.time_of(31)->count() == ns(3050ms) + 12'500'000);
    BOOST_TEST(changed.time_of(32)->count() == ns(3050ms) + 37'500'000);

    // A worker's cursor follows the changed plan and keeps its own numbers: worker 1 of 2 had
    // taken k = 31 (at 3.1 s under the old rate); again() gives it under the new one.
    sched::arrival_cursor c(p, 1, 2, false, 1);
    std::optional<std::chrono::nanoseconds> at;
    do at = c.next(); while (*at < 3050ms);
    BOOST_TEST(at->count() == ns(3100ms));
    c.follow(changed);
    BOOST_TEST(c.again()->count() == ns(3050ms) + 12'500'000);
    BOOST_TEST(c.next()->count() == ns(3050ms) + 62'500'000);  // k = 33

    // A ramp cut in its middle: the rate where it was, the earlier times unchanged.
    const auto ramp = sched::ramping_arrival_rate{0, {{10s, 10}}, 1, 1}.to_plan();
    const auto cut = ramp.until(5s);
    BOOST_TEST(std::abs(cut.rate_at(4s) - 4.0) < 1e-9);
    BOOST_TEST(std::abs(cut.total() - 12.5) < 1e-9);
    for (int k = 0; k <= 12; ++k) BOOST_REQUIRE(cut.time_of(k)->count() == ramp.time_of(k)->count());
    // Past the plan's end: its last rate held to the change.
    const auto held = ramp.until(12s);
    BOOST_TEST(std::abs(held.total() - 70.0) < 1e-9);
    BOOST_TEST(held.rate_at(11s) == 10.0);
}

BOOST_AUTO_TEST_SUITE_END()
