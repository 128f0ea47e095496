#pragma once
// A closed-model load shape as the engine follows it: how many users should be running at each
// moment, as straight pieces. Every shape a scenario names (a ramp, a spawn rate, k6's stages,
// steps with a warm-up, seed 000's batches: sched/shapes.hpp) becomes a plan, so the engine
// knows no shape. User i lives on worker i mod threads, and each worker walks its own users'
// starts and stops (plan_cursor) without talking to the others.
//
// Starts and stops are exact functions of the plan: while the target climbs from a to b over
// [s, s + d), user i (a <= i < b) starts at s + d * (i - a) / (b - a), so that user a starts
// at s (today's linear ramp, and Locust's spawn rate); while it falls from a to b, the newest
// users stop first (as k6 does), user i at s + d * (a - i) / (a - b), the last at s + d. A
// piece of zero length is a jump: all of it at s.

#include <wsload/core/duration.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace wsload::sched {

/// One straight piece of the target: `from` users at `start`, `to` at `start + length`.
struct segment {
    std::chrono::nanoseconds start{0};   ///< since the run's start
    std::chrono::nanoseconds length{0};  ///< zero: a jump
    std::uint64_t from = 0;
    std::uint64_t to = 0;
};

/// A named part of the run (a stage, a step's level, the warm-up), for the per-phase report.
struct phase {
    std::string name;
    std::chrono::nanoseconds start{0};
    std::uint64_t users = 0;  ///< the target the phase goes to (a level, a stage's target)
};

/// What a worker does next: start or stop the user with this index.
struct user_event {
    std::chrono::nanoseconds at{0};
    std::uint64_t index = 0;
    bool start = true;
};

class plan {
public:
    plan() = default;

    /// A plan that begins `at` (since the run's start) with `users` running and no piece before:
    /// what a live change follows from then on (the pieces before were walked already).
    static plan starting_at(std::chrono::nanoseconds at, std::uint64_t users)
    {
        plan p;
        p.length_ = at;
        p.initial_ = p.target_ = p.peak_ = users;
        return p;
    }

    /// The target goes from where it is to `users` over `length` (a jump when zero).
    plan& go_to(std::uint64_t users, std::chrono::nanoseconds length)
    {
        if (users != target_ || length.count() > 0) segments_.push_back({length_, length, target_, users});
        length_ += length;
        target_ = users;
        peak_ = std::max(peak_, users);
        return *this;
    }
    /// The target stays where it is for `length`.
    plan& hold(std::chrono::nanoseconds length) { return go_to(target_, length); }
    /// A phase starts here (the next pieces belong to it until the next phase).
    plan& begin_phase(std::string name, std::uint64_t users)
    {
        phases_.push_back({std::move(name), length_, users});
        return *this;
    }
    /// Says the run lasts as long as the plan (stages, steps) unless a duration is given.
    plan& with_own_length()
    {
        own_length_ = true;
        return *this;
    }
    /// How the plan is shown in reports and --print-config ("stages 30s:100, 1m:100, 20s:0").
    plan& describe(std::string text)
    {
        description_ = std::move(text);
        return *this;
    }

    const std::vector<segment>& segments() const noexcept { return segments_; }
    const std::vector<phase>& phases() const noexcept { return phases_; }
    const std::string& description() const noexcept { return description_; }
    /// The most users running at once: how many user indices the plan uses (0 .. peak-1).
    std::uint64_t peak() const noexcept { return peak_; }
    /// The target after the last piece (it stays there until the run ends).
    std::uint64_t final_users() const noexcept { return target_; }
    /// The end of the last piece.
    std::chrono::nanoseconds length() const noexcept { return length_; }
    /// True when the run's duration defaults to length() (stages, steps).
    bool has_own_length() const noexcept { return own_length_; }
    /// True when users are stopped before the run's end (a stage or step going down).
    bool ramps_down() const noexcept
    {
        return std::any_of(segments_.begin(), segments_.end(), [](const segment& s) { return s.to < s.from; });
    }

    /// The target the piece under way at `t` goes to (before the first piece, where it starts;
    /// after the last, where it ended).
    std::uint64_t target_at(std::chrono::nanoseconds t) const noexcept
    {
        for (const auto& s : segments_)
            if (t < s.start + s.length) return t < s.start ? s.from : s.to;
        return target_;
    }
    /// Users started or stopped per second by the piece under way at `t`; 0 when it holds.
    double rate_at(std::chrono::nanoseconds t) const noexcept
    {
        for (const auto& s : segments_)
            if (t >= s.start && t < s.start + s.length) {
                const auto d = s.to > s.from ? s.to - s.from : s.from - s.to;
                return static_cast<double>(d) / std::chrono::duration<double>(s.length).count();
            }
        return 0;
    }

