#pragma once
// The closed-model shapes a scenario names, each a plan (sched/plan.hpp):
//
//   linear_ramp{users, ramp}           users start evenly over ramp (wsbench's --ramp)
//   spawn_rate{users, per_second}      Locust's --users N --spawn-rate R
//   stages{{30s, 100}, {1m, 100}, {20s, 0}}   k6's ramping-vus: each stage goes linearly
//                                      from the previous target to its own; the run lasts
//                                      as long as the stages
//   steps{{10, 50, 100}, 2m}           seed 001: levels held one after the other (an optional
//                                      warm-up level first, an optional ramp into each level);
//                                      one phase per level
//   batches{users, size, interval}     seed 000: `size` users together every `interval`
//
// and their command-line forms (parse_stages, parse_levels).

#include <wsload/core/duration.hpp>
#include <wsload/core/error.hpp>
#include <wsload/sched/plan.hpp>

#include <charconv>
#include <cstdio>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace wsload::sched {

namespace detail {
inline std::string users_text(std::uint64_t n) { return std::to_string(n) + (n == 1 ? " user" : " users"); }

/// The items of a comma-separated list, empty ones included (for the errors to name them).
inline std::vector<std::string_view> list_items(std::string_view text)
{
    std::vector<std::string_view> items;
    for (std::size_t begin = 0; begin <= text.size();) {
        const auto end = std::min(text.find(',', begin), text.size());
        items.push_back(text.substr(begin, end - begin));
        begin = end + 1;
    }
    return items;
}
}  // namespace detail

/// `users` start evenly spread over `ramp` (all at once when ramp is zero): user i starts at
/// ramp * i / users.
struct linear_ramp {
    std::uint64_t users = 0;
    std::chrono::nanoseconds ramp{0};

    plan to_plan() const
    {
        plan p;
        p.go_to(users, ramp);
        return p.describe(ramp.count() > 0 ? detail::users_text(users) + " over " + format_duration(ramp)
                                           : detail::users_text(users) + " at once");
    }
};

/// Locust's spawn rate: `per_second` users start each second until `users` run (user i at i /
/// per_second seconds).
struct spawn_rate {
    std::uint64_t users = 0;
    double per_second = 1;

    plan to_plan() const
    {
        if (!(per_second > 0) || !std::isfinite(per_second)) throw usage_error("a spawn rate must be above 0 users/s");
        // The ramp in which `users` start at this rate: user i at ramp * i / users = i / rate.
        const auto ramp = std::chrono::nanoseconds(static_cast<std::int64_t>(std::llround(1e9 * static_cast<double>(users) / per_second)));
        plan p;
        p.go_to(users, ramp);
        char rate[32];
        std::snprintf(rate, sizeof rate, "%g", per_second);
        return p.describe(detail::users_text(users) + " at " + rate + "/s");
    }
};

/// k6's stages (ramping-vus): from `start_users`, each stage goes linearly to its target over its
/// duration; a stage to a lower target stops the newest users first. The run lasts as long as
/// the stages unless a duration is given. One phase per stage ("stage 1", ...).
struct stage {
    std::chrono::nanoseconds duration{0};
    std::uint64_t target = 0;
};
struct stages {
    std::vector<stage> list;
    std::uint64_t start_users = 0;

    stages() = default;
    stages(std::initializer_list<stage> l) : list(l) {}
    explicit stages(std::vector<stage> l, std::uint64_t start = 0) : list(std::move(l)), start_users(start) {}

    plan to_plan() const
    {
        if (list.empty()) throw usage_error("stages: give at least one stage (duration:target)");
        plan p;
        p.go_to(start_users, std::chrono::nanoseconds(0));
        std::string text = "stages ";
        for (std::size_t i = 0; i < list.size(); ++i) {
            p.begin_phase("stage " + std::to_string(i + 1), list[i].target);
            p.go_to(list[i].target, list[i].duration);
            text += (i ? ", " : "") + format_duration(list[i].duration) + ":" + std::to_string(list[i].target);
        }
        if (p.peak() == 0) throw usage_error("stages: every target is 0 (no user would start)");
        return p.with_own_length().describe(text);
    }
};

