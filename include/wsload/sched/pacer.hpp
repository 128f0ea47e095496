#pragma once
// Pacing of a behaviour's own steps across the whole run: seed 000 logs in at most one user per
// `login_interval` and opens at most one WebSocket per `ws_connect_interval`, whatever the
// load shape does. `co_await u.pace("login", 2s)` waits for the next free slot of "login":
// slots are `interval` apart, handed out in the order users ask, over every thread.

#include <wsload/core/task.hpp>

#include <algorithm>
#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

namespace wsload::sched {

class pacer {
public:
    /// The time the caller may go: `now` if the step's last slot is at least `interval` ago,
    /// else that slot plus `interval` (and that is the step's last slot from now on).
    clock::time_point claim(std::string_view step, std::chrono::nanoseconds interval, clock::time_point now)
    {
        // A lock: a paced step is a login or a connect, a few per second, never a message.
        std::lock_guard lock(mutex_);
        auto it = last_.find(step);
        if (it == last_.end()) {
            last_.emplace(std::string(step), now);
            return now;
        }
        const auto slot = std::max(now, it->second + interval);
        it->second = slot;
        return slot;
    }

private:
    std::mutex mutex_;
    std::map<std::string, clock::time_point, std::less<>> last_;
};

}  // namespace wsload::sched
