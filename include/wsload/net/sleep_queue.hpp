#pragma once
// One thread's timed sleeps (user::sleep_until, think, pace) on one timer, woken in batches.
//
// Why: users on a spread schedule (1,000 users x 10 messages/s, each at its own offset) each
// sleeping on a timer of their own wake the thread 10,000 times a second, one user at a time:
// each wake-up is an epoll_wait that blocks, a timerfd re-arm and a context switch, and on this
// project's machine that was most of the client's kernel time (strace -c: 0.8 epoll_wait and
// 0.5 timerfd_settime per message). Here every sleep of the thread shares one timer, armed on a
// grid of `slack`: a sleep due at t ends at the first multiple of the slack at or after t,
// together with every other sleep due by then. The thread then wakes for its sleeps at most
// once per slack, whatever the number of users.
//
// What it costs is stated and measured, never hidden: a sleep ends up to `slack` after its due
// time (plus the kernel's own wake-up latency), never before it. A send that follows is
// measured from its intended time (request_options::intended_at), so that lateness is inside
// the round trip the report shows; the slack stays under stats::late_send_threshold, so that a
// healthy loop counts no late sends because of it. Slack zero: each sleep ends at its own time
// (one timer still serves them all).
//
// The sleeps are a binary min-heap by due time, each entry knowing its index: O(log n) to add
// and to remove (a cancelled sleep, an entry destroyed while asleep).

#include <wsload/core/task.hpp>
#include <wsload/net/detail/earliest_timer.hpp>
#include <wsload/stats/metrics.hpp>

#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <cstddef>
#include <optional>
#include <utility>
#include <vector>

namespace wsload::net {

class sleep_queue;

/// The run's --timer-slack unless it says otherwise (why this value: README, "Benchmarks").
inline constexpr std::chrono::nanoseconds default_timer_slack = std::chrono::microseconds(500);

/// One sleeper's place (a user keeps one, made at its first sleep). It leaves its queue when
/// destroyed.
class sleep_entry {
public:
    sleep_entry() = default;
    sleep_entry(const sleep_entry&) = delete;
    sleep_entry& operator=(const sleep_entry&) = delete;
    inline ~sleep_entry();

    bool asleep() const noexcept { return queue_ != nullptr; }

private:
    friend class sleep_queue;
    using handler_type = boost::asio::async_result<boost::asio::use_awaitable_t<executor>, void()>::handler_type;
    sleep_queue* queue_ = nullptr;
    std::size_t index_ = 0;  ///< in the queue's heap
    clock::time_point due_{};
    std::optional<handler_type> handler_;  ///< the sleeping coroutine, resumed when the sleep ends
};

/// Not thread-safe: one per thread, used on it only. As the deadline queue, it outlives the
/// io_context but its timer does not: the owner calls shutdown() before the io_context goes.
class sleep_queue {
public:
    using handler_type = sleep_entry::handler_type;

    sleep_queue() = default;
    sleep_queue(const sleep_queue&) = delete;
    sleep_queue& operator=(const sleep_queue&) = delete;

    /// The timer is made here, once the owner's io_context exists. With `lag`, how late the
    /// timer fired after its grid point is recorded there as event-loop lag.
    void start(executor ex, stats::shard* lag = nullptr) { timer_.start(ex, lag); }
    /// Sleeps due within one `slack` of each other end on one wake-up (see the top). Set it
    /// before the first sleep.
    void set_slack(clock::duration slack) noexcept { slack_ = slack > clock::duration::zero() ? slack : clock::duration::zero(); }
    clock::duration slack() const noexcept { return slack_; }

    /// Before the io_context goes: every sleeper is resumed (posted there, and destroyed with it).
    void shutdown() noexcept
    {
        timer_.reset();
        while (!heap_.empty()) wake(*heap_.front());
    }

    /// `co_await q.sleep(e, t)`: suspends until `t` (on the grid) or wake(e). `e` must not be
    /// asleep, and must outlive the wait.
    auto sleep(sleep_entry& e, clock::time_point t)
    {
        return boost::asio::async_initiate<const boost::asio::use_awaitable_t<executor>&, void()>(
            [](handler_type h, sleep_queue* q, sleep_entry* e, clock::time_point t) {
                if (t <= clock::now() || !q->timer_.started()) {
                    // Due already: the next turn of the loop, as a timer that has expired.
                    boost::asio::post(std::move(h));
                    return;
                }
                // Asio's per-operation cancellation (the loser of `think(d) || other`) ends the
                // sleep as wake() does. A plain co_await has no connected slot: nothing to pay.
                if (auto slot = boost::asio::get_associated_cancellation_slot(h); slot.is_connected())
                    slot.template emplace<cancel_sleep>(q, e);
                e->handler_.emplace(std::move(h));
                q->push(*e, t);
                q->arm();
            },
            wsload::use_awaitable, this, &e, t);
    }

