#pragma once
// Definitions of net/tcp/connection.hpp: inline in a header-only build, compiled once
// (impl/src.hpp) with WSLOAD_SEPARATE_COMPILATION.

#include <wsload/net/io_thread.hpp>
#include <wsload/net/tcp/connection.hpp>
#include <wsload/net/tcp/detail/tcp_session.hpp>

#include <boost/asio/post.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

namespace wsload::tcp {

namespace detail {

template <class Session>
task<connection> open(net::connection_owner& owner, net::url u, options o)
{
    auto session = std::make_shared<Session>(owner.thread());
    owner.connections().link(*session);
    session->set_reply_key(o.reply_key());
    session->set_push_type(o.push_type());
    if (owner.traced()) session->trace_as(owner.trace_tag());
    if (!co_await session->connect(std::move(u), o)) co_return connection{};
    co_return connection{std::move(session)};
}

inline task<std::optional<message>> no_message() { co_return std::nullopt; }
inline task<> no_wait() { co_return; }

}  // namespace detail

WSLOAD_DECL task<connection> connect(net::connection_owner& owner, options o)
{
    return connect(owner, owner.target().to_string(), std::move(o));
}

WSLOAD_DECL task<connection> connect(net::connection_owner& owner, std::string_view url, options o)
{
    auto u = net::parse_url(url);
    if (u.scheme != "tcp" && u.scheme != "tls") net::throw_wrong_scheme(u, "raw TCP", "tcp:// and tls://");
    return detail::open<net::detail::tcp_session>(owner, std::move(u), std::move(o));
}

WSLOAD_DECL connection& connection::operator=(connection&& other) noexcept
{
    release();
    session_ = std::move(other.session_);
    return *this;
}

WSLOAD_DECL connection::~connection() { release(); }

WSLOAD_DECL bool connection::is_open() const noexcept { return session_ && session_->is_open(); }

WSLOAD_DECL task<bool> connection::send(std::string_view payload)
{
    if (!session_) co_return false;
    auto ec = co_await session_->write(payload, false);
    co_return !ec;
}

WSLOAD_DECL task<bool> connection::send_json(const boost::json::value& v)
{
    co_return co_await send(boost::json::serialize(v));
}

WSLOAD_DECL task<std::optional<message>> connection::receive(std::chrono::nanoseconds timeout)
{
    if (!session_) return detail::no_message();
    return session_->receive(timeout);
}

WSLOAD_DECL task<std::optional<message>> connection::request_matching(std::string_view payload,
                                                                      net::detail::reply_matcher match, request_options o)
{
    if (!session_) return detail::no_message();
    return session_->request(payload, std::move(match), false, o.timeout, net::detail::send_time(session_->thread().stats(), o.intended_at), o.name,
                             o.key);
}

WSLOAD_DECL task<> connection::close()
{
    if (!session_) co_return;
    session_->close_as(stats::disconnect_reason::client_close);
    co_await session_->wait_closed();
}

WSLOAD_DECL task<> connection::wait_closed()
{
    if (!session_) return detail::no_wait();
    return session_->wait_closed();
}

WSLOAD_DECL stats::disconnect_reason connection::end_reason() const noexcept
{
    return session_ ? session_->end_reason() : stats::disconnect_reason::network;
}

WSLOAD_DECL void connection::release() noexcept
{
    if (session_) session_->close_as(stats::disconnect_reason::client_close);
    session_.reset();
}

}  // namespace wsload::tcp
