#pragma once
// A raw TCP connection a behaviour holds: `auto c = co_await wsload::tcp::connect(u);` on
// tcp://host:port or tls://host:port, with messages cut by a framing (lines by default). It
// shares the connect path, timing and accounting of every transport (net/detail/connection_base.hpp):
// attempts and failure classes, messages and bytes each way, requests recorded as type "TCP".
// Declarations only where the layer is compiled once (see detail/config.hpp).

#include <wsload/core/task.hpp>
#include <wsload/detail/config.hpp>
#include <wsload/net/connection_owner.hpp>
#include <wsload/net/message.hpp>
#include <wsload/net/request_options.hpp>
#include <wsload/net/tcp/framing.hpp>
#include <wsload/net/tcp/options.hpp>
#include <wsload/stats/taxonomy.hpp>

#include <boost/json/fwd.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace wsload {

namespace net::detail {
class connection_base;
}  // namespace net::detail

namespace tcp {

/// A raw TCP connection owned by one user. Empty (false) when connecting failed; the failure
/// is already counted in its class. Dropping an open one closes it (client_close).
/// All members must be used from the owner's coroutine (its thread).
class connection {
public:
    connection() = default;
    explicit connection(std::shared_ptr<net::detail::connection_base> s) noexcept : session_(std::move(s)) {}
    connection(connection&&) noexcept = default;
    WSLOAD_DECL connection& operator=(connection&& other) noexcept;
    WSLOAD_DECL ~connection();

    explicit operator bool() const noexcept { return session_ != nullptr; }
    WSLOAD_DECL bool is_open() const noexcept;

    /// Sends one message, framed; false if the connection is not open or the write failed.
    WSLOAD_DECL task<bool> send(std::string_view payload);
    WSLOAD_DECL task<bool> send_json(const boost::json::value& v);

    /// The next message no request claimed; nullopt after `timeout` or when the connection ends.
    WSLOAD_DECL task<std::optional<message>> receive(std::chrono::nanoseconds timeout);

    /// Sends `payload` and waits for the first message `match(text)` accepts; records its round
    /// trip (from `o.intended_at` when given) under `o.name`, as type "TCP". nullopt on timeout
    /// or end, counted as requests_timed_out or requests_failed.
    template <class Match>
    task<std::optional<message>> request(std::string_view payload, Match match, request_options o = {})
    {
        return request_matching(payload, net::detail::reply_matcher(std::move(match)), o);
    }

    /// Sends `payload` and waits for the message whose reply_key is `o.key` (the connection was
    /// opened with options::reply_key); records its round trip as request() does.
    task<std::optional<message>> request(std::string_view payload, request_options o)
    {
        return request_matching(payload, net::detail::reply_matcher([](std::string_view) { return true; }), o);
    }

    /// Closes the connection (counted as client_close) and returns when it has ended.
    WSLOAD_DECL task<> close();
    /// Returns when the connection has ended: closed by the peer, the network or the run's end.
    WSLOAD_DECL task<> wait_closed();
    /// How the connection ended (meaningful once it has).
    WSLOAD_DECL stats::disconnect_reason end_reason() const noexcept;

private:
    WSLOAD_DECL task<std::optional<message>> request_matching(std::string_view payload, net::detail::reply_matcher match,
                                                              request_options o);
    WSLOAD_DECL void release() noexcept;

    std::shared_ptr<net::detail::connection_base> session_;
};

/// Connects `owner` (a wsload::user) to the run's --target or to `url` (tcp:// or tls://).
/// Check the result: false when it failed (counted in its class). A URL of another scheme is a
/// usage error: the run ends with one line naming it (exit status 2).
WSLOAD_DECL task<connection> connect(net::connection_owner& owner, options o = {});
WSLOAD_DECL task<connection> connect(net::connection_owner& owner, std::string_view url, options o = {});

}  // namespace tcp
}  // namespace wsload

#if !defined(WSLOAD_SEPARATE_COMPILATION)
#include <wsload/net/tcp/impl/connection.ipp>
#endif