    /// Ends `e`'s sleep now (a stop, an arrival): its coroutine is resumed by a post. Nothing
    /// when it is not asleep.
    void wake(sleep_entry& e) noexcept
    {
        if (e.queue_ != this) return;
        erase(e);
        resume(e);
    }

    std::size_t size() const noexcept { return heap_.size(); }

    /// Lets the io_context run out of work (the engine's abort); a later sleep arms it again.
    void cancel() noexcept { timer_.cancel(); }

    /// The first multiple of the slack at or after `t` (`t` itself with no slack).
    clock::time_point on_grid(clock::time_point t) const noexcept
    {
        const auto s = slack_.count();
        if (s <= 0 || t > clock::time_point::max() - slack_) return t;
        const auto r = t.time_since_epoch().count() % s;
        return r == 0 ? t : t + clock::duration(s - r);
    }

private:
    friend class sleep_entry;

    // A constructor, not an aggregate: asio's slot emplaces it with parentheses, which clang 14
    // (the fuzz build's compiler) does not take for aggregates.
    struct cancel_sleep {
        cancel_sleep(sleep_queue* q, sleep_entry* e) noexcept : queue(q), entry(e) {}
        sleep_queue* queue;
        sleep_entry* entry;
        void operator()(boost::asio::cancellation_type) const noexcept { queue->wake(*entry); }
    };

    /// The sleeper's handler, out of its entry, with its cancellation slot (if any) cleared:
    /// a cancellation after the sleep ended must not reach the entry (which may be gone).
    static handler_type take_handler(sleep_entry& e) noexcept
    {
        auto h = std::move(*e.handler_);
        e.handler_.reset();
        boost::asio::get_associated_cancellation_slot(h).clear();
        return h;
    }
    static void resume(sleep_entry& e) noexcept
    {
        if (!e.handler_) return;
        boost::asio::post(take_handler(e));  // never inline: the caller may be another coroutine
    }

    // ---- the heap ----------------------------------------------------------------------------
    bool before(std::size_t a, std::size_t b) const noexcept { return heap_[a]->due_ < heap_[b]->due_; }
    void place(std::size_t i, sleep_entry* e) noexcept
    {
        heap_[i] = e;
        e->index_ = i;
    }
    void up(std::size_t i) noexcept
    {
        auto* e = heap_[i];
        while (i > 0) {
            const auto parent = (i - 1) / 2;
            if (!(e->due_ < heap_[parent]->due_)) break;
            place(i, heap_[parent]);
            i = parent;
        }
        place(i, e);
    }
    void down(std::size_t i) noexcept
    {
        auto* e = heap_[i];
        const auto n = heap_.size();
        for (;;) {
            auto child = 2 * i + 1;
            if (child >= n) break;
            if (child + 1 < n && before(child + 1, child)) ++child;
            if (!(heap_[child]->due_ < e->due_)) break;
            place(i, heap_[child]);
            i = child;
        }
        place(i, e);
    }
    void push(sleep_entry& e, clock::time_point due)
    {
        e.due_ = due;
        e.queue_ = this;
        heap_.push_back(&e);
        up(heap_.size() - 1);
    }
    void erase(sleep_entry& e) noexcept
    {
        const auto i = e.index_;
        auto* last = heap_.back();
        heap_.pop_back();
        e.queue_ = nullptr;
        if (last == &e) return;
        place(i, last);
        if (i > 0 && last->due_ < heap_[(i - 1) / 2]->due_) up(i);
        else down(i);
        // The timer stays armed at the old earliest: when it fires it finds nothing due (or
        // something later than it was armed for), and re-arms. No timer call per cancel.
    }

    // ---- the timer ---------------------------------------------------------------------------
    /// Makes sure the timer fires at the grid point of the earliest sleep.
    void arm()
    {
        if (heap_.empty()) return;
        const auto due = heap_.front()->due_;
        if (due == clock::time_point::max()) return;  // only sleeps without an end: woken by wake()
        timer_.arm(on_grid(due), [this](clock::time_point now) { wake_due(now); });
    }

    /// The timer fired: everything due by now, the grid point's sleeps and any that came due
    /// while the thread was late, in due order, so that the earliest sends go first. Each
    /// sleeper runs here, as a timer's completion would run it (no post: one handler per
    /// wake-up however many share it), until it waits again; one that sleeps again goes behind
    /// those still to wake (its next due time is past `now`).
    void wake_due(clock::time_point now)
    {
        while (!heap_.empty() && heap_.front()->due_ <= now) {
            auto& e = *heap_.front();
            erase(e);
            auto h = take_handler(e);
            std::move(h)();
        }
        arm();
    }

    detail::earliest_timer timer_;
    std::vector<sleep_entry*> heap_;
    clock::duration slack_{};
};

inline sleep_entry::~sleep_entry()
{
    if (queue_) queue_->erase(*this);
}

}  // namespace wsload::net
