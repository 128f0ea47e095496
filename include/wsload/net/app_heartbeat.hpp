#pragma once
// An application-level heartbeat: a message of the scenario's own (`{"type":"ping"}`) sent every
// interval on a connection, its reply expected within a timeout. Counted and timed apart from
// WebSocket pings (app_pings_sent, app_pongs_received, app_pongs_missed, app_ping_round_trip);
// after max_missed misses in a row the connection ends as app_heartbeat_timeout.

#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <utility>

namespace wsload {

/// Set on a connection with `websocket_options().app_heartbeat(...)`:
///     wsload::app_heartbeat(R"({"type":"ping"})", 10s)
///         .reply([](std::string_view m) { return m.find("\"pong\"") != m.npos; })
///         .timeout(5s).max_missed(3)
/// A class with a constructor (g++ 12 double-destroys aggregate temporaries in co_await).
class app_heartbeat {
public:
    /// Sends `message` every `interval` (the first at a random point of the first interval, so
    /// that connections opened together do not beat together).
    app_heartbeat(std::string message, std::chrono::nanoseconds interval) : message_(std::move(message)), interval_(interval) {}

    /// Which incoming message answers a heartbeat (taken by it: no receive() sees it). Without
    /// one, heartbeats are only sent, nothing is awaited.
    app_heartbeat& reply(std::function<bool(std::string_view)> is_reply)
    {
        is_reply_ = std::move(is_reply);
        return *this;
    }
    /// How long a heartbeat waits for its reply (at most the interval, which is the default).
    app_heartbeat& timeout(std::chrono::nanoseconds d)
    {
        timeout_ = d;
        return *this;
    }
    /// End the connection as app_heartbeat_timeout after this many misses in a row (0: never).
    app_heartbeat& max_missed(unsigned n)
    {
        max_missed_ = n;
        return *this;
    }

    const std::string& message() const noexcept { return message_; }
    std::chrono::nanoseconds interval() const noexcept { return interval_; }
    std::chrono::nanoseconds timeout() const noexcept
    {
        return timeout_.count() > 0 && timeout_ < interval_ ? timeout_ : interval_;
    }
    unsigned max_missed() const noexcept { return max_missed_; }
    const std::function<bool(std::string_view)>& is_reply() const noexcept { return is_reply_; }

private:
    std::string message_;
    std::chrono::nanoseconds interval_;
    std::chrono::nanoseconds timeout_{0};
    unsigned max_missed_ = 0;
    std::function<bool(std::string_view)> is_reply_;
};

}  // namespace wsload
