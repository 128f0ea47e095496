#pragma once
// Definitions of net/socketio/client.hpp: inline in a header-only build, compiled once
// (impl/src.hpp) with WSLOAD_SEPARATE_COMPILATION.

#include <wsload/net/io_thread.hpp>
#include <wsload/net/socketio/client.hpp>
#include <wsload/net/socketio/detail/session.hpp>
#include <wsload/net/url.hpp>
#include <wsload/net/websocket/detail/lean_connection.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <charconv>
#include <exception>
#include <stdexcept>

namespace wsload::socketio {

namespace detail {

inline task<> no_wait() { co_return; }

/// The event a packet (its text after Engine.IO's `4`) carries, with its attachments.
inline std::optional<socketio::event> event_of(std::string_view text, std::vector<std::string>&& attachments)
{
    const auto p = parse_packet(text);
    if (!p) return std::nullopt;
    socketio::event e;
    e.name = event_name(p->data).value_or(std::string());
    e.data = std::string(p->data);
    e.id = p->id;
    e.attachments = std::move(attachments);
    return e;
}

inline void session::event_arrived(const packet& p, std::string_view text, std::vector<std::string>* attachments)
{
    auto name = event_name(p.data);
    if (!name) return broken("an event whose first argument is not its name");
    connection_.thread().stats().pushes.count(*name);  // every event the server emits is a push
    if (handlers_) {
        if (const auto h = handlers_->find(*name); h != handlers_->end()) {
            socketio::event e{std::move(*name), std::string(p.data), p.id, {}};
            if (attachments) e.attachments = std::move(*attachments);
            try {
                h->second(e);
            } catch (const std::exception& x) {
                connection_.thread().stats()[stats::counter_id::behaviour_errors].add();
                connection_.thread().stats().errors.count("socket.io handler \"" + e.name + "\"", x.what());
            } catch (...) {
                connection_.thread().stats()[stats::counter_id::behaviour_errors].add();
                connection_.thread().stats().errors.count("socket.io handler \"" + e.name + "\"", "a non-standard exception");
            }
            return;
        }
    }
    connection_.dispatch(text, false, attachments);  // receive() makes the event of it
}

/// Views of a binary emit's attachments, for write_group (which keeps none of them).
inline std::vector<std::string_view> views_of(const std::vector<std::string>& attachments)
{
    return {attachments.begin(), attachments.end()};
}

/// The WebSocket URL of a Socket.IO URL, and the namespace its path names.
struct endpoint {
    net::url websocket;
    std::string nsp;
};

inline endpoint endpoint_of(net::url u, const options& o)
{
    if (u.scheme == "http" || u.scheme == "ws") u.scheme = "ws";
    else if (u.scheme == "https" || u.scheme == "wss") u.scheme = "wss";
    else net::throw_wrong_scheme(u, "Socket.IO", "http://, https://, ws:// and wss://");
    endpoint e;
    const auto question = u.target.find('?');
    e.nsp = u.target.substr(0, question);
    if (e.nsp.empty()) e.nsp = "/";
    while (e.nsp.size() > 1 && e.nsp.back() == '/') e.nsp.pop_back();
    const auto query = question == std::string::npos ? std::string() : u.target.substr(question + 1);
    if (o.path().empty() || o.path()[0] != '/')
        throw usage_error("the Socket.IO path " + wsload::detail::quoted(o.path()) + " does not start with '/'");
    u.target = o.path() + "?EIO=4&transport=websocket";
    if (!query.empty()) u.target += "&" + query;
    e.websocket = std::move(u);
    return e;
}

/// The namespace connect: Engine.IO's open packet, then CONNECT and the server's answer, as one
/// request of type "SIO" named `connect <namespace>` timed from the WebSocket's open.
inline task<bool> join(std::shared_ptr<net::detail::lean_ws_connection> c, session& s, std::string auth,
                       std::chrono::nanoseconds timeout)
{
    const auto name = "connect " + s.nsp();
    const auto t0 = clock::now();
    if (!co_await s.wait_open(t0, timeout)) {
        // Never sent: no open packet in time, or the connection ended first. Counted as the
        // request it would have been, so that every connect is one outcome.
        net::detail::request_accounting figures(c->thread().stats(), c->named_figures(name));
        figures.sent();
        if (c->current_state() == net::detail::connection_base::state::closed)
            figures.failed(stats::request_failure_for(c->end_reason()));
        else
            figures.timed_out();
        c->close_as(stats::disconnect_reason::client_close);
        co_return false;
    }
    const auto packet = encode_packet(packet_type::connect, s.nsp(), std::nullopt, auth);
    // Its answer is `0...` (CONNECT) or `4...` (CONNECT_ERROR: a rejected request).
    auto answer = [](std::string_view text) { return !text.empty() && text[0] == '0' ? reply::accept : reply::reject; };
    const auto reply = co_await c->request(packet, net::detail::reply_matcher(answer), false, timeout, t0, name, s.nsp());
    if (!reply || reply->data.empty() || reply->data[0] != '0') {
        c->close_as(stats::disconnect_reason::client_close);
        co_return false;
    }
    std::string sid;
    if (const auto p = parse_packet(reply->data); p && !p->data.empty()) {
        boost::system::error_code ec;
        if (const auto v = boost::json::parse(p->data, ec); !ec && v.is_object())
            if (const auto* f = v.get_object().if_contains("sid"); f && f->is_string()) sid = std::string(f->get_string());
    }
    s.connected_as(std::move(sid));
    co_return true;
}

inline task<client> open(net::connection_owner& owner, net::url u, options o)
{
    auto target = endpoint_of(std::move(u), o);
    auto connection = std::make_shared<net::detail::lean_ws_connection>(owner.thread());
    owner.connections().link(*connection);
    if (owner.traced()) connection->trace_as(owner.trace_tag());
    auto protocol = std::make_unique<session>(*connection, target.nsp);
    auto& s = *protocol;
    connection->speak(std::move(protocol));
    net::detail::ws_connect_options c;
    c.heartbeat = o.websocket_heartbeat();
    c.max_message_bytes = o.max_message_bytes();
    c.inbox_limit = o.inbox_limit();
    c.compression = o.compression(owner.thread().settings().compression);
    o.extras().apply_query(target.websocket);
    c.headers = o.extras().lines(owner.thread().settings().headers, target.websocket);
    if (!co_await connection->connect(std::move(target.websocket), std::move(c))) co_return client{};
    const auto timeout = o.connect_timeout().value_or(owner.thread().settings().connect_timeout);
    if (!co_await join(connection, s, o.auth(), timeout)) co_return client{};
    co_return client{std::move(connection)};
}

}  // namespace detail

WSLOAD_DECL boost::json::array event::args() const
{
    auto v = boost::json::parse(data);
    auto& all = v.as_array();
    if (!all.empty()) all.erase(all.begin());
    return std::move(all);
}

WSLOAD_DECL task<client> connect(net::connection_owner& owner, options o)
{
    return detail::open(owner, owner.target(), std::move(o));
}

WSLOAD_DECL task<client> connect(net::connection_owner& owner, std::string_view url, options o)
{
    return detail::open(owner, net::parse_url(url), std::move(o));
}

WSLOAD_DECL client& client::operator=(client&& other) noexcept
{
    release();
    connection_ = std::move(other.connection_);
    return *this;
}

WSLOAD_DECL client::~client() { release(); }

inline detail::session& client::session() const noexcept
{
    return static_cast<detail::session&>(*connection_->protocol());
}

WSLOAD_DECL bool client::is_open() const noexcept { return connection_ && connection_->is_open() && session().connected(); }

WSLOAD_DECL std::string_view client::sid() const noexcept { return connection_ ? session().sid() : std::string_view{}; }

WSLOAD_DECL task<bool> client::emit(std::string_view event, std::string_view args)
{
    return send_emit(event, args, nullptr);
}

WSLOAD_DECL task<bool> client::emit_json(std::string_view event, const boost::json::value& arg)
{
    co_return co_await emit(event, boost::json::serialize(arg));
}

WSLOAD_DECL task<bool> client::emit_binary(std::string_view event, const arguments& a)
{
    return send_emit(event, a.text(), &a);
}

WSLOAD_DECL task<std::optional<message>> client::emit_with_ack(std::string_view event, std::string_view args,
                                                               request_options o)
{
    return ack_emit(event, args, nullptr, std::move(o));
}

WSLOAD_DECL task<std::optional<message>> client::emit_binary_with_ack(std::string_view event, const arguments& a,
                                                                      request_options o)
{
    return ack_emit(event, a.text(), &a, std::move(o));
}

inline task<bool> client::send_emit(std::string_view event, std::string_view args, const arguments* binary)
{
    if (!connection_) co_return false;
    if (!binary || binary->attachments().empty()) {
        const auto packet = encode_packet(packet_type::event, session().nsp(), std::nullopt, event_data(event, args));
        co_return !co_await connection_->write(packet, false);
    }
    const auto packet = encode_emit(session().nsp(), std::nullopt, event, *binary);
    const auto parts = detail::views_of(binary->attachments());
    co_return !co_await connection_->write_group(packet, false, parts);
}

inline task<std::optional<message>> client::ack_emit(std::string_view event, std::string_view args, const arguments* binary,
                                                     request_options o)
{
    if (!connection_) co_return std::nullopt;
    auto& s = session();
    const auto id = s.next_ack_id();
    char key[24];
    const auto r = std::to_chars(key, key + sizeof key, id);
    const auto packet = binary ? encode_emit(s.nsp(), id, event, *binary)
                               : encode_packet(packet_type::event, s.nsp(), id, event_data(event, args));
    const auto parts = binary ? detail::views_of(binary->attachments()) : std::vector<std::string_view>();
    const auto name = o.name.empty() ? event : o.name;
    co_return co_await connection_->request(packet, net::detail::reply_matcher([](std::string_view) { return true; }), false,
                                            o.timeout, net::detail::send_time(connection_->thread().stats(), o.intended_at), name,
                                            std::string_view(key, static_cast<std::size_t>(r.ptr - key)), parts);
}

WSLOAD_DECL task<std::optional<socketio::event>> client::receive(std::chrono::nanoseconds timeout)
{
    if (!connection_) co_return std::nullopt;
    auto m = co_await connection_->receive(timeout);
    if (!m) co_return std::nullopt;
    co_return detail::event_of(m->data, std::move(m->attachments));
}

WSLOAD_DECL void client::on(std::string name, std::function<void(const socketio::event&)> handler)
{
    if (connection_) session().on(std::move(name), std::move(handler));
}

WSLOAD_DECL task<bool> client::ack(const socketio::event& e, std::string_view args)
{
    if (!connection_ || !e.id) co_return false;
    std::string data = "[";
    data += args;
    data += ']';
    const auto packet = encode_packet(packet_type::ack, session().nsp(), e.id, data);
    co_return !co_await connection_->write(packet, false);
}

WSLOAD_DECL task<> client::disconnect()
{
    if (!connection_) co_return;
    if (connection_->is_open() && session().connected())
        co_await connection_->write(encode_packet(packet_type::disconnect, session().nsp(), std::nullopt, {}), false);
    connection_->begin_close(1000, stats::disconnect_reason::client_close, {});
    co_await connection_->wait_closed();
}

WSLOAD_DECL task<> client::wait_closed()
{
    if (!connection_) return detail::no_wait();
    return connection_->wait_closed();
}

WSLOAD_DECL stats::disconnect_reason client::end_reason() const noexcept
{
    return connection_ ? connection_->end_reason() : stats::disconnect_reason::network;
}

WSLOAD_DECL void client::release() noexcept
{
    if (connection_) connection_->begin_close(1000, stats::disconnect_reason::client_close, {});
    connection_.reset();
}

}  // namespace wsload::socketio
