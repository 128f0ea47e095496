#pragma once
// What a behaviour coroutine is handed: who this user is, the target, the run's clock and
// stop signal, its random generator, and the way to open connections. Declarations only where
// the engine or the connection layers are needed (see detail/config.hpp): runtime/impl/user.ipp.

#include <wsload/core/random.hpp>
#include <wsload/core/task.hpp>
#include <wsload/detail/config.hpp>
#include <wsload/net/app_heartbeat.hpp>
#include <wsload/net/connection_owner.hpp>
#include <wsload/net/upgrade_extras.hpp>
#include <wsload/net/url.hpp>
#include <wsload/net/websocket.hpp>
#include <wsload/net/closable.hpp>
#include <wsload/net/reply_key.hpp>
#include <wsload/net/sleep_queue.hpp>
#include <wsload/net/websocket/deflate_options.hpp>
#include <wsload/runtime/run_config.hpp>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace wsload::runtime {
class worker;
}  // namespace wsload::runtime
namespace wsload::net::detail {
struct ws_connect_options;
}  // namespace wsload::net::detail

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
    /// How replies name their requests: `reply_key::json_field("respId")` lets requests made
    /// with `{.key = ...}` be answered by key (a hash lookup) in any order.
    websocket_options& reply_key(wsload::reply_key k)
    {
        reply_key_ = std::make_shared<const wsload::reply_key>(std::move(k));
        return *this;
    }
    /// A heartbeat of the scenario's own (`{"type":"ping"}` every 10 s, its reply within 5 s),
    /// counted apart from WebSocket pings; see net/app_heartbeat.hpp.
    websocket_options& app_heartbeat(wsload::app_heartbeat h)
    {
        app_heartbeat_ = std::make_shared<const wsload::app_heartbeat>(std::move(h));
        return *this;
    }
    /// How pushes (messages no request claims) name their type: `reply_key::json_field("type")`
    /// counts them by their "type" in the report (pushes by type), not only in messages received.
    websocket_options& push_type(wsload::reply_key k)
    {
        push_type_ = std::make_shared<const wsload::reply_key>(std::move(k));
        return *this;
    }

    // Upgrade extras. Each is checked here: a bad one throws usage_error, which ends the run
    // with that one line (exit status 2). They add to the run's --header lines; a header given
    // here replaces the run's headers of that name.

    /// A header of the upgrade request, sent after the handshake's own in the order given (a
    /// name may repeat: its lines go together, where the first stood). Not one the handshake sets (Host, Upgrade, Connection, Sec-WebSocket-*:
    /// a subprotocol is .subprotocol()); `Cookie` adds to .cookie()'s, `Origin` is .origin().
    websocket_options& header(std::string_view name, std::string_view value)
    {
        return checked("header", [&] { extras_.header(name, value); });
    }
    /// The Origin header, as a browser sends it (`https://app.example`).
    websocket_options& origin(std::string_view value)
    {
        return checked("origin", [&] { extras_.origin(value); });
    }
    /// A query parameter (a token in the URL), percent-encoded, after the URL's own query.
    websocket_options& query(std::string_view name, std::string_view value)
    {
        return checked("query", [&] { extras_.query(name, value); });
    }
    /// A cookie of the upgrade's one Cookie header (`a=1; b=2`).
    websocket_options& cookie(std::string_view name, std::string_view value)
    {
        return checked("cookie", [&] { extras_.cookie(name, value); });
    }
    /// Also sends the cookies an HTTP client's jar holds for the WebSocket URL (its host and
    /// path; Secure ones over wss only), e.g. the session a login over HTTP set:
    /// `.cookies_from(api.cookies())`. Read when the connection opens; cookies given with
    /// .cookie() win over the jar's of the same name.
    websocket_options& cookies_from(http::cookie_jar& jar)
    {
        extras_.cookies_from(jar);
        return *this;
    }
    /// Offer permessage-deflate (RFC 7692) with these settings: messages each way are compressed
    /// when the server agrees. Unset: the run's --compression (off by default).
    websocket_options& compression(wsload::deflate_options d) { compression_ = std::move(d); return *this; }
    /// compression(true): with the default settings; false: none, whatever --compression says.
    websocket_options& compression(bool on)
    {
        compression_ = on ? std::optional<wsload::deflate_options>(wsload::deflate_options()) : std::nullopt;
        compression_set_ = true;
        return *this;
    }

private:
    friend class user;
    /// Runs `add`, naming the option in its usage_error: `websocket_options::header: "Host" is ...`.
    template <class F>
    websocket_options& checked(const char* option, F add)
    {
        try {
            add();
        } catch (const usage_error& e) {
            throw usage_error(std::string("websocket_options::") + option + ": " + e.what());
        }
        return *this;
    }

    std::optional<std::chrono::nanoseconds> heartbeat_;
    unsigned max_missed_pongs_ = 0;
    std::size_t max_message_bytes_ = 16 * 1024 * 1024;
    std::size_t inbox_limit_ = 64;
    std::string subprotocol_;
    std::size_t fragment_size_ = 0;
    std::shared_ptr<const wsload::reply_key> reply_key_;
    std::shared_ptr<const wsload::reply_key> push_type_;
    std::shared_ptr<const wsload::app_heartbeat> app_heartbeat_;
    net::upgrade_extras extras_;
    std::optional<wsload::deflate_options> compression_;
    bool compression_set_ = false;  ///< compression_ overrides --compression even when empty
};

