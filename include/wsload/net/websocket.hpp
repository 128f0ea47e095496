#pragma once
// The WebSocket a behaviour holds: `auto ws = co_await u.websocket();`.

#include <wsload/net/detail/utf8_validator.hpp>
#include <wsload/net/detail/ws_connection.hpp>
#include <wsload/net/detail/ws_frame.hpp>

#include <boost/json/serialize.hpp>

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

namespace wsload {

/// Options of one request: how long to wait for the reply, the time the send was meant to
/// happen (a behaviour on a fixed schedule passes it so that a late send is not hidden), and
/// the request's name: its row in the report's table, its entry in the result file and its
/// `round_trip{name}` thresholds (unnamed requests share the row "round trip"). The name is
/// only read when the request starts, so a string_view of a temporary is fine.
/// An aggregate for designated initializers; keep its members trivially destructible (g++ 12
/// destroys aggregate temporaries in co_await expressions twice: see websocket_options).
struct request_options {
    std::chrono::nanoseconds timeout = std::chrono::seconds(10);
    std::optional<clock::time_point> intended_at;
    bool binary = false;
    std::string_view name = {};  // an initializer: no -Wmissing-field-initializers for {.timeout = ...}
};

/// A WebSocket connection owned by one user. Empty (false) when connecting failed; the
/// failure is already counted in its class. Dropping an open one closes it with 1000.
/// All members must be used from the user's own coroutine (its worker's thread).
class websocket {
public:
    websocket() = default;
    explicit websocket(std::shared_ptr<net::detail::ws_session_base> s) : session_(std::move(s)) {}
    websocket(websocket&&) noexcept = default;
    websocket& operator=(websocket&& other) noexcept
    {
        release();
        session_ = std::move(other.session_);
        return *this;
    }
    ~websocket() { release(); }

    /// True when connected (it may have ended since: see is_open()).
    explicit operator bool() const noexcept { return session_ != nullptr; }
    bool is_open() const noexcept { return session_ && session_->is_open(); }

    /// Sends a text message; false if the connection is not open or the write failed.
    task<bool> send(std::string_view text) { return send_frame(text, false); }
    task<bool> send_binary(std::string_view bytes) { return send_frame(bytes, true); }
    task<bool> send_json(const boost::json::value& v) { co_return co_await send_frame(boost::json::serialize(v), false); }

    /// The next message no request claimed; nullopt after `timeout` or when the connection ends.
    task<std::optional<message>> receive(std::chrono::nanoseconds timeout)
    {
        if (!session_) return empty_result();
        return session_->receive(timeout);
    }

    /// Sends `payload` and waits for the first message for which `match(text)` (or
    /// `match(text, binary)`) is true; records its round trip. nullopt on timeout or end,
    /// counted as requests_timed_out or requests_failed.
    template <class Match>
    task<std::optional<message>> request(std::string_view payload, Match match)
    {
        return request(payload, std::move(match), request_options{});
    }
    template <class Match>
    task<std::optional<message>> request(std::string_view payload, Match match, request_options o)
    {
        if (!session_) return empty_result();
        return session_->request(payload, std::move(match), o.binary, o.timeout, o.intended_at.value_or(clock::now()),
                                 o.name);
    }

    /// WebSocket pings every `interval` (0 stops nothing; a running heartbeat takes the new
    /// interval). Pings sent, pongs received and missed are counted; after `max_missed` in a
    /// row (0 = never) the connection ends as ping_timeout.
    void heartbeat(std::chrono::nanoseconds interval, unsigned max_missed = 0)
    {
        if (session_ && interval.count() > 0) session_->start_heartbeat(interval, interval, max_missed);
    }

    /// Closes with `code` and `reason` and waits until the connection has ended (bounded by
    /// the close timeout). Throws std::invalid_argument for a code no endpoint may send (RFC 6455
    /// section 7.4: 1000-1003, 1007-1014, 3000-4999) or a reason over 123 bytes or not UTF-8.
    task<> close(std::uint16_t code = 1000, std::string_view reason = {})
    {
        check_close(code, reason);
        if (!session_) co_return;
        session_->begin_close(code, stats::disconnect_reason::client_close, reason);
        co_await session_->wait_closed();
    }

    /// Returns when the connection has ended: closed by the server, the network or the run's end.
    task<> wait_closed()
    {
        if (!session_) return empty_wait();
        return session_->wait_closed();
    }

    /// How the connection ended (meaningful once it has).
    stats::disconnect_reason end_reason() const noexcept
    {
        return session_ ? session_->end_reason() : stats::disconnect_reason::network;
    }
    /// The code of the server's close frame, its answer to ours or its own (0 when none came).
    unsigned close_code() const noexcept { return session_ ? session_->close_code() : 0u; }
    /// The reason text of the server's close frame (empty when none came); valid while this
    /// handle lives.
    std::string_view close_reason() const noexcept { return session_ ? session_->close_reason() : std::string_view{}; }

private:
    task<bool> send_frame(std::string_view data, bool binary)
    {
        if (!session_) co_return false;
        auto ec = co_await session_->write(data, binary);
        co_return !ec;
    }
    static void check_close(std::uint16_t code, std::string_view reason)
    {
        if (!net::detail::is_valid_close_code(code))
            throw std::invalid_argument("wsload: websocket::close(" + std::to_string(code) +
                                        "): not a close code an endpoint may send (use 1000-1003, 1007-1014 or 3000-4999)");
        if (reason.size() > net::detail::max_close_reason)
            throw std::invalid_argument("wsload: websocket::close: the reason has " + std::to_string(reason.size()) +
                                        " bytes; a close frame holds at most 123");
        if (!net::detail::utf8_validator::valid(reason))
            throw std::invalid_argument("wsload: websocket::close: the reason is not UTF-8");
    }
    static task<std::optional<message>> empty_result() { co_return std::nullopt; }
    static task<> empty_wait() { co_return; }

    void release() noexcept
    {
        if (session_) session_->begin_close(1000, stats::disconnect_reason::client_close, {});
        session_.reset();
    }

    std::shared_ptr<net::detail::ws_session_base> session_;
};

}  // namespace wsload
