#pragma once
// The WebSocket a behaviour holds: `auto ws = co_await u.websocket();`. This header only
// declares what the connection layers do (see detail/config.hpp); net/websocket/impl/websocket.ipp
// defines it.

#include <wsload/core/task.hpp>
#include <wsload/detail/config.hpp>
#include <wsload/net/message.hpp>
#include <wsload/net/request_options.hpp>
#include <wsload/stats/taxonomy.hpp>

#include <boost/json/fwd.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

namespace wsload {

namespace net::detail {
class ws_session_base;
}  // namespace net::detail

/// A WebSocket connection owned by one user. Empty (false) when connecting failed; the
/// failure is already counted in its class. Dropping an open one closes it with 1000.
/// All members must be used from the user's own coroutine (its worker's thread).
class websocket {
public:
    websocket() = default;
    explicit websocket(std::shared_ptr<net::detail::ws_session_base> s) noexcept : session_(std::move(s)) {}
    websocket(websocket&&) noexcept = default;
    WSLOAD_DECL websocket& operator=(websocket&& other) noexcept;
    WSLOAD_DECL ~websocket();

    /// True when connected (it may have ended since: see is_open()).
    explicit operator bool() const noexcept { return session_ != nullptr; }
    WSLOAD_DECL bool is_open() const noexcept;

    /// Sends a text message; false if the connection is not open or the write failed.
    WSLOAD_DECL task<bool> send(std::string_view text);
    WSLOAD_DECL task<bool> send_binary(std::string_view bytes);
    WSLOAD_DECL task<bool> send_json(const boost::json::value& v);

    /// The next message no request claimed; nullopt after `timeout` or when the connection ends.
    WSLOAD_DECL task<std::optional<message>> receive(std::chrono::nanoseconds timeout);

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
        return request_matching(payload, net::detail::reply_matcher(std::move(match)), o);
    }

    /// Sends `payload` and waits for the message whose reply_key is `o.key` (the connection was
    /// opened with websocket_options::reply_key); records its round trip as request() does.
    task<std::optional<message>> request(std::string_view payload, request_options o)
    {
        return request_matching(payload, net::detail::reply_matcher([](std::string_view) { return true; }), o);
    }

    /// WebSocket pings every `interval` (0 stops nothing; a running heartbeat takes the new
    /// interval). Pings sent, pongs received and missed are counted; after `max_missed` in a
    /// row (0 = never) the connection ends as ping_timeout.
    WSLOAD_DECL void heartbeat(std::chrono::nanoseconds interval, unsigned max_missed = 0);

    /// Closes with `code` and `reason` and waits until the connection has ended (bounded by
    /// the close timeout). Throws std::invalid_argument for a code no endpoint may send (RFC 6455
    /// section 7.4: 1000-1003, 1007-1014, 3000-4999) or a reason over 123 bytes or not UTF-8.
    WSLOAD_DECL task<> close(std::uint16_t code = 1000, std::string_view reason = {});

    /// Returns when the connection has ended: closed by the server, the network or the run's end.
    WSLOAD_DECL task<> wait_closed();

    /// How the connection ended (meaningful once it has).
    WSLOAD_DECL stats::disconnect_reason end_reason() const noexcept;
    /// The code of the server's close frame, its answer to ours or its own (0 when none came).
    WSLOAD_DECL unsigned close_code() const noexcept;
    /// The reason text of the server's close frame (empty when none came); valid while this
    /// handle lives.
    WSLOAD_DECL std::string_view close_reason() const noexcept;

private:
    WSLOAD_DECL task<std::optional<message>> request_matching(std::string_view payload, net::detail::reply_matcher match,
                                                              request_options o);
    WSLOAD_DECL task<bool> send_frame(std::string_view data, bool binary);
    WSLOAD_DECL void release() noexcept;

    std::shared_ptr<net::detail::ws_session_base> session_;
};

}  // namespace wsload

#if !defined(WSLOAD_SEPARATE_COMPILATION)
#include <wsload/net/websocket/impl/websocket.ipp>
#endif
