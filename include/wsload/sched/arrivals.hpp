#pragma once
// Open-model load shapes: when iterations start, whatever the server's response times (k6's
// constant-arrival-rate and ramping-arrival-rate). A closed model waits for a user to finish
// before its next iteration, so a slow server gets less load and looks better than it is
// (coordinated omission); here an iteration that finds no free user in time is not delayed but
// counted as dropped.
//
// The rate, in iterations per second, goes in straight pieces. Iteration k (0-based) starts when
// the rate's integral reaches k: the first at the start. Each worker takes the iterations
// k = worker, worker + threads, ...; with Poisson arrivals each worker's share is a Poisson
// process of that rate (unit-rate points mapped through the integral), reproducible from the
// seed.

#include <wsload/core/duration.hpp>
#include <wsload/core/error.hpp>
#include <wsload/core/random.hpp>
#include <wsload/sched/shapes.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

namespace wsload::sched {

class arrival_plan {
public:
    /// The rate goes from where it is to `per_second` over `length` (a jump when zero).
    arrival_plan& go_to(double per_second, std::chrono::nanoseconds length)
    {
        if (!(per_second >= 0) || !std::isfinite(per_second)) throw usage_error("an arrival rate must be 0 or more per second");
        if (length.count() > 0) {
            pieces_.push_back({seconds(length_), seconds(length), rate_, per_second, total_});
            total_ += (rate_ + per_second) / 2 * seconds(length);
        }
        length_ += length;
        rate_ = per_second;
        peak_ = std::max(peak_, per_second);
        return *this;
    }
    arrival_plan& hold(std::chrono::nanoseconds length) { return go_to(rate_, length); }
    arrival_plan& with_own_length()
    {
        own_length_ = true;
        return *this;
    }
    arrival_plan& describe(std::string text)
    {
        description_ = std::move(text);
        return *this;
    }
    /// The users that run the iterations: `preallocated` started at once, more (up to
    /// `max_users`; 0: no more) when an iteration is due and none is free.
    arrival_plan& users(std::uint64_t preallocated, std::uint64_t max_users)
    {
        if (preallocated == 0 && max_users == 0) throw usage_error("an arrival rate needs users: give pre-allocated users or a maximum");
        preallocated_ = preallocated;
        max_users_ = std::max(preallocated, max_users);
        return *this;
    }
    std::uint64_t preallocated() const noexcept { return preallocated_; }
    std::uint64_t max_users() const noexcept { return max_users_; }
    /// The description with the users, as reports show it.
    std::string summary() const
    {
        return description_ + ", " + std::to_string(preallocated_) + " users pre-allocated" +
               (max_users_ > preallocated_ ? ", up to " + std::to_string(max_users_) : std::string());
    }

    const std::string& description() const noexcept { return description_; }
    std::chrono::nanoseconds length() const noexcept { return length_; }
    bool has_own_length() const noexcept { return own_length_; }
    double peak_rate() const noexcept { return peak_; }
    /// Iterations the plan starts in all (fractions: the last one may not come).
    double total() const noexcept { return total_; }

    /// Iterations per second at `t` (since the start); after the last piece, where it ended.
    double rate_at(std::chrono::nanoseconds t) const noexcept
    {
        const double x = seconds(t);
        for (const auto& p : pieces_)
            if (x >= p.start && x < p.start + p.length) return p.from + (p.to - p.from) * (x - p.start) / p.length;
        return rate_;
    }

    /// This plan up to `t` only, the piece under way cut there (a plan that ended before `t`
    /// holds its last rate to `t`): what a live change continues with go_to(). The iterations
    /// before `t` keep their times and numbers, so a worker's next one is still its own.
    arrival_plan until(std::chrono::nanoseconds t) const
    {
        auto p = *this;
        if (t >= length_) return p.hold(t - length_);
        const double x = seconds(t);
        p.pieces_.clear();
        p.total_ = 0;
        for (auto piece : pieces_) {
            if (piece.start >= x) break;
            if (piece.start + piece.length > x) {
                piece.to = piece.from + (piece.to - piece.from) * (x - piece.start) / piece.length;
                piece.length = x - piece.start;
            }
            p.total_ = piece.before + (piece.from + piece.to) / 2 * piece.length;
            p.pieces_.push_back(piece);
        }
        p.length_ = t;
        p.rate_ = rate_at(t);
        return p;
    }

    /// When the rate's integral reaches `count`, since the start; nothing when it never does.
    std::optional<std::chrono::nanoseconds> time_of(double count) const noexcept
    {
        for (const auto& p : pieces_) {
            const double in_piece = (p.from + p.to) / 2 * p.length;
            if (count >= p.before + in_piece) continue;  // iteration k exists while k < the integral
            const double m = count - p.before;  // iterations into this piece
            double x;
            const double slope = (p.to - p.from) / p.length;
            if (std::abs(slope) < 1e-12) {
                if (p.from <= 0) continue;
                x = m / p.from;
            } else {
                // from·x + slope·x²/2 = m
                const double disc = std::max(0.0, p.from * p.from + 2 * slope * m);
                x = (std::sqrt(disc) - p.from) / slope;
            }
            x = std::clamp(x, 0.0, p.length);
            return std::chrono::nanoseconds(static_cast<std::int64_t>(std::llround((p.start + x) * 1e9)));
        }
        return std::nullopt;
    }

private:
    struct piece {
        double start, length;  // seconds
        double from, to;       // iterations per second
        double before;         // iterations before the piece
    };
    static double seconds(std::chrono::nanoseconds d) noexcept { return std::chrono::duration<double>(d).count(); }

