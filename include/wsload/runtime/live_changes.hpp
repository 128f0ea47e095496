#pragma once
// How the engine applies live changes (runtime/load_control.hpp): the controller that checks a
// change and keeps the run's shape as changed so far (on the caller's thread, under the engine's
// lock), the change as each worker applies it, and the table of phases the workers cut.
//
// A change is accepted at a time T and posted to every worker. A worker applies it on its own
// thread at its own t >= T (microseconds later): it first does what its current plan had due up
// to t, then follows a plan that starts at t from the users its plan had running at t (closed
// model), or the same arrivals up to t and the new rate after (open model). Every user index and
// every iteration number is owned by one worker, so the workers agree without talking: a start
// or stop between T and t is done by its owner under the old plan or not at all.

#include <wsload/core/error.hpp>
#include <wsload/runtime/load_control.hpp>
#include <wsload/runtime/run_config.hpp>
#include <wsload/sched/arrivals.hpp>
#include <wsload/sched/plan.hpp>
#include <wsload/sched/shapes.hpp>
#include <wsload/stats/metrics.hpp>
#include <wsload/stats/phases.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace wsload::runtime {

/// A change as the workers apply it.
struct live_change {
    std::chrono::nanoseconds at{0};  ///< when it was accepted, since the start: its phase's start
    std::size_t phase = 0;           ///< its phase's number in the phase_table
    bool arrivals = false;           ///< a rate (open model); else users (closed model)
    std::uint64_t target = 0;        ///< users: where to go
    double per_second = 0;           ///< users: the spawn rate (0: none); arrivals: the new rate
    std::optional<std::chrono::nanoseconds> over = {};  ///< the time to get there, when given

    /// Closed model: how long going from `from` users to the target takes.
    std::chrono::nanoseconds ramp(std::uint64_t from) const noexcept
    {
        if (over) return *over;
        if (!(per_second > 0)) return std::chrono::nanoseconds(0);
        const auto users = static_cast<double>(target > from ? target - from : from - target);
        // At most a century: a rate near 0 means "never", not an overflow.
        const double seconds = std::min(users / per_second, 100.0 * 365 * 24 * 3600);
        return std::chrono::nanoseconds(static_cast<std::int64_t>(std::llround(seconds * 1e9)));
    }
};

/// The run's phases as they are cut: the shape's, then one per live change. Each worker adds its
/// shard to phase k's reading at k's start, on its own thread, once per phase (the lock is taken
/// a few times per phase, never per event). A live change drops the shape's phases that start
/// after it: its target holds until the run's end.
class phase_table {
public:
    explicit phase_table(const std::vector<sched::phase>& shape)
    {
        for (const auto& p : shape) entries_.push_back({{p.name, p.start, p.users}});
    }

    /// Adds one worker's shard, as it is now, to the reading at phase k's start (k >= 1).
    void cut(std::size_t k, const stats::shard& s)
    {
        std::lock_guard lock(mutex_);
        auto& e = entries_.at(k);
        if (e.dropped) return;  // begun on this worker before the change that dropped it arrived
        if (!e.reading) e.reading = std::make_unique<stats::totals>();
        e.reading->add(s);
        ++e.workers;
    }

    /// A phase from `at` on, for a live change; returns its number. The phases that start later
    /// are dropped. A shape without phases gets "initial" (from 0, to `initial_users`) first.
    std::size_t begin_live(std::string name, std::chrono::nanoseconds at, std::uint64_t users,
                           std::uint64_t initial_users)
    {
        std::lock_guard lock(mutex_);
        if (entries_.empty()) entries_.push_back({{"initial", std::chrono::nanoseconds(0), initial_users}});
        for (auto& e : entries_)
            if (e.mark.start > at) e.dropped = true;
        entries_.push_back({{std::move(name), at, users}});
        return entries_.size() - 1;
    }

    /// The name of the last phase begun by `t` ("" when the shape names none).
    std::string current(std::chrono::nanoseconds t) const
    {
        std::lock_guard lock(mutex_);
        std::string name;
        for (const auto& e : entries_)
            if (!e.dropped && e.mark.start <= t) name = e.mark.name;
        return name;
    }

    /// The run cut by phase, once the workers are done: the phases every worker read (a run that
    /// ended as a phase began may have read it on some only: it was not reached).
    std::vector<stats::phase_result> results(const stats::totals& end, std::chrono::nanoseconds elapsed, std::size_t workers)
    {
        std::lock_guard lock(mutex_);
        std::vector<stats::phase_mark> marks;
        std::vector<std::unique_ptr<stats::totals>> starts;
        for (auto& e : entries_) {
            if (e.dropped) continue;
            if (!marks.empty()) {
                if (e.workers != workers) break;
                starts.push_back(std::move(e.reading));
            }
            marks.push_back(e.mark);
        }
        return stats::cut_phases(marks, std::move(starts), end, elapsed);
    }

private:
    struct entry {
        stats::phase_mark mark;
        std::unique_ptr<stats::totals> reading = {};  ///< every worker's shard at its start (none for the first)
        std::size_t workers = 0;                      ///< how many workers have added theirs
        bool dropped = false;                         ///< a live change began before it did
    };
    mutable std::mutex mutex_;
    std::deque<entry> entries_;  ///< a deque: appended while workers hold references into it
};

/// Checks live changes and keeps the run's shape as changed so far, as the control sees it (each
/// worker keeps its own, microseconds apart). Not locked: the engine calls it under its lock.
class live_controller {
public:
    /// A change accepted (`change`, its phase's `name` and `users`) or not (`result`).
    struct decision {
        change_result result;
        live_change change = {};
        std::string name = {};
        std::uint64_t users = 0;
    };

