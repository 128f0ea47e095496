#pragma once
// Definitions of net/websocket.hpp: inline in a header-only build, compiled once (impl/src.hpp)
// with WSLOAD_SEPARATE_COMPILATION.

#include <wsload/detail/frame_cache.hpp>
#include <wsload/net/websocket/detail/utf8_validator.hpp>
#include <wsload/net/websocket/detail/frame.hpp>
#include <wsload/net/websocket/detail/session.hpp>
#include <wsload/net/websocket.hpp>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <stdexcept>
#include <string>

namespace wsload {

namespace detail {

inline void check_close_arguments(std::uint16_t code, std::string_view reason)
{
    if (!net::detail::is_valid_close_code(code))
        throw std::invalid_argument("wsload: websocket::close(" + std::to_string(code) +
                                    "): not a close code an endpoint may send (use 1000-1003, 1007-1014 or 3000-4999)");
    if (reason.size() > net::detail::max_close_reason)
        throw std::invalid_argument("wsload: websocket::close: the reason has " + std::to_string(reason.size()) +
                                    " bytes; a close frame holds at most 123");
    if (!net::detail::utf8_validator::valid(reason))
        throw std::invalid_argument("wsload: websocket::close: the reason is not UTF-8");
}

inline task<std::optional<message>> no_message() { co_return std::nullopt; }
inline task<> no_wait() { co_return; }

}  // namespace detail

WSLOAD_DECL websocket& websocket::operator=(websocket&& other) noexcept
{
    release();
    session_ = std::move(other.session_);
    return *this;
}

WSLOAD_DECL websocket::~websocket() { release(); }

WSLOAD_DECL bool websocket::is_open() const noexcept { return session_ && session_->is_open(); }

WSLOAD_DECL task<bool> websocket::send(std::string_view text) { return send_frame(text, false); }
WSLOAD_DECL task<bool> websocket::send_binary(std::string_view bytes) { return send_frame(bytes, true); }
WSLOAD_DECL task<bool> websocket::send_json(const boost::json::value& v)
{
    co_return co_await send_frame(boost::json::serialize(v), false);
}

WSLOAD_DECL task<std::optional<message>> websocket::receive(std::chrono::nanoseconds timeout)
{
    if (!session_) return detail::no_message();
    return session_->receive(timeout);
}

WSLOAD_DECL task<std::optional<message>> websocket::request_matching(std::string_view payload,
                                                                     net::detail::reply_matcher match, request_options o)
{
    if (!session_) return detail::no_message();
    return session_->request(payload, std::move(match), o.binary, o.timeout, net::detail::send_time(session_->thread().stats(), o.intended_at),
                             o.name, o.key);
}

WSLOAD_DECL void websocket::heartbeat(std::chrono::nanoseconds interval, unsigned max_missed)
{
    if (session_ && interval.count() > 0) session_->start_heartbeat(interval, interval, max_missed);
}

WSLOAD_DECL task<> websocket::close(std::uint16_t code, std::string_view reason)
{
    detail::check_close_arguments(code, reason);
    if (!session_) co_return;
    session_->begin_close(code, stats::disconnect_reason::client_close, reason);
    co_await session_->wait_closed();
}

WSLOAD_DECL task<> websocket::wait_closed()
{
    if (!session_) return detail::no_wait();
    // The behaviour's own wait may last the whole run (an idle user): its frame gets a block of
    // its own size. Not in close(), whose wait is short and comes once per connection.
    wsload::detail::release_cached_frames();
    return session_->wait_closed();
}

WSLOAD_DECL stats::disconnect_reason websocket::end_reason() const noexcept
{
    return session_ ? session_->end_reason() : stats::disconnect_reason::network;
}
WSLOAD_DECL unsigned websocket::close_code() const noexcept { return session_ ? session_->close_code() : 0u; }
WSLOAD_DECL std::string_view websocket::close_reason() const noexcept
{
    return session_ ? session_->close_reason() : std::string_view{};
}

WSLOAD_DECL task<bool> websocket::send_frame(std::string_view data, bool binary)
{
    if (!session_) co_return false;
    auto ec = co_await session_->write(data, binary);
    co_return !ec;
}

WSLOAD_DECL void websocket::release() noexcept
{
    if (session_) session_->begin_close(1000, stats::disconnect_reason::client_close, {});
    session_.reset();
}

}  // namespace wsload
