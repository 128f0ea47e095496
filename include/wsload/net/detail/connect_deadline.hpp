#pragma once
// What a connection attempt keeps in its connecting coroutine's frame: the instants of its
// phases and the one bound on all of them.

#include <wsload/core/task.hpp>
#include <wsload/net/detail/handler_memory.hpp>

#include <boost/asio/bind_allocator.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <memory>

namespace wsload::net::detail {

using boost::system::error_code;

/// The instants of an attempt's phases (record_connect): its start (before DNS), the end of
/// the TCP connect and of the TLS handshake (== tcp without TLS).
struct connect_times {
    clock::time_point start, tcp, tls;
};

/// One bound on an attempt's TCP connect, TLS handshake and the transport's handshake together:
/// when it passes, the transport is closed under whatever step is pending and the attempt counts
/// as a timeout. It lives in the connecting coroutine's frame, so an open connection has no timer.
class connect_deadline {
public:
    explicit connect_deadline(executor ex) : timer_(ex) {}
    connect_deadline(const connect_deadline&) = delete;
    connect_deadline& operator=(const connect_deadline&) = delete;
    ~connect_deadline() { timer_.cancel(); }

    /// Starts the bound: when it passes, `c->connect_deadline_passed()` (its handler keeps `c`
    /// alive until it has run).
    template <class Connection>
    void arm(std::shared_ptr<Connection> c, std::chrono::nanoseconds limit)
    {
        timer_.expires_after(limit);
        timer_.async_wait(boost::asio::bind_allocator(exact_allocator<void>(), [c = std::move(c)](const error_code& ec) {
            if (!ec) c->connect_deadline_passed();
        }));
    }
    void cancel() { timer_.cancel(); }

private:
    timer timer_;
};

template <class Stream>
inline constexpr bool is_tls_stream = false;
template <class Next>
inline constexpr bool is_tls_stream<boost::asio::ssl::stream<Next>> = true;

}  // namespace wsload::net::detail
