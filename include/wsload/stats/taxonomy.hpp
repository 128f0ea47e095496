#pragma once
// The failure and disconnect taxonomy: every failed connection attempt and every ended
// connection belongs to exactly one class, so the classes always sum to the total.

#include <array>
#include <cstddef>
#include <string_view>

namespace wsload::stats {

/// Why a connection attempt failed.
enum class connect_failure : std::size_t {
    dns,          ///< the host name did not resolve
    refused,      ///< TCP connection refused (nothing listening)
    timeout,      ///< no connection, TLS session or upgrade within the connect timeout
    tls,          ///< TLS handshake failed (certificate verification included)
    http_status,  ///< the upgrade was answered with a status other than 101 (code counted too)
    handshake,    ///< the transport's handshake failed: a 101 or a reply that is not a valid WebSocket upgrade
    reset,        ///< the peer reset or closed the connection during the attempt
    aborted,      ///< the run ended before the attempt completed
    local_limit,  ///< the client ran out of something: file descriptors, ports, memory
    other,        ///< anything else (the log at debug level names it)
    count_
};

/// How an established connection ended.
enum class disconnect_reason : std::size_t {
    normal,          ///< the server closed with 1000
    going_away,      ///< the server closed with 1001
    protocol_error,  ///< 1002 from the server, or a violation the client detected (it closed with 1002 or 1007)
    message_too_big, ///< a message over max_message_bytes: the client closed with 1009
    server_close,    ///< the server closed with any other code (counted per code too)
    network,         ///< EOF or reset without a closing handshake
    ping_timeout,    ///< the heartbeat saw too many missed pongs
    client_close,    ///< the behaviour closed the connection itself
    client_stop,     ///< closed because the run ended
    peer_close,      ///< the peer closed in order (FIN) on a transport without a close handshake (raw TCP), or its protocol said goodbye (Socket.IO)
    app_heartbeat_timeout,  ///< the scenario's application heartbeat missed too many replies
    count_
};

/// Why a request failed (each one counted in requests_failed, and in exactly one class here).
/// A request with no reply in its timeout is counted apart (requests_timed_out), and one answered
/// with a reply that says it failed (an HTTP 4xx/5xx, a matcher's reject) is requests_rejected.
enum class request_failure : std::size_t {
    not_connected,  ///< no open connection to send it on (the connect failed, or it had ended)
    closed,         ///< the peer ended the connection in order before the reply (a FIN, a close frame)
    reset,          ///< the connection was reset or lost before or in the middle of the reply
    too_large,      ///< the reply (an HTTP body, a message) was over its limit
    unparsable,     ///< the reply broke the protocol (not HTTP, a bad frame, invalid JSON)
    stopped,        ///< the run ended (or the behaviour closed the connection) while it waited
    other,          ///< anything else (the log at debug level names it)
    count_
};

inline constexpr std::size_t connect_failure_count = static_cast<std::size_t>(connect_failure::count_);
inline constexpr std::size_t disconnect_reason_count = static_cast<std::size_t>(disconnect_reason::count_);

inline constexpr std::size_t request_failure_count = static_cast<std::size_t>(request_failure::count_);

inline constexpr std::array<std::string_view, connect_failure_count> connect_failure_names{
    "dns", "refused", "timeout", "tls", "http_status", "handshake", "reset", "aborted", "local_limit", "other"};

inline constexpr std::array<std::string_view, disconnect_reason_count> disconnect_reason_names{
    "normal",  "going_away",   "protocol_error", "message_too_big", "server_close",
    "network", "ping_timeout", "client_close",   "client_stop",     "peer_close", "app_heartbeat_timeout"};

inline constexpr std::array<std::string_view, request_failure_count> request_failure_names{
    "not_connected", "closed", "reset", "too_large", "unparsable", "stopped", "other"};

inline constexpr std::string_view name(request_failure f) noexcept
{
    return request_failure_names[static_cast<std::size_t>(f)];
}

/// The class of a request that was waiting when its connection ended for `why`.
inline constexpr request_failure request_failure_for(disconnect_reason why) noexcept
{
    switch (why) {
    case disconnect_reason::normal:
    case disconnect_reason::going_away:
    case disconnect_reason::server_close:
    case disconnect_reason::peer_close: return request_failure::closed;
    case disconnect_reason::network:
    case disconnect_reason::ping_timeout:
    case disconnect_reason::app_heartbeat_timeout: return request_failure::reset;
    case disconnect_reason::message_too_big: return request_failure::too_large;
    case disconnect_reason::protocol_error: return request_failure::unparsable;
    case disconnect_reason::client_close:
    case disconnect_reason::client_stop: return request_failure::stopped;
    case disconnect_reason::count_: break;
    }
    return request_failure::other;
}

inline constexpr std::string_view name(connect_failure f) noexcept
{
    return connect_failure_names[static_cast<std::size_t>(f)];
}
inline constexpr std::string_view name(disconnect_reason r) noexcept
{
    return disconnect_reason_names[static_cast<std::size_t>(r)];
}

/// Classifies a close code the server sent.
inline constexpr disconnect_reason reason_for_close_code(unsigned code) noexcept
{
    switch (code) {
    case 1000: return disconnect_reason::normal;
    case 1001: return disconnect_reason::going_away;
    case 1002: return disconnect_reason::protocol_error;
    default: return disconnect_reason::server_close;
    }
}

}  // namespace wsload::stats
