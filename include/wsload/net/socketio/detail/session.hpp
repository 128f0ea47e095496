#pragma once
// The Engine.IO v4 and Socket.IO v5 protocols over one WebSocket connection: what the
// connection hands every message to (net/detail/message_protocol.hpp). It answers the server's
// heartbeat, ends the connection when that heartbeat goes quiet or a packet is broken, gathers
// binary attachments, and hands acks to the requests waiting for them (by id: a hash lookup)
// and events to handlers, receivers or the inbox. Everything here runs on the connection's thread.

#include <wsload/core/log.hpp>
#include <wsload/net/detail/message_protocol.hpp>
#include <wsload/net/socketio/packet.hpp>
#include <wsload/net/websocket/detail/session.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/json/parse.hpp>

#include <charconv>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace wsload::socketio {
struct event;
}  // namespace wsload::socketio

namespace wsload::socketio::detail {

using net::detail::ws_session_base;

class session final : public net::detail::message_protocol {
public:
    using handler = std::function<void(const socketio::event&)>;

    session(ws_session_base& c, std::string nsp) : connection_(c), nsp_(std::move(nsp)), heartbeat_(*this) {}
    ~session() override = default;

    const std::string& nsp() const noexcept { return nsp_; }
    std::string_view sid() const noexcept { return sid_; }
    bool connected() const noexcept { return connected_ && !disconnected_; }
    std::uint64_t next_ack_id() noexcept { return next_ack_id_++; }

    std::string_view request_type() const noexcept override { return "SIO"; }

    /// Waits (parked on the connection) until Engine.IO's open packet came, the connection
    /// ended, or `timeout` from `from` passed; true for the first.
    task<bool> wait_open(clock::time_point from, std::chrono::nanoseconds timeout)
    {
        if (!opened_ && connection_.current_state() == ws_session_base::state::open) {
            open_wait w(*this);
            open_waiter_ = &w;
            co_await connection_.park(w, from, timeout);
            if (open_waiter_ == &w) open_waiter_ = nullptr;
        }
        co_return opened_;
    }

    /// The namespace's CONNECT answer was taken by the connect request.
    void connected_as(std::string sid)
    {
        sid_ = std::move(sid);
        connected_ = true;
    }

    void on(std::string name, handler h)
    {
        if (!handlers_) handlers_ = std::make_unique<std::unordered_map<std::string, handler>>();
        (*handlers_)[std::move(name)] = std::move(h);
    }

    void on_message(std::string_view data, bool binary) override
    {
        if (binary) return attachment_arrived(data);
        if (pending_binary_) return broken("a text packet before the binary attachments it was owed");
        if (data.empty()) return broken("an empty packet");
        switch (static_cast<engine_packet>(data[0])) {
        case engine_packet::open: return open_arrived(data.substr(1));
        case engine_packet::close: return peer_ended();
        case engine_packet::ping: return ping_arrived(data.substr(1));
        case engine_packet::pong:  // v4 clients never ping; a stray pong harms nobody
        case engine_packet::noop: return;
        case engine_packet::message: return packet_arrived(data.substr(1));
        case engine_packet::upgrade: return broken("an upgrade packet on a WebSocket transport");
        }
        broken("an unknown Engine.IO packet type");
    }

    void on_end() noexcept override
    {
        heartbeat_.leave_queue();
        pending_binary_.reset();
        if (open_waiter_) std::exchange(open_waiter_, nullptr)->resume();
    }

private:
    /// The connect coroutine waiting for the open packet.
    struct open_wait : net::detail::parked_wait {
        explicit open_wait(session& s) noexcept : parked_wait(&expired), owner(s) {}
        static void expired(net::deadline_entry& e) noexcept
        {
            auto& w = static_cast<open_wait&>(e);
            if (w.owner.open_waiter_ == &w) w.owner.open_waiter_ = nullptr;
            w.resume();
        }
        session& owner;
    };

    /// The bound on the server's next ping: pingInterval + pingTimeout after the last one (or
    /// the open packet). An entry of the thread's deadline queue, not a timer per connection.
    struct heartbeat_deadline : net::deadline_entry {
        explicit heartbeat_deadline(session& s) noexcept : deadline_entry(&expired), owner(s) {}
        static void expired(net::deadline_entry& e) noexcept
        {
            auto& s = static_cast<heartbeat_deadline&>(e).owner;
            log(log_level::debug, "socket.io: no ping from the server within pingInterval + pingTimeout");
            s.connection_.abort_as(stats::disconnect_reason::ping_timeout);
        }
        session& owner;
    };

    /// A packet that announced attachments, waiting for them.
    struct binary_packet {
        std::string text;  ///< the packet (after Engine.IO's `4`), kept until its attachments came
        packet header;     ///< views into `text`
        std::vector<std::string> attachments;
    };

