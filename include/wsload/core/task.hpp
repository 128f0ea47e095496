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

/// Every user and connection lives on one thread's io_context, so io objects and coroutines
/// use that executor type directly: smaller than any_io_executor (PERF-FACTS: ~200 B per
/// pending op; an idle user's three parked frames and co_spawn's work guards: ~195 B).
using executor = boost::asio::io_context::executor_type;

/// A coroutine that a behaviour or a wsload operation returns: `co_await` it.
template <class T = void>
using task = boost::asio::awaitable<T, executor>;

/// The completion token of a task: `co_await op(wsload::use_awaitable)` throws on failure.
/// (Boost's own `boost::asio::use_awaitable` is for coroutines on any_io_executor and does not
/// compile inside a task.)
inline constexpr boost::asio::use_awaitable_t<executor> use_awaitable{};

/// Completion token for expected failures: `auto [ec, n] = co_await op(use_task);`.
/// Failures travel as error codes, never as exceptions (see STYLE.md).
inline constexpr auto use_task = boost::asio::as_tuple(use_awaitable);

using tcp_socket = boost::asio::basic_stream_socket<boost::asio::ip::tcp, executor>;
using timer = boost::asio::basic_waitable_timer<std::chrono::steady_clock,
                                                boost::asio::wait_traits<std::chrono::steady_clock>,
                                                executor>;
using clock = std::chrono::steady_clock;

}  // namespace wsload
