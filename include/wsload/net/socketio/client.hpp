#pragma once
// A Socket.IO v4 client connection (Engine.IO v4 over WebSocket) a behaviour holds:
//     auto io = co_await wsload::socketio::connect(u, "http://127.0.0.1:3000/chat",
//                                                  wsload::socketio::options().auth(R"({"token":"t"})"));
//     auto ack = co_await io.emit_with_ack("message", R"({"text":"hi"})");
// It rides the shared connection path (net/detail/connection_base.hpp) on wsload's WebSocket
// layer: the WebSocket is counted as every connection is (attempt, phases, messages, bytes, end),
// and the Socket.IO parts on top of it as requests of type "SIO": the namespace connect
// (`connect /chat`) and each emit with an ack, named after its event. Engine.IO's heartbeat is
// answered for the behaviour. Declarations only where the layer is compiled once (detail/config.hpp).

#include <wsload/core/task.hpp>
#include <wsload/detail/config.hpp>
#include <wsload/net/connection_owner.hpp>
#include <wsload/net/message.hpp>
#include <wsload/net/request_options.hpp>
#include <wsload/net/socketio/arguments.hpp>
#include <wsload/net/socketio/options.hpp>
#include <wsload/stats/taxonomy.hpp>

#include <boost/json/fwd.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace wsload {

namespace net::detail {
class ws_session_base;
}  // namespace net::detail

namespace socketio {

namespace detail {
class session;
}  // namespace detail

/// An event the server emitted: `socket.emit("news", {...})` arrives as name "news" and the
/// arguments after it.
struct event {
    std::string name;
    /// The whole packet's JSON array, the name first (`["news",{"a":1}]`): parsed by args().
    std::string data;
    /// Set when the server asked for an acknowledgement (answer it with client::ack).
    std::optional<std::uint64_t> id;
    /// The binary attachments, in order (their places in the arguments hold
    /// `{"_placeholder":true,"num":N}`).
    std::vector<std::string> attachments;

    /// The arguments after the name, parsed. Throws boost::system::system_error if the server
    /// sent JSON that does not parse.
    WSLOAD_DECL boost::json::array args() const;
};

/// A Socket.IO connection owned by one user: its namespace is connected when it is true. Empty
/// (false) when connecting failed: the failure is counted (the WebSocket's attempt in its class,
/// or the `connect <namespace>` request as timed out, failed, or rejected by a CONNECT_ERROR).
/// Dropping an open one disconnects it. All members must be used from the owner's coroutine.
class client {
public:
    client() = default;
    explicit client(std::shared_ptr<net::detail::ws_session_base> c) noexcept : connection_(std::move(c)) {}
    client(client&&) noexcept = default;
    WSLOAD_DECL client& operator=(client&& other) noexcept;
    WSLOAD_DECL ~client();

    explicit operator bool() const noexcept { return connection_ != nullptr; }
    /// Connected: the WebSocket is open and the server has not disconnected the namespace.
    WSLOAD_DECL bool is_open() const noexcept;
    /// The namespace's session id, from the server's CONNECT answer.
    WSLOAD_DECL std::string_view sid() const noexcept;

    /// Emits `event` with `args`, the JSON text of its arguments, comma-separated (empty: none;
    /// `R"({"a":1})"` one object; `R"("x",2)"` two). Fire and forget: counted as a message sent.
    /// False if the connection is not open or the write failed.
    WSLOAD_DECL task<bool> emit(std::string_view event, std::string_view args = {});
    /// The same with one argument given as a JSON value.
    WSLOAD_DECL task<bool> emit_json(std::string_view event, const boost::json::value& arg);

    /// Emits `event` asking for an acknowledgement and waits for it: its latency is recorded as
    /// a request named after the event (or `o.name`), type "SIO", from `o.intended_at` when
    /// given. The acknowledgement's arguments come back as a message whose data is their JSON
    /// array (`message::json()`). nullopt on timeout (`o.timeout`) or end, counted as
    /// requests_timed_out or requests_failed; an ack that comes later is counted in unmatched_replies.
    WSLOAD_DECL task<std::optional<message>> emit_with_ack(std::string_view event, std::string_view args = {},
                                                           request_options o = {});

    /// Emits `event` with arguments that carry binary data (socketio::arguments): the packet,
    /// then each attachment as a binary message, on the connection's one write turn, so that no
    /// other message (another coroutine's emit, an Engine.IO pong) comes between them. Without
    /// attachments it is emit(). Every WebSocket message written is counted as a message sent.
    /// False if the connection is not open or a write failed.
    WSLOAD_DECL task<bool> emit_binary(std::string_view event, const arguments& a);
    /// emit_with_ack() with binary arguments: one request, timed from `o.intended_at` (or the
    /// send) to its ack, whose own attachments come back in the message's `attachments`.
    WSLOAD_DECL task<std::optional<message>> emit_binary_with_ack(std::string_view event, const arguments& a,
                                                                  request_options o = {});

    /// The next event no handler took; nullopt after `timeout` or when the connection ends.
    WSLOAD_DECL task<std::optional<socketio::event>> receive(std::chrono::nanoseconds timeout);
    /// Events named `name` go to `handler`, called on the connection's thread as each arrives
    /// (it must not block; an exception it throws is counted in behaviour_errors and the errors
    /// table). Replaces an earlier handler of that name.
    WSLOAD_DECL void on(std::string name, std::function<void(const socketio::event&)> handler);
    /// Answers an event the server emitted with an ack callback (`e.id` set) with `args` (JSON
    /// text, comma-separated, as emit takes).
    WSLOAD_DECL task<bool> ack(const socketio::event& e, std::string_view args = {});

    /// Leaves the namespace (a DISCONNECT packet), closes the WebSocket with 1000 and returns
    /// when it has ended (counted as client_close).
    WSLOAD_DECL task<> disconnect();
    /// Returns when the connection has ended: closed by the server, the network or the run's end.
    WSLOAD_DECL task<> wait_closed();
    /// How the connection ended (meaningful once it has): a server's DISCONNECT or Engine.IO
    /// close is peer_close, its heartbeat gone quiet ping_timeout, a broken packet protocol_error.
    WSLOAD_DECL stats::disconnect_reason end_reason() const noexcept;

private:
    detail::session& session() const noexcept;
    /// emit() and emit_binary(): `binary` null or without attachments sends a plain EVENT.
    task<bool> send_emit(std::string_view event, std::string_view args, const arguments* binary);
    /// emit_with_ack() and emit_binary_with_ack(), the same way.
    task<std::optional<message>> ack_emit(std::string_view event, std::string_view args, const arguments* binary,
                                          request_options o);
    WSLOAD_DECL void release() noexcept;

    std::shared_ptr<net::detail::ws_session_base> connection_;
};

/// Connects `owner` (a wsload::user) to the Socket.IO server at `url` (http://, https://,
/// ws:// or wss://; the path names the namespace, "/" when empty; its query goes with the
/// handshake) or at the run's --target. Check the result: false when it failed. A URL of
/// another scheme is a usage error (exit status 2).
WSLOAD_DECL task<client> connect(net::connection_owner& owner, options o = {});
WSLOAD_DECL task<client> connect(net::connection_owner& owner, std::string_view url, options o = {});

}  // namespace socketio
}  // namespace wsload

#if !defined(WSLOAD_SEPARATE_COMPILATION)
#include <wsload/net/socketio/impl/client.ipp>
#endif