    live_controller(const run_config& config, const sched::plan& shape)
        : open_(config.arrivals.has_value()), plan_(shape)
    {
        if (open_) {
            arrivals_ = *config.arrivals;
            max_users_ = arrivals_.max_users();
        } else {
            max_users_ = config.live_max_users ? config.live_max_users : default_max_users(shape);
            // The shape's own spawn rate, for changes that give none: its first ramp up's.
            for (const auto& s : shape.segments())
                if (s.to > s.from && s.length.count() > 0) {
                    spawn_rate_ = static_cast<double>(s.to - s.from) / std::chrono::duration<double>(s.length).count();
                    break;
                }
        }
    }

    /// Without --live-max-users: ten times the shape's peak, and at least 1,000 (a typo's extra
    /// zeros are refused; a real step up is not).
    static std::uint64_t default_max_users(const sched::plan& shape) noexcept
    {
        return std::max<std::uint64_t>(1000, shape.peak() > UINT64_MAX / 10 ? UINT64_MAX : shape.peak() * 10);
    }

    /// The users the shape goes to `at` (the phase "initial" of a shape without phases).
    std::uint64_t initial_users() const noexcept { return open_ ? max_users_ : plan_.final_users(); }
    std::uint64_t changes() const noexcept { return changes_; }

    decision users(const users_change& c, std::chrono::nanoseconds at)
    {
        if (open_)
            return refuse("this run is an open model: its users follow its arrival rate (change the arrival rate)");
        if (c.spawn_rate && c.over) return invalid("give a spawn rate or a time to get there, not both");
        if (c.spawn_rate && !(*c.spawn_rate > 0 && std::isfinite(*c.spawn_rate)))
            return invalid("the spawn rate must be above 0 users/s");
        if (c.over && c.over->count() < 0) return invalid("the time to get there must be 0 or more");
        if (c.target > max_users_)
            return refuse(sched::detail::users_text(c.target) + " is above this run's maximum of " +
                          std::to_string(max_users_) + " (--live-max-users)");
        if (c.spawn_rate) spawn_rate_ = *c.spawn_rate;
        live_change change{.at = at, .target = c.target, .per_second = c.over ? 0 : spawn_rate_, .over = c.over};
        follow(change);
        return {change_result::ok(), change, "live " + sched::detail::users_text(c.target), c.target};
    }

    decision spawn_rate(double per_second, std::chrono::nanoseconds at)
    {
        if (open_) return refuse("this run is an open model: it has an arrival rate, not a spawn rate");
        if (!(per_second > 0 && std::isfinite(per_second))) return invalid("the spawn rate must be above 0 users/s");
        spawn_rate_ = per_second;
        const auto target = plan_.target_at(at);
        live_change change{.at = at, .target = target, .per_second = per_second, .over = std::nullopt};
        follow(change);
        return {change_result::ok(), change, "live " + sched::detail::users_text(target) + " at " + number(per_second) + "/s",
                target};
    }

    decision arrival_rate(const rate_change& c, std::chrono::nanoseconds at)
    {
        if (!open_) return refuse("this run is a closed model: it has no arrival rate (change its users)");
        if (!(c.per_second >= 0 && std::isfinite(c.per_second)))
            return invalid("the arrival rate must be 0 or more iterations/s");
        if (c.over.count() < 0) return invalid("the time to get there must be 0 or more");
        arrivals_ = follow(arrivals_, c.per_second, c.over, at);
        ++changes_;
        return {change_result::ok(), {.at = at, .arrivals = true, .per_second = c.per_second, .over = c.over},
                "live " + number(c.per_second) + " iterations/s", max_users_};
    }

    /// The open-model plan a worker follows after a rate change at `t`, from the one it followed.
    static sched::arrival_plan follow(const sched::arrival_plan& walked, double per_second, std::chrono::nanoseconds over,
                                      std::chrono::nanoseconds t)
    {
        auto p = walked.until(t);
        p.go_to(per_second, over).hold(sched::arrival_rate::run_length);
        return p;
    }
    /// The closed-model plan a worker follows after a change at `t`, from the one it followed.
    static sched::plan follow(const sched::plan& walked, const live_change& c, std::chrono::nanoseconds t)
    {
        const auto from = walked.users_at(t);
        auto p = sched::plan::starting_at(t, from);
        p.go_to(c.target, c.ramp(from));
        return p;
    }

    /// The state's figures that come from the shape.
    void fill(load_state& s, std::chrono::nanoseconds at) const
    {
        s.open_model = open_;
        s.max_users = max_users_;
        s.changes = changes_;
        if (open_) {
            s.arrival_rate = arrivals_.rate_at(at);
        } else {
            s.target_users = plan_.target_at(at);
            const auto ramping = plan_.rate_at(at);
            s.spawn_rate = ramping > 0 ? ramping : spawn_rate_;
        }
    }

private:
    void follow(const live_change& c)
    {
        plan_ = follow(plan_, c, c.at);
        ++changes_;
    }
    static decision refuse(std::string why) { return {change_result::no(std::move(why))}; }
    static decision invalid(std::string why) { return {change_result::bad(std::move(why))}; }
    static std::string number(double v)
    {
        char text[32];
        std::snprintf(text, sizeof text, "%g", v);
        return text;
    }

    bool open_;
    sched::plan plan_;               ///< closed: the shape as changed so far
    sched::arrival_plan arrivals_;   ///< open: the rate as changed so far
    std::uint64_t max_users_ = 0;
    double spawn_rate_ = 0;          ///< closed: what a change without a rate or a time uses (0: at once)
    std::uint64_t changes_ = 0;
};

}  // namespace wsload::runtime
