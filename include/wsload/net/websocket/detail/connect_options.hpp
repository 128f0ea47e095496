#pragma once
// What a WebSocket connection is opened with, whichever layer (Beast's or the lean one) opens
// it, and the subprotocol check of RFC 6455 both apply to the 101.

#include <chrono>
#include <wsload/net/reply_key.hpp>
#include <wsload/net/websocket/deflate_options.hpp>

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace wsload::net::detail {

/// Per-connection options a behaviour may set.
struct ws_connect_options {
    std::chrono::nanoseconds heartbeat{0};   ///< ping interval; 0 = none
    std::chrono::nanoseconds heartbeat_phase{0};
    unsigned max_missed_pongs = 0;           ///< end as ping_timeout after this many; 0 = never
    std::size_t max_message_bytes = 16 * 1024 * 1024;
    std::size_t inbox_limit = 64;
    std::string subprotocol;
    std::size_t fragment_size = 0;  ///< outgoing frames carry at most this much; 0 = whole message
    std::shared_ptr<const wsload::reply_key> reply_key;  ///< how replies name their requests; null: by matcher only
    std::optional<wsload::deflate_options> compression;  ///< permessage-deflate offered; unset: none
};

/// RFC 6455 section 4.1: the subprotocol a 101 names must be one the client offered (`offered`
/// may be a comma-separated list). A 101 naming none when one was asked for is refused too: the
/// behaviour would go on talking a protocol the server did not agree to.
inline bool subprotocol_agreed(std::string_view offered, std::string_view chosen)
{
    if (chosen.empty()) return offered.empty();
    while (!offered.empty()) {
        const auto comma = offered.find(',');
        auto token = offered.substr(0, comma);
        offered = comma == std::string_view::npos ? std::string_view{} : offered.substr(comma + 1);
        while (!token.empty() && (token.front() == ' ' || token.front() == '\t')) token.remove_prefix(1);
        while (!token.empty() && (token.back() == ' ' || token.back() == '\t')) token.remove_suffix(1);
        if (token == chosen) return true;
    }
    return false;
}

}  // namespace wsload::net::detail
