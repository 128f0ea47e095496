#pragma once
// The one timer of a per-thread queue (deadline_queue, sleep_queue): armed at the earliest time
// the queue asks for, and not touched when a later time is asked for or an entry leaves. Arming
// an asio timer costs a heap update, at times a timerfd re-arm, and a cancelled wait's
// completion; here a queue pays that only when its earliest time moves earlier. When the timer
// fires it records how late it fired (event-loop lag) and hands the time to the queue, which
// expires what is due and asks again for its new earliest.

#include <wsload/core/task.hpp>
#include <wsload/stats/metrics.hpp>

#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstdint>
#include <optional>

namespace wsload::net::detail {

/// Not thread-safe: used on its owner's thread only. Made (start) once the io_context exists,
/// and reset before it goes.
class earliest_timer {
public:
    /// With `lag`, how late the timer fired each time is recorded there as event-loop lag.
    void start(executor ex, stats::shard* lag) noexcept
    {
        timer_.emplace(ex);
        lag_ = lag;
    }
    bool started() const noexcept { return timer_.has_value(); }
    /// The io_context is going: the timer goes first.
    void reset() noexcept
    {
        timer_.reset();
        armed_ = false;
    }
    /// Lets the io_context run out of work; a later arm() arms it again.
    void cancel() noexcept
    {
        if (timer_) timer_->cancel();
        armed_ = false;
    }

    /// Makes sure `fire(now)` runs no later than `at` (once, when the timer expires).
    template <class Fire>
    void arm(clock::time_point at, Fire fire)
    {
        if (!timer_ || (armed_ && armed_at_ <= at)) return;
        armed_ = true;
        armed_at_ = at;
        timer_->expires_at(at);  // cancels a later wait, whose handler then sees a stale generation
        timer_->async_wait([this, fire, generation = ++generation_](const boost::system::error_code& ec) {
            if (ec || generation != generation_) return;
            armed_ = false;
            const auto now = clock::now();
            if (lag_ && now > armed_at_)
                lag_->record_lag(static_cast<std::uint64_t>(std::chrono::nanoseconds(now - armed_at_).count()));
            fire(now);
        });
    }

private:
    std::optional<timer> timer_;
    stats::shard* lag_ = nullptr;
    std::uint64_t generation_ = 0;
    clock::time_point armed_at_{};
    bool armed_ = false;
};

}  // namespace wsload::net::detail
