#pragma once
// One thread's timeouts (request replies, receive waits) on one timer. A timeout almost never
// fires: the reply comes first. An asio timer per request costs an insertion into and a removal
// from the timer heap, a cancellation that posts a completion, and at times a timerfd re-arm,
// on every message. Here a request links itself into a list and unlinks on its reply: two
// pointer writes. The timer stays armed at the earliest deadline it knew and is not touched
// when that entry leaves; when it fires it finds nothing due and re-arms at the new earliest,
// about once per timeout period.
//
// Timeouts of one duration, started in time order, end in time order (Node.js groups its
// timers the same way): each duration has a list, and a new entry goes at its tail in O(1).
// Entries out of order (a request's deadline counts from its intended send time) walk back
// from the tail. Deadlines are exact: the timer is armed at the earliest one, not on a tick.

#include <wsload/core/task.hpp>
#include <wsload/net/detail/earliest_timer.hpp>
#include <wsload/stats/metrics.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

namespace wsload::net {

class deadline_queue;
class deadline_entry;

/// The entries of one timeout duration, in deadline order.
struct deadline_list {
    clock::duration timeout{};
    deadline_entry* head = nullptr;
    deadline_entry* tail = nullptr;
};

/// Something with a deadline: a base (or member) of what waits. It leaves its queue when it is
/// destroyed, so a coroutine frame destroyed while waiting needs no care.
class deadline_entry {
public:
    /// Called once, out of the queue, when the deadline has passed (not when the entry left).
    using expire_fn = void (*)(deadline_entry&) noexcept;

    explicit deadline_entry(expire_fn f) noexcept : expire_(f) {}
    deadline_entry(const deadline_entry&) = delete;
    deadline_entry& operator=(const deadline_entry&) = delete;
    inline ~deadline_entry();

    bool scheduled() const noexcept { return queue_ != nullptr; }
    clock::time_point deadline() const noexcept { return due_; }
    /// Leaves the queue if it is in one (the wait ended before its deadline).
    inline void leave_queue() noexcept;
    /// Ends the wait now as if its deadline had passed (a cancellation).
    void expire_now() noexcept
    {
        leave_queue();
        expire_(*this);
    }

private:
    friend class deadline_queue;
    deadline_entry* prev_ = nullptr;
    deadline_entry* next_ = nullptr;
    deadline_list* list_ = nullptr;
    deadline_queue* queue_ = nullptr;
    clock::time_point due_{};
    expire_fn expire_;
};

/// Not thread-safe: one per worker, used on its thread only. It outlives the io_context (so
/// that entries in frames destroyed with it can still leave) but its timer does not: the
/// owner calls shutdown() before the io_context goes.
class deadline_queue {
public:
    deadline_queue() = default;
    deadline_queue(const deadline_queue&) = delete;
    deadline_queue& operator=(const deadline_queue&) = delete;

    /// The timer is made here, once the owner's io_context exists. With `lag`, how late the
    /// timer fired each time is recorded there as event-loop lag (stats::shard::record_lag).
    void start(executor ex, stats::shard* lag = nullptr) { timer_.start(ex, lag); }
    /// Before the io_context goes, its threads ended: what still waits expires now, so that
    /// its completion is queued there and destroyed with it (with the frames it holds).
    void shutdown() noexcept
    {
        timer_.reset();
        for (std::size_t i = 0; i < used_; ++i)
            while (auto* e = lists_[i].head) e->expire_now();
    }

    /// Schedules `e` (which must not be scheduled) to expire at `due`.
    void add(deadline_entry& e, clock::time_point due, clock::duration timeout)
    {
        e.due_ = due;
        auto& l = list_for(timeout);
        e.list_ = &l;
        e.queue_ = this;
        // From the tail back to the first entry due no later: one step when in order.
        deadline_entry* after = l.tail;
        while (after && after->due_ > due) after = after->prev_;
        e.prev_ = after;
        e.next_ = after ? after->next_ : l.head;
        (e.next_ ? e.next_->prev_ : l.tail) = &e;
        (after ? after->next_ : l.head) = &e;
        ++size_;
        arm(due);
    }

    /// Takes `e` out if it is scheduled; the timer is left as it is (see the top).
    void remove(deadline_entry& e) noexcept
    {
        auto* l = e.list_;
        if (e.queue_ != this) return;
        (e.prev_ ? e.prev_->next_ : l->head) = e.next_;
        (e.next_ ? e.next_->prev_ : l->tail) = e.prev_;
        e.prev_ = e.next_ = nullptr;
        e.list_ = nullptr;
        e.queue_ = nullptr;
        --size_;
    }

    std::size_t size() const noexcept { return size_; }

    /// Lets the io_context run out of work: the run is over and nothing waits (the engine's
    /// abort). A later add() arms the timer again.
    void cancel() noexcept { timer_.cancel(); }

private:
    using list = deadline_list;

    // Few durations in practice (one per request kind); beyond that, all share the last list,
    // which stays sorted but may take longer walks.
    static constexpr std::size_t max_lists = 16;

    list& list_for(clock::duration timeout) noexcept
    {
        for (std::size_t i = 0; i < used_; ++i)
            if (lists_[i].timeout == timeout) return lists_[i];
        if (used_ < max_lists) {
            lists_[used_].timeout = timeout;
            return lists_[used_++];
        }
        return lists_[max_lists - 1];
    }

    /// Makes sure a wait ends no later than `due`.
    void arm(clock::time_point due)
    {
        timer_.arm(due, [this](clock::time_point now) { expire_due(now); });
    }

    void expire_due(clock::time_point now)
    {
        std::optional<clock::time_point> next;
        for (std::size_t i = 0; i < used_; ++i) {
            auto& l = lists_[i];
            while (l.head && l.head->due_ <= now) l.head->expire_now();
            if (l.head && (!next || l.head->due_ < *next)) next = l.head->due_;
        }
        if (next) arm(*next);
    }

    detail::earliest_timer timer_;
    std::array<list, max_lists> lists_{};
    std::size_t used_ = 0;
    std::size_t size_ = 0;
};

inline void deadline_entry::leave_queue() noexcept
{
    if (queue_) queue_->remove(*this);
}

inline deadline_entry::~deadline_entry() { leave_queue(); }

}  // namespace wsload::net
