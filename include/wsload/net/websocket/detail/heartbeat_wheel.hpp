#pragma once
// One thread's WebSocket heartbeats (and closing handshakes' bounds) on one timer. PERF-FACTS.md:
// a timer with a pending wait costs ~270 B and a coroutine parked on it ~400 more, per
// connection; a hashed timing wheel costs a connection two pointers and its due time, whether
// it has a heartbeat or not. Entries fire at the first tick at or after they are due (ticks are
// 10 ms apart), so a ping schedule does not drift; the round trip is measured from the actual send.

#include <wsload/core/task.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>

namespace wsload::net::detail {

/// What an entry of the wheel carries (a base class of the entry).
class heartbeat_hook {
public:
    bool in_wheel() const noexcept { return slot_ != nullptr; }
    clock::time_point heartbeat_due() const noexcept { return due_; }

private:
    template <class Entry>
    friend class heartbeat_wheel;
    heartbeat_hook* next_ = nullptr;
    heartbeat_hook** slot_ = nullptr;  ///< where the pointer to this entry is (list head or a next_)
    clock::time_point due_{};
};

/// A hashed timing wheel of `Entry`s (derived from heartbeat_hook, with a member
/// `void wheel_due(clock::time_point now)` called once when due, out of the wheel: it adds
/// itself again for its next ping). The wheel does not own its entries; an entry must leave
/// (`remove`) before it is destroyed. Its timer runs only while the wheel holds entries, so an
/// io_context whose connections have all ended can return from run().
template <class Entry>
class heartbeat_wheel {
public:
    static constexpr auto tick = std::chrono::milliseconds(10);
    static constexpr std::size_t slots = 512;  // 5.12 s around: a 5 s heartbeat visits its slot once

    explicit heartbeat_wheel(executor ex) : ex_(ex), epoch_(clock::now()) {}
    heartbeat_wheel(const heartbeat_wheel&) = delete;
    heartbeat_wheel& operator=(const heartbeat_wheel&) = delete;

    /// Schedules `e` at `due` (moved if it was scheduled).
    void add(Entry& e, clock::time_point due)
    {
        heartbeat_hook& h = e;
        if (h.in_wheel()) unlink(h);
        h.due_ = due;
        auto t = tick_of(due);
        if (t <= done_tick_) t = done_tick_ + 1;  // due already: at the next tick
        link(h, slot_list(t));
        ++size_;
        if (!running_) {
            running_ = true;
            boost::asio::co_spawn(ex_, run(), boost::asio::detached);
        }
    }

    void remove(Entry& e) noexcept
    {
        heartbeat_hook& h = e;
        if (!h.in_wheel()) return;
        unlink(h);
        --size_;
        if (size_ == 0 && timer_) timer_->cancel();  // nothing left: let the loop end now
    }

    std::size_t size() const noexcept { return size_; }

private:
    std::int64_t tick_of(clock::time_point t) const noexcept
    {
        const auto since = t - epoch_;
        return since.count() <= 0 ? 0 : (since + tick - clock::duration(1)) / tick;  // rounded up
    }
    heartbeat_hook*& slot_list(std::int64_t t) noexcept { return wheel_[static_cast<std::size_t>(t) % slots]; }

    static void link(heartbeat_hook& h, heartbeat_hook*& head) noexcept
    {
        h.next_ = head;
        if (head) head->slot_ = &h.next_;
        head = &h;
        h.slot_ = &head;
    }
    static void unlink(heartbeat_hook& h) noexcept
    {
        *h.slot_ = h.next_;
        if (h.next_) h.next_->slot_ = h.slot_;
        h.next_ = nullptr;
        h.slot_ = nullptr;
    }

    /// Fires what is due in the ticks since the last visit (one turn at most: a thread late by
    /// more than a turn visits every slot once, and everything due fires).
    void advance(clock::time_point now)
    {
        const auto now_tick = (now - epoch_) / tick;
        auto from = done_tick_ + 1;
        if (now_tick - done_tick_ > static_cast<std::int64_t>(slots)) from = now_tick - static_cast<std::int64_t>(slots) + 1;
        for (auto t = from; t <= now_tick; ++t) {
            // Detach the slot: entries that fire may be added again, into this slot too.
            heartbeat_hook* list = slot_list(t);
            slot_list(t) = nullptr;
            if (list) list->slot_ = &list;
            while (list) {
                heartbeat_hook& h = *list;
                unlink(h);
                if (h.due_ <= now) {
                    --size_;
                    static_cast<Entry&>(h).wheel_due(now);
                } else {
                    link(h, slot_list(t));  // a later turn
                }
            }
        }
        done_tick_ = now_tick;
    }

    task<> run()
    {
        timer t(ex_);
        // Cleared however the loop ends, its frame destroyed with the io_context included.
        struct registration {
            heartbeat_wheel& w;
            ~registration()
            {
                w.timer_ = nullptr;
                w.running_ = false;
            }
        } registered{*this};
        timer_ = &t;
        while (size_ > 0) {
            t.expires_at(epoch_ + tick * (done_tick_ + 1));
            co_await t.async_wait(use_task);
            advance(clock::now());
        }
    }

    executor ex_;
    clock::time_point epoch_;
    std::int64_t done_tick_ = 0;  ///< ticks up to this one have been visited
    std::size_t size_ = 0;
    timer* timer_ = nullptr;
    bool running_ = false;
    std::array<heartbeat_hook*, slots> wheel_{};
};

}  // namespace wsload::net::detail