    /// Users running at `t` (since the start) if every start and stop happened on time.
    std::uint64_t users_at(std::chrono::nanoseconds t) const noexcept
    {
        std::uint64_t users = initial_;
        for (const auto& s : segments_) {
            if (t < s.start) break;
            const auto d = s.to > s.from ? s.to - s.from : s.from - s.to;
            const auto done = t >= s.start + s.length ? d : events_by(t - s.start, s.length, d, s.to > s.from);
            users = s.to > s.from ? s.from + done : s.from - done;
        }
        return users;
    }

    /// When event k (0-based) of a piece of `length` with `d` events happens, since its start.
    static std::chrono::nanoseconds event_offset(std::chrono::nanoseconds length, std::uint64_t d, std::uint64_t k,
                                                 bool rising) noexcept
    {
        if (length.count() <= 0 || d == 0) return std::chrono::nanoseconds(0);
        __extension__ using u128 = unsigned __int128;  // length * k overflows 64 bits for long pieces
        const u128 step = rising ? k : k + 1;          // rising: the first at the start; falling: the last at the end
        return std::chrono::nanoseconds(static_cast<std::int64_t>(static_cast<u128>(length.count()) * step / d));
    }

private:
    /// How many of a piece's d events have happened `x` into it (x < length).
    static std::uint64_t events_by(std::chrono::nanoseconds x, std::chrono::nanoseconds length, std::uint64_t d,
                                   bool rising) noexcept
    {
        if (length.count() <= 0) return d;
        // Event k is at floor(length * step / d) <= x  <=>  step < (x + 1) * d / length.
        __extension__ using u128 = unsigned __int128;
        const u128 n = static_cast<u128>(x.count() + 1) * d;
        const u128 bound = (n + static_cast<u128>(length.count()) - 1) / static_cast<u128>(length.count());  // steps < bound
        const u128 count = rising ? bound : bound - 1;
        return static_cast<std::uint64_t>(std::min<u128>(count, d));
    }

    std::vector<segment> segments_;
    std::vector<phase> phases_;
    std::string description_;
    std::chrono::nanoseconds length_{0};
    std::uint64_t initial_ = 0;  ///< users running before the first piece (starting_at)
    std::uint64_t target_ = 0;
    std::uint64_t peak_ = 0;
    bool own_length_ = false;
};

/// One worker's walk over a plan: the starts and stops of the users it owns (index mod
/// workers == worker), in time order. O(1) memory however many users.
class plan_cursor {
public:
    plan_cursor(const plan& p, unsigned worker, unsigned workers) : plan_(&p), worker_(worker), workers_(workers)
    {
        enter(0);
    }

    /// The next event, or nothing once the plan is over.
    std::optional<user_event> next()
    {
        const auto& segments = plan_->segments();
        while (k_ < segments.size()) {
            const auto& s = segments[k_];
            if (s.to > s.from && has_next_ && next_ < s.to) {
                const auto at = s.start + plan::event_offset(s.length, s.to - s.from, next_ - s.from, true);
                user_event e{at, next_, true};
                if (next_ + workers_ < next_) has_next_ = false;
                next_ += workers_;
                return e;
            }
            if (s.to < s.from && has_next_ && next_ >= s.to) {
                const auto at = s.start + plan::event_offset(s.length, s.from - s.to, s.from - 1 - next_, false);
                user_event e{at, next_, false};
                if (next_ < workers_) has_next_ = false;
                else next_ -= workers_;
                return e;
            }
            enter(k_ + 1);
        }
        return std::nullopt;
    }

private:
    /// Moves to piece k: its first index of this worker's (rising: the lowest; falling: the highest).
    void enter(std::size_t k)
    {
        k_ = k;
        has_next_ = false;
        const auto& segments = plan_->segments();
        if (k_ >= segments.size()) return;
        const auto& s = segments[k_];
        const std::uint64_t w = worker_, n = workers_;
        if (s.to > s.from) {
            next_ = s.from + (w + n - s.from % n) % n;
            has_next_ = true;
        } else if (s.to < s.from) {
            const auto top = s.from - 1;
            const auto back = (top % n + n - w) % n;
            if (back <= top) {
                next_ = top - back;
                has_next_ = true;
            }
        }
    }

    const plan* plan_;
    std::uint64_t worker_;
    std::uint64_t workers_;
    std::size_t k_ = 0;
    std::uint64_t next_ = 0;
    bool has_next_ = false;
};

}  // namespace wsload::sched