    void open_arrived(std::string_view json)
    {
        if (opened_) return broken("a second open packet");
        const auto p = parse_open_packet(json);
        if (!p) return broken("an open packet that is not Engine.IO v4's");
        opened_ = true;
        ping_bound_ = p->ping_interval + p->ping_timeout;
        arm_heartbeat();
        if (open_waiter_) std::exchange(open_waiter_, nullptr)->resume();
    }

    void ping_arrived(std::string_view payload)
    {
        if (!opened_) return broken("a ping before the open packet");
        connection_.thread().stats()[stats::counter_id::server_pings_answered].add();
        arm_heartbeat();
        std::string pong = "3";
        pong += payload;  // "2probe" is answered "3probe"
        boost::asio::co_spawn(connection_.get_executor(), send(connection_.shared_from_this(), std::move(pong)),
                              boost::asio::detached);
    }

    /// A message written by the protocol itself (a pong), counted as every message sent is.
    static task<> send(std::shared_ptr<net::detail::connection_base> c, std::string text)
    {
        co_await c->write(text, false);
    }

    void arm_heartbeat()
    {
        heartbeat_.leave_queue();
        connection_.thread().deadlines().add(heartbeat_, clock::now() + ping_bound_, ping_bound_);
    }

    void packet_arrived(std::string_view text)
    {
        if (!opened_) return broken("a message before the open packet");
        const auto p = parse_packet(text);
        if (!p) return broken("a Socket.IO packet that does not parse");
        if (p->nsp != nsp_) return;  // another namespace's: this connection never joined it
        if (p->attachments > 0) {
            pending_binary_ = std::make_unique<binary_packet>();
            pending_binary_->text = std::string(text);
            pending_binary_->header = *parse_packet(pending_binary_->text);  // views into the copy
            pending_binary_->attachments.reserve(p->attachments);
            return;
        }
        complete(*p, text, nullptr);
    }

    void attachment_arrived(std::string_view bytes)
    {
        if (!pending_binary_) return broken("a binary message no packet announced");
        auto& b = *pending_binary_;
        b.attachments.emplace_back(bytes);
        if (b.attachments.size() < b.header.attachments) return;
        const auto whole = std::move(pending_binary_);
        complete(whole->header, whole->text, &whole->attachments);
    }

    /// A packet with all its parts.
    void complete(const packet& p, std::string_view text, std::vector<std::string>* attachments)
    {
        switch (p.type) {
        case packet_type::connect:
        case packet_type::connect_error:
            // The connect request waits under the namespace's name; an answer nobody waits for
            // (a second one, or one after the connect gave up) is counted, not handed on.
            if (!connection_.claim_by_key(nsp_, text, false)) unmatched();
            if (p.type == packet_type::connect_error) record_connect_error(p.data);
            return;
        case packet_type::disconnect: disconnected_ = true; return peer_ended();
        case packet_type::ack:
        case packet_type::binary_ack: {
            char key[24];
            const auto r = std::to_chars(key, key + sizeof key, *p.id);
            if (!connection_.claim_by_key({key, static_cast<std::size_t>(r.ptr - key)}, p.data, false, attachments))
                unmatched();
            return;
        }
        case packet_type::event:
        case packet_type::binary_event: return event_arrived(p, text, attachments);
        }
    }

    void event_arrived(const packet& p, std::string_view text, std::vector<std::string>* attachments);

    void record_connect_error(std::string_view data)
    {
        std::string why = "no message";
        boost::system::error_code ec;
        if (const auto v = boost::json::parse(data, ec); !ec && v.is_object())
            if (const auto* m = v.get_object().if_contains("message"); m && m->is_string()) why = std::string(m->get_string());
        connection_.thread().stats().errors.count("socket.io connect_error " + nsp_, why);
    }

    void unmatched() noexcept { connection_.thread().stats()[stats::counter_id::unmatched_replies].add(); }

    /// The server ended the session in order (Engine.IO close, or a DISCONNECT of our namespace):
    /// the WebSocket is closed, counted as the peer's close.
    void peer_ended() { connection_.begin_close(1000, stats::disconnect_reason::peer_close, {}); }

    /// The server broke the protocol: the connection ends now, as protocol_error.
    void broken(std::string_view what)
    {
        if (log_enabled(log_level::debug)) log(log_level::debug, "socket.io: the server sent " + std::string(what));
        pending_binary_.reset();
        connection_.abort_as(stats::disconnect_reason::protocol_error);
    }

    ws_session_base& connection_;
    std::string nsp_;
    std::string sid_;
    heartbeat_deadline heartbeat_;
    std::chrono::nanoseconds ping_bound_{0};
    std::uint64_t next_ack_id_ = 0;
    open_wait* open_waiter_ = nullptr;
    std::unique_ptr<binary_packet> pending_binary_;
    std::unique_ptr<std::unordered_map<std::string, handler>> handlers_;  ///< made at the first on()
    bool opened_ = false;
    bool connected_ = false;
    bool disconnected_ = false;
};

}  // namespace wsload::socketio::detail
