#pragma once
// The coroutine vocabulary of wsload: what a behaviour returns and how it awaits.

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>

namespace wsload {

/// A coroutine that a behaviour or a wsload operation returns: `co_await` it.
template <class T = void>
using task = boost::asio::awaitable<T>;

/// Completion token for expected failures: `auto [ec, n] = co_await op(use_task);`.
/// Failures travel as error codes, never as exceptions (see STYLE.md).
inline constexpr auto use_task = boost::asio::as_tuple(boost::asio::use_awaitable);

/// Every user and connection lives on one thread's io_context, so io objects use that
/// executor type directly: smaller than any_io_executor (PERF-FACTS: ~200 B per pending op).
using executor = boost::asio::io_context::executor_type;
using tcp_socket = boost::asio::basic_stream_socket<boost::asio::ip::tcp, executor>;
using timer = boost::asio::basic_waitable_timer<std::chrono::steady_clock,
                                                boost::asio::wait_traits<std::chrono::steady_clock>,
                                                executor>;
using clock = std::chrono::steady_clock;

}  // namespace wsload