/// One simulated user. It lives, on its worker's thread, for as long as its behaviour
/// coroutine runs: the reference a behaviour receives stays valid across every co_await.
class user final : public net::closable, public net::connection_owner {
public:
    WSLOAD_DECL user(runtime::worker& w, std::uint64_t index);
    WSLOAD_DECL ~user();

    /// 0 .. the shape's peak - 1, unique among the users running at once (a user started again
    /// after a ramp-down gets the index of one that stopped, as k6 reuses its VUs).
    std::uint64_t index() const noexcept { return index_; }
    /// Printable form of index(), e.g. "u42" (made when asked: not kept by every user).
    std::string id() const { return "u" + std::to_string(index_); }
    WSLOAD_DECL const run_config& config() const noexcept;
    runtime::worker& worker() noexcept { return worker_; }

    /// The run's --target. Throws usage_error when the run has none.
    WSLOAD_DECL const net::url& target() const override;

    /// False once the run is ending: loops should end and the behaviour return.
    WSLOAD_DECL bool running() const noexcept;

    /// Waits `d`, or less if the run ends meanwhile.
    task<> think(std::chrono::nanoseconds d) { return sleep_until(clock::now() + d); }
    /// Waits until `t`, or less if the run ends meanwhile. Sleeps of one thread due within
    /// --timer-slack of each other end on one wake-up: this one ends at most that much after
    /// `t` (never before it). A send made then and measured from `t` (request_options::
    /// intended_at) counts that lateness in its round trip.
    WSLOAD_DECL task<> sleep_until(clock::time_point t);
    /// Waits for the next slot of `step` across the whole run: slots are `interval` apart, in
    /// the order users ask, over every thread (seed 000's login_interval: at most one login per
    /// interval however the users arrive). `co_await u.pace("login", 2s);` then log in.
    WSLOAD_DECL task<> pace(std::string_view step, std::chrono::nanoseconds interval);

    random_generator& random() noexcept override { return random_; }
    /// --log-users chose this user: its connections log their traffic at debug, as `user_N`.
    bool traced() const noexcept override { return traced_; }
    std::string trace_tag() const override { return "user_" + std::to_string(index_); }
    /// The thread this user and its connections live on (what a transport is built on).
    WSLOAD_DECL net::io_thread& thread() noexcept override;

    /// Connects to the run's target (or `url`). Check the result: false when it failed.
    task<wsload::websocket> websocket() { return connect(target(), websocket_options{}); }
    task<wsload::websocket> websocket(websocket_options o) { return connect(target(), std::move(o)); }
    task<wsload::websocket> websocket(std::string_view url) { return connect(net::parse_url(url), websocket_options{}); }
    task<wsload::websocket> websocket(std::string_view url, websocket_options o)
    {
        return connect(net::parse_url(url), std::move(o));
    }

    /// The run is ending: running() turns false, sleeps end, the user's connections close
    /// gracefully.
    WSLOAD_DECL void on_stop() override;
    /// The grace period is over: the user's connections end now.
    WSLOAD_DECL void on_abort() override;
    /// The load shape stops this user before the run's end (a ramp-down): as at the end,
    /// running() turns false, its waits end and its connections close; if it is still running
    /// after `timeout`, its connections are aborted and it is counted in users_aborted.
    WSLOAD_DECL void ramp_down(std::chrono::nanoseconds timeout);
    net::closable_list& connections() noexcept override { return connections_; }

    /// Open model (arrival rates): waits, parked as a free user of its thread, until an
    /// iteration is due for it (true) or the user is stopped (false).
    WSLOAD_DECL task<bool> await_arrival();
    /// The engine hands this user an iteration that was due at `due` (its arrival's time).
    WSLOAD_DECL void give_arrival(clock::time_point due) noexcept;

    /// In the iteration form: when the current iteration was due to start — its arrival's time
    /// (arrival rates), its paced time (`iterations::pacing`), else when it started. Give it
    /// as the first request's `.intended_at` so that an iteration the generator or a slow
    /// reply held up shows as latency.
    clock::time_point iteration_due() const noexcept { return iteration_due_; }
    /// The iteration loop says when the next iteration was due (engine use).
    void begin_iteration(clock::time_point due) noexcept { iteration_due_ = due; }

private:
    struct ramp_down_deadline;

    WSLOAD_DECL task<wsload::websocket> connect(net::url u, websocket_options o);
    template <class Connection>
    task<wsload::websocket> open(net::url u, net::detail::ws_connect_options c);

    runtime::worker& worker_;
    std::uint64_t index_;
    /// Its place in the thread's sleep queue, made at the first sleep: a user that only holds
    /// a connection has none.
    std::unique_ptr<net::sleep_entry> sleep_;
    random_generator random_;
    net::closable_list connections_;  ///< its open connections (each leaves when it ends)
    std::unique_ptr<ramp_down_deadline> ramp_down_;  ///< made when the shape stops it
    bool stopped_ = false;
    bool traced_ = false;   ///< --log-users chose it
    bool arrival_ = false;  ///< an iteration was handed to it and not yet taken
    clock::time_point iteration_due_{};  ///< see iteration_due()
    friend class runtime::worker;
    std::size_t idle_slot_ = static_cast<std::size_t>(-1);  ///< where it is among its thread's free users
};

}  // namespace wsload

#if !defined(WSLOAD_SEPARATE_COMPILATION)
#include <wsload/runtime/impl/user.ipp>
#endif
