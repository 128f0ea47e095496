#pragma once
// How a user paces its own sends (or iterations), and the intended time of each: the one
// place those times are computed, so that no behaviour gets coordinated omission wrong by
// hand. Two models, as load testers mean them:
//   - a fixed interval (open per user): send k is due at first + k * interval, whatever the
//     replies do; a reply that comes late delays the next send but not its due time, so the
//     next round trip, measured from the due time, shows the wait (wrk2, Gatling's pace);
//   - a closed loop: the next send goes when the last one's reply came (after a think time),
//     and is measured from when it went (Locust's and k6's default).
// A fixed interval of zero is a closed loop: "as fast as the replies come" has no schedule
// to fall behind.

#include <wsload/core/error.hpp>
#include <wsload/core/task.hpp>

#include <chrono>
#include <cstdint>

namespace wsload {

/// A pacing, as a scenario names it: `wsload::pacing::every(1s)`, `pacing::per_second(20)`,
/// `pacing::closed_loop()`.
class pacing {
public:
    /// One send every `interval`; each user's first at a random point of the first interval,
    /// so that users do not all send on the same tick. Zero: a closed loop.
    static pacing every(std::chrono::nanoseconds interval)
    {
        if (interval.count() < 0) throw usage_error("pacing::every: a negative interval");
        pacing p;
        p.interval_ = interval;
        return p;
    }
    /// `rate` sends per second per user: every(1 s / rate).
    static pacing per_second(double rate)
    {
        if (!(rate > 0) || rate > 1e9) throw usage_error("pacing::per_second: the rate must be in (0, 1e9]");
        return every(std::chrono::nanoseconds(static_cast<std::int64_t>(1e9 / rate)));
    }
    /// The next send when the last one's reply came, after `think`; each measured from itself.
    static pacing closed_loop(std::chrono::nanoseconds think = std::chrono::nanoseconds(0))
    {
        if (think.count() < 0) throw usage_error("pacing::closed_loop: a negative think time");
        pacing p;
        p.think_ = think;
        return p;
    }

    bool is_closed_loop() const noexcept { return interval_.count() == 0; }
    /// The fixed interval (zero for a closed loop).
    std::chrono::nanoseconds interval() const noexcept { return interval_; }
    /// A closed loop's pause between a reply and the next send.
    std::chrono::nanoseconds think() const noexcept { return think_; }

private:
    pacing() = default;
    std::chrono::nanoseconds interval_{0};
    std::chrono::nanoseconds think_{0};
};

namespace sched {

/// One user's due times under a pacing, apart from any clock or timer (so tested exactly).
class send_schedule {
public:
    /// `offset`: where in the first interval this user's first send falls (the caller draws
    /// it, e.g. random().phase(interval)); ignored by a closed loop.
    send_schedule(const pacing& p, clock::time_point start, std::chrono::nanoseconds offset = std::chrono::nanoseconds(0))
        : pacing_(p), next_due_(start + (p.is_closed_loop() ? std::chrono::nanoseconds(0) : offset))
    {}

    /// The intended time of the next send, asked when the caller is ready to make it (`now`:
    /// after the last send's reply, or its timeout). A fixed interval's due times do not move
    /// with `now` (a send asked for late is still due when it was due); a closed loop's next
    /// send is due `think` after now.
    clock::time_point next(clock::time_point now) noexcept
    {
        ++sends_;
        if (pacing_.is_closed_loop()) return now + pacing_.think();
        const auto due = next_due_;
        next_due_ += pacing_.interval();
        return due;
    }

    /// Sends scheduled so far.
    std::uint64_t sends() const noexcept { return sends_; }
    const wsload::pacing& pacing() const noexcept { return pacing_; }

private:
    wsload::pacing pacing_;
    clock::time_point next_due_;
    std::uint64_t sends_ = 0;
};

}  // namespace sched
}  // namespace wsload