/// Seed 001's levels: an optional warm-up level, then each level held for `hold` (reached over
/// `ramp`, a jump when zero), users kept from one level to the next. One phase per level.
struct steps {
    std::vector<std::uint64_t> levels;
    std::chrono::nanoseconds hold{0};
    std::chrono::nanoseconds ramp{0};
    std::uint64_t warmup_users = 0;
    std::chrono::nanoseconds warmup{0};

    plan to_plan() const
    {
        if (levels.empty()) throw usage_error("steps: give at least one level");
        if (hold.count() <= 0) throw usage_error("steps: each level needs a duration above 0s");
        plan p;
        std::string text = "steps";
        if (warmup_users > 0 && warmup.count() > 0) {
            p.begin_phase("warm-up", warmup_users);
            p.go_to(warmup_users, std::chrono::nanoseconds(0)).hold(warmup);
            text += " warm-up " + std::to_string(warmup_users) + " for " + format_duration(warmup) + ",";
        }
        for (std::size_t i = 0; i < levels.size(); ++i) {
            if (levels[i] == 0) throw usage_error("steps: a level of 0 users");
            p.begin_phase("level " + std::to_string(levels[i]), levels[i]);
            p.go_to(levels[i], ramp).hold(hold);
            text += (i ? "," : " ") + std::to_string(levels[i]);
        }
        text += " users, " + format_duration(hold) + " each";
        if (ramp.count() > 0) text += " (reached over " + format_duration(ramp) + ")";
        return p.with_own_length().describe(text);
    }
};

/// Seed 000's batches: `size` users start together every `interval` until `users` run.
struct batches {
    std::uint64_t users = 0;
    std::uint64_t size = 1;
    std::chrono::nanoseconds interval{0};

    plan to_plan() const
    {
        if (size == 0) throw usage_error("batches: a batch size of 0");
        plan p;
        for (std::uint64_t started = 0; started < users;) {
            if (started > 0) p.hold(interval);
            started = std::min(users, started + size);
            p.go_to(started, std::chrono::nanoseconds(0));
        }
        return p.describe(detail::users_text(users) + " in batches of " + std::to_string(size) + " every " +
                          format_duration(interval));
    }
};

/// "30s:100,1m:100,20s:0" (k6's stages on the command line: duration:target, comma-separated).
inline stages parse_stages(std::string_view text)
{
    std::vector<stage> list;
    for (const auto item : detail::list_items(text)) {
        const auto colon = item.find(':');
        if (colon == std::string_view::npos)
            throw usage_error(wsload::detail::quoted(item) + " is not a stage (write duration:target, e.g. 30s:100)");
        stage s;
        s.duration = parse_duration(item.substr(0, colon));
        const auto target = item.substr(colon + 1);
        const auto [p, ec] = std::from_chars(target.data(), target.data() + target.size(), s.target);
        if (ec != std::errc() || p != target.data() + target.size() || target.empty())
            throw usage_error(wsload::detail::quoted(target) + " is not a number of users (in stage " +
                              wsload::detail::quoted(item) + ")");
        list.push_back(s);
    }
    return stages(std::move(list));
}

/// "10,50,100,200" (seed 001's --clients levels).
inline std::vector<std::uint64_t> parse_levels(std::string_view text)
{
    std::vector<std::uint64_t> levels;
    for (const auto item : detail::list_items(text)) {
        std::uint64_t n = 0;
        const auto [p, ec] = std::from_chars(item.data(), item.data() + item.size(), n);
        if (ec != std::errc() || p != item.data() + item.size() || item.empty() || n == 0)
            throw usage_error(wsload::detail::quoted(item) + " is not a level (give users per level, e.g. 10,50,100)");
        levels.push_back(n);
    }
    return levels;
}

}  // namespace wsload::sched
