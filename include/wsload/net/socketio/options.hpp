#pragma once
// What a Socket.IO connection is opened with: `wsload::socketio::options().auth(...)`.

#include <wsload/net/upgrade_extras.hpp>
#include <wsload/net/websocket/deflate_options.hpp>

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace wsload::socketio {

/// Per-connection Socket.IO settings, set fluently. A class with a constructor, not an
/// aggregate (g++ 12 destroys aggregate temporaries in co_await expressions twice).
class options {
public:
    options() {}

    /// The server's Engine.IO path (socket.io's `path` option).
    options& path(std::string p) { path_ = std::move(p); return *this; }
    /// The namespace connect's auth payload, as JSON text of an object (`{"token":"abc"}`):
    /// what the server's middleware reads as `socket.handshake.auth`.
    options& auth(std::string json_object) { auth_ = std::move(json_object); return *this; }
    /// The bound on the Socket.IO connect after the WebSocket opened: Engine.IO's open packet and
    /// the namespace's answer together. Unset: the run's --connect-timeout.
    options& connect_timeout(std::chrono::nanoseconds d) { connect_timeout_ = d; return *this; }
    /// Larger messages end the connection (message_too_big); memory stays bounded.
    options& max_message_bytes(std::size_t n) { max_message_bytes_ = n; return *this; }
    /// Events nobody took, kept for receive(); the oldest is dropped beyond it.
    options& inbox_limit(std::size_t n) { inbox_limit_ = n; return *this; }
    /// WebSocket pings every `d` besides Engine.IO's own heartbeat (0, the default: none; the
    /// server's Engine.IO pings already prove the connection alive).
    options& websocket_heartbeat(std::chrono::nanoseconds d) { websocket_heartbeat_ = d; return *this; }

    /// Extras of the WebSocket upgrade (websocket_options has the same, with the same checks):
    /// a header line, a query parameter (a token), a cookie, the Origin.
    options& header(std::string_view name, std::string_view value) { extras_.header(name, value); return *this; }
    options& query(std::string_view name, std::string_view value) { extras_.query(name, value); return *this; }
    options& cookie(std::string_view name, std::string_view value) { extras_.cookie(name, value); return *this; }
    options& origin(std::string_view value) { extras_.origin(value); return *this; }

    /// Offer permessage-deflate on the WebSocket with these settings (unset: the run's
    /// --compression; off by default).
    options& compression(wsload::deflate_options d)
    {
        compression_ = std::move(d);
        compression_set_ = true;
        return *this;
    }
    /// compression(true): with the default settings; false: none, whatever --compression says.
    options& compression(bool on)
    {
        compression_ = on ? std::optional<wsload::deflate_options>(wsload::deflate_options()) : std::nullopt;
        compression_set_ = true;
        return *this;
    }

    const std::string& path() const noexcept { return path_; }
    /// What the connection offers: this client's choice, else the run's (--compression).
    const std::optional<wsload::deflate_options>& compression(const std::optional<wsload::deflate_options>& run) const noexcept
    {
        return compression_set_ ? compression_ : run;
    }
    const net::upgrade_extras& extras() const noexcept { return extras_; }
    const std::string& auth() const noexcept { return auth_; }
    std::optional<std::chrono::nanoseconds> connect_timeout() const noexcept { return connect_timeout_; }
    std::size_t max_message_bytes() const noexcept { return max_message_bytes_; }
    std::size_t inbox_limit() const noexcept { return inbox_limit_; }
    std::chrono::nanoseconds websocket_heartbeat() const noexcept { return websocket_heartbeat_; }

private:
    std::string path_ = "/socket.io/";
    std::string auth_;
    std::optional<std::chrono::nanoseconds> connect_timeout_;
    std::size_t max_message_bytes_ = 16 * 1024 * 1024;
    std::size_t inbox_limit_ = 64;
    std::chrono::nanoseconds websocket_heartbeat_{0};
    net::upgrade_extras extras_;
    std::optional<wsload::deflate_options> compression_;
    bool compression_set_ = false;  ///< compression_ overrides --compression even when empty
};

}  // namespace wsload::socketio
