#pragma once
// What a WebSocket connection is opened with, whichever layer (Beast's or the lean one) opens
// it, the header lines both add to the handshake's own, and the subprotocol check of RFC 6455
// both apply to the 101. It lives in the connecting coroutine, not in the connection.

#include <wsload/net/app_heartbeat.hpp>
#include <wsload/net/header.hpp>
#include <wsload/net/reply_key.hpp>
#include <wsload/net/websocket/deflate_options.hpp>

#include <boost/beast/core/string.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

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
    std::shared_ptr<const wsload::reply_key> push_type;  ///< how pushes name their type; null: not counted by type
    std::shared_ptr<const wsload::app_heartbeat> app_heartbeat;  ///< the scenario's heartbeat; null: none
    std::vector<header_field> headers;  ///< the upgrade's extra lines (upgrade_extras::lines), checked already
    std::optional<wsload::deflate_options> compression;  ///< permessage-deflate offered; unset: none
};

/// Calls `f(name, value)` for each line both layers add to the upgrade request after the
/// handshake's own, in this order: Sec-WebSocket-Protocol when one is asked for, `User-Agent:
/// wsload` unless the user gave one, then the user's lines, those of one name together where
/// the first of them stood (Beast's fields insert a repeated name after its last line: the lean
/// layer writes the same order). One list: the layers send the same.
template <class F>
void for_each_added_field(const ws_connect_options& o, F&& f)
{
    if (!o.subprotocol.empty()) f(std::string_view("Sec-WebSocket-Protocol"), std::string_view(o.subprotocol));
    if (!names_header(o.headers, "User-Agent")) f(std::string_view("User-Agent"), std::string_view("wsload"));
    const auto& h = o.headers;
    for (std::size_t i = 0; i < h.size(); ++i) {
        const auto same_name = [&](std::size_t j) { return boost::beast::iequals(h[j].first, h[i].first); };
        bool done = false;  // written with an earlier line of its name
        for (std::size_t j = 0; j < i && !done; ++j) done = same_name(j);
        if (done) continue;
        for (std::size_t j = i; j < h.size(); ++j)
            if (same_name(j)) f(std::string_view(h[j].first), std::string_view(h[j].second));
    }
}

/// RFC 6455 section 4.1: the subprotocol a 101 names must be one the client offered (`offered`
/// may be a comma-separated list). A 101 naming none when one was asked for is refused too: the
/// behaviour would go on talking a protocol the server did not agree to.
inline bool subprotocol_agreed(std::string_view offered, std::string_view chosen)
{
    if (chosen.empty()) return offered.empty();
    while (!offered.empty()) {
        const auto comma = offered.find(',');
        const auto token = trim_ows(offered.substr(0, comma));
        offered = comma == std::string_view::npos ? std::string_view{} : offered.substr(comma + 1);
        if (token == chosen) return true;
    }
    return false;
}

}  // namespace wsload::net::detail
