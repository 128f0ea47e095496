#pragma once
// The part of connecting that every transport shares: resolving, the TCP connect, the bound
// on the whole attempt, and the classification of what went wrong.

#include <wsload/core/task.hpp>
#include <wsload/net/url.hpp>
#include <wsload/stats/taxonomy.hpp>

#include <boost/asio/connect.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/system/error_code.hpp>

#include <system_error>
#include <vector>

namespace wsload::net {

using boost::system::error_code;
using tcp_resolver = boost::asio::ip::basic_resolver<boost::asio::ip::tcp, executor>;

/// Where an attempt was when it failed; the same error means different things in each.
/// `handshake` is the transport's own (a WebSocket upgrade); raw TCP has none.
enum class connect_phase { resolve, tcp, tls, handshake, upgrade = handshake };

/// Errors that say the client itself ran out of something (fds, ports, memory): the report
/// must not blame the server for them.
inline bool is_local_limit(const error_code& ec) noexcept
{
    return ec == std::errc::too_many_files_open || ec == std::errc::too_many_files_open_in_system ||
           ec == std::errc::no_buffer_space || ec == std::errc::not_enough_memory ||
           ec == std::errc::address_not_available || ec == std::errc::address_in_use;
}

/// Maps a failed step to its class. `timed_out` and `aborted` win over the error, which is
/// then only the echo of our own cancellation.
inline stats::connect_failure classify_connect_error(connect_phase phase, const error_code& ec, bool timed_out,
                                                     bool aborted) noexcept
{
    using stats::connect_failure;
    namespace error = boost::asio::error;
    if (aborted) return connect_failure::aborted;
    if (timed_out || ec == error::timed_out) return connect_failure::timeout;
    if (is_local_limit(ec)) return connect_failure::local_limit;
    if (ec == error::connection_reset) return connect_failure::reset;
    // The server closed the connection without answering (TLS or upgrade): no reply at all is
    // not a bad reply. (Beast reports it as http::error::end_of_stream, a TLS stream as
    // stream_truncated: a FIN without close_notify.)
    if (phase != connect_phase::resolve &&
        (ec == error::eof || ec == boost::beast::http::error::end_of_stream ||
         ec == boost::asio::ssl::error::stream_truncated))
        return connect_failure::reset;
    switch (phase) {
    case connect_phase::resolve: return connect_failure::dns;
    case connect_phase::tcp:
        if (ec == error::connection_refused) return connect_failure::refused;
        return connect_failure::other;
    case connect_phase::tls: return connect_failure::tls;
    case connect_phase::handshake: return connect_failure::handshake;  // callers pick http_status first
    }
    return connect_failure::other;
}

/// Endpoints for `u`: an IP literal is used as is (no resolver round trip, which matters at
/// thousands of connections per second); a name goes through the resolver.
inline task<std::pair<error_code, std::vector<boost::asio::ip::tcp::endpoint>>> resolve(executor ex, url u)
{
    std::vector<boost::asio::ip::tcp::endpoint> endpoints;
    error_code ec;
    auto address = boost::asio::ip::make_address(u.host, ec);
    if (!ec) {
        endpoints.emplace_back(address, u.port);
        co_return std::pair{error_code{}, std::move(endpoints)};
    }
    tcp_resolver resolver(ex);
    auto [rec, results] = co_await resolver.async_resolve(u.host, std::to_string(u.port), use_task);
    if (!rec && results.empty()) rec = boost::asio::error::host_not_found;
    for (const auto& entry : results) endpoints.push_back(entry.endpoint());
    co_return std::pair{rec, std::move(endpoints)};
}

}  // namespace wsload::net