    std::vector<piece> pieces_;
    std::string description_;
    std::chrono::nanoseconds length_{0};
    double rate_ = 0, peak_ = 0, total_ = 0;
    std::uint64_t preallocated_ = 1, max_users_ = 1;
    bool own_length_ = false;
};

/// One worker's arrivals in time order: iterations k = worker, worker + workers, ... (evenly
/// spaced by the plan), or with `poisson` a Poisson process of the worker's share of the rate.
class arrival_cursor {
public:
    arrival_cursor(const arrival_plan& p, unsigned worker, unsigned workers, bool poisson, std::uint64_t seed)
        : plan_(&p), next_(worker), workers_(workers), poisson_(poisson), random_(seed ^ (0x51ed270b27ULL * (worker + 1)))
    {
        if (poisson_) point_ = exponential();
    }

    /// When the next iteration starts, since the run's start; nothing once the plan is over.
    std::optional<std::chrono::nanoseconds> next()
    {
        if (poisson_) {
            // Unit-rate points, scaled to this worker's share: the share's integral is total/workers.
            last_ = point_ * static_cast<double>(workers_);
            point_ += exponential();
        } else {
            last_ = static_cast<double>(next_);
            next_ += workers_;
        }
        return plan_->time_of(last_);
    }

    /// Follows `p` from now on (a live change of the rate). `p` must agree with the plan followed
    /// so far up to now (arrival_plan::until), so that the iterations keep their numbers; it must
    /// outlive the cursor.
    void follow(const arrival_plan& p) noexcept { plan_ = &p; }
    /// The time the last next() gave, as the plan followed now has it.
    std::optional<std::chrono::nanoseconds> again() const { return plan_->time_of(last_); }

private:
    double exponential() { return -std::log(1.0 - random_.uniform()); }

    const arrival_plan* plan_;
    std::uint64_t next_;
    std::uint64_t workers_;
    bool poisson_;
    random_generator random_;
    double point_ = 0;
    double last_ = 0;  ///< the integral's value next() asked the plan for last
};

/// k6's constant-arrival-rate: `per_second` iterations start each second for the run's
/// duration, on `preallocated` users started at once and up to `max_users` when they are busy.
struct arrival_rate {
    double per_second = 1;
    std::uint64_t preallocated = 1;
    std::uint64_t max_users = 0;  ///< 0: as many as preallocated

    arrival_plan to_plan() const
    {
        if (!(per_second > 0)) throw usage_error("an arrival rate must be above 0 per second");
        char text[64];
        std::snprintf(text, sizeof text, "%g iterations/s", per_second);
        return arrival_plan().go_to(per_second, std::chrono::nanoseconds(0)).hold(run_length).describe(text).users(
            preallocated, max_users);
    }
    /// Held for as long as any run: the run's duration ends it.
    static constexpr std::chrono::nanoseconds run_length = std::chrono::hours(24 * 365 * 100);
};

/// k6's ramping-arrival-rate: from `start_rate`, each stage goes linearly to its rate (iterations
/// per second) over its duration; the run lasts as long as the stages.
struct rate_stage {
    std::chrono::nanoseconds duration{0};
    double rate = 0;
};
struct ramping_arrival_rate {
    double start_rate = 0;
    std::vector<rate_stage> stages;
    std::uint64_t preallocated = 1;
    std::uint64_t max_users = 0;

    arrival_plan to_plan() const
    {
        if (stages.empty()) throw usage_error("arrival stages: give at least one stage (duration:rate)");
        arrival_plan p;
        p.go_to(start_rate, std::chrono::nanoseconds(0));
        std::string text = "arrival stages ";
        char rate[32];
        for (std::size_t i = 0; i < stages.size(); ++i) {
            p.go_to(stages[i].rate, stages[i].duration);
            std::snprintf(rate, sizeof rate, "%g", stages[i].rate);
            text += (i ? ", " : "") + format_duration(stages[i].duration) + ":" + rate + "/s";
        }
        if (p.total() < 1) throw usage_error("arrival stages: fewer than one iteration in all (every rate is 0?)");
        return p.with_own_length().describe(text).users(preallocated, max_users);
    }
};

/// "30s:10,1m:10,20s:0" (duration:iterations per second).
inline std::vector<rate_stage> parse_rate_stages(std::string_view text)
{
    std::vector<rate_stage> list;
    for (const auto item : detail::list_items(text)) {
        const auto colon = item.find(':');
        if (colon == std::string_view::npos)
            throw usage_error(wsload::detail::quoted(item) + " is not a stage (write duration:rate, e.g. 30s:50)");
        rate_stage s;
        s.duration = parse_duration(item.substr(0, colon));
        const std::string rate(item.substr(colon + 1));
        char* stop = nullptr;
        s.rate = rate.empty() ? -1 : std::strtod(rate.c_str(), &stop);
        if (rate.empty() || stop != rate.c_str() + rate.size() || !(s.rate >= 0) || !std::isfinite(s.rate))
            throw usage_error(wsload::detail::quoted(rate) + " is not a rate (iterations per second, in stage " +
                              wsload::detail::quoted(item) + ")");
        list.push_back(s);
    }
    return list;
}

}  // namespace wsload::sched
