#pragma once
// What a behaviour coroutine is handed: who this user is, the target, the run's clock and
// stop signal, its random generator, and the way to open connections.

#include <wsload/core/random.hpp>
#include <wsload/core/task.hpp>
#include <wsload/net/detail/lean_connection.hpp>
#include <wsload/net/websocket.hpp>
#include <wsload/runtime/worker.hpp>

#include <boost/asio/post.hpp>

#include <string>

namespace wsload {

/// Per-connection settings a behaviour can pass to `user::websocket`, set fluently:
/// `u.websocket(wsload::websocket_options().subprotocol("chat").heartbeat(5s))`.
// A class with a constructor, not an aggregate: g++ 12 destroys the members of an aggregate
// temporary twice when it appears in a co_await expression (a double free for strings).
class websocket_options {
public:
    websocket_options() {}

    /// Ping interval; unset = the run's --ping-interval, zero = no heartbeat.
    websocket_options& heartbeat(std::chrono::nanoseconds d) { heartbeat_ = d; return *this; }
    /// End the connection as ping_timeout after this many missed pongs in a row; 0 = never.
    websocket_options& max_missed_pongs(unsigned n) { max_missed_pongs_ = n; return *this; }
    /// Larger messages end the connection with 1009 (counted as message_too_big); memory stays bounded.
    websocket_options& max_message_bytes(std::size_t n) { max_message_bytes_ = n; return *this; }
    /// Unclaimed messages kept for receive(); the oldest is dropped beyond it.
    websocket_options& inbox_limit(std::size_t n) { inbox_limit_ = n; return *this; }
    /// Sec-WebSocket-Protocol to ask for.
    websocket_options& subprotocol(std::string p) { subprotocol_ = std::move(p); return *this; }
    /// Send each message as frames of at most `bytes` payload (continuation frames); 0 = one frame.
    websocket_options& fragment_size(std::size_t bytes) { fragment_size_ = bytes; return *this; }

private:
    friend class user;
    std::optional<std::chrono::nanoseconds> heartbeat_;
    unsigned max_missed_pongs_ = 0;
    std::size_t max_message_bytes_ = 16 * 1024 * 1024;
    std::size_t inbox_limit_ = 64;
    std::string subprotocol_;
    std::size_t fragment_size_ = 0;
};

/// One simulated user. It lives, on its worker's thread, for as long as its behaviour
/// coroutine runs: the reference a behaviour receives stays valid across every co_await.
class user final : public runtime::closable {
public:
    user(runtime::worker& w, std::uint64_t index)
        : worker_(w), index_(index), id_("u" + std::to_string(index)), sleep_(w.get_executor()),
          random_(w.config().seed ^ (index * 0x9e3779b97f4a7c15ULL))
    {
        worker_.track(*this);
    }
    ~user() { worker_.untrack(*this); }

    /// Unique over the whole run: 0 .. users-1.
    std::uint64_t index() const noexcept { return index_; }
    /// Printable form of index(), e.g. "u42".
    const std::string& id() const noexcept { return id_; }
    const run_config& config() const noexcept { return worker_.config(); }
    runtime::worker& worker() noexcept { return worker_; }

    /// The run's --target. Throws usage_error when the run has none.
    const net::url& target() const
    {
        if (!config().target) throw usage_error("no target: give --target ws://host:port/path");
        return *config().target;
    }

    /// False once the run is ending: loops should end and the behaviour return.
    bool running() const noexcept { return !stopped_ && !worker_.stopping(); }

    /// Waits `d`, or less if the run ends meanwhile.
    task<> think(std::chrono::nanoseconds d) { return sleep_until(clock::now() + d); }
    task<> sleep_until(clock::time_point t)
    {
        if (!running()) {
            // Still a suspension point: a behaviour that loops on think() without checking
            // running() must not spin the thread and keep the run from ending.
            co_await boost::asio::post(worker_.get_executor(), boost::asio::use_awaitable);
            co_return;
        }
        sleep_.expires_at(t);
        co_await sleep_.async_wait(use_task);
    }

    random_generator& random() noexcept { return random_; }

    /// Connects to the run's target (or `url`). Check the result: false when it failed.
    task<wsload::websocket> websocket() { return connect(target(), websocket_options{}); }
    task<wsload::websocket> websocket(websocket_options o) { return connect(target(), std::move(o)); }
    task<wsload::websocket> websocket(std::string_view url) { return connect(net::parse_url(url), websocket_options{}); }
    task<wsload::websocket> websocket(std::string_view url, websocket_options o)
    {
        return connect(net::parse_url(url), std::move(o));
    }

    void on_stop() override
    {
        stopped_ = true;
        sleep_.cancel();
    }
    void on_abort() override { on_stop(); }

private:
    task<wsload::websocket> connect(net::url u, websocket_options o)
    {
        if (u.scheme != "ws" && u.scheme != "wss")
            throw usage_error("\"" + u.to_string() + "\" is not a WebSocket URL (use ws:// or wss://)");
        net::detail::ws_connect_options c;
        c.heartbeat = o.heartbeat_.value_or(config().ping_interval);
        c.heartbeat_phase = random_.phase(c.heartbeat);  // spread pings: no thundering herd
        c.max_missed_pongs = o.max_missed_pongs_;
        c.max_message_bytes = o.max_message_bytes_;
        c.inbox_limit = o.inbox_limit_;
        c.subprotocol = std::move(o.subprotocol_);
        c.fragment_size = o.fragment_size_;
        if (u.tls) co_return co_await open<net::detail::tls_ws_connection>(std::move(u), std::move(c));
        if (config().ws_layer == websocket_layer::lean)
            co_return co_await open<net::detail::lean_ws_connection>(std::move(u), std::move(c));
        co_return co_await open<net::detail::plain_ws_connection>(std::move(u), std::move(c));
    }

    template <class Connection>
    task<wsload::websocket> open(net::url u, net::detail::ws_connect_options c)
    {
        auto connection = std::make_shared<Connection>(worker_);
        if (!co_await connection->connect(std::move(u), std::move(c))) co_return wsload::websocket{};
        co_return wsload::websocket{std::move(connection)};
    }

    runtime::worker& worker_;
    std::uint64_t index_;
    std::string id_;
    timer sleep_;
    random_generator random_;
    bool stopped_ = false;
};

}  // namespace wsload
