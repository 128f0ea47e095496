#pragma once
// Definitions of runtime/user.hpp: inline in a header-only build, compiled once (impl/src.hpp)
// with WSLOAD_SEPARATE_COMPILATION. Here the user meets its worker and the connection layers.

#include <wsload/net/websocket/detail/lean_connection.hpp>
#include <wsload/net/websocket/detail/beast_connection.hpp>
#include <wsload/net/websocket/impl/websocket.ipp>
#include <wsload/runtime/user.hpp>
#include <wsload/runtime/worker.hpp>

#include <boost/asio/post.hpp>

namespace wsload {

WSLOAD_DECL user::user(runtime::worker& w, std::uint64_t index)
    : worker_(w), index_(index), 
      random_(w.config().seed ^ (index * 0x9e3779b97f4a7c15ULL)), traced_(w.config().log_users.contains(index))
{
    worker_.track(*this);
}

/// Aborts a ramped-down user that outlived its ramp-down timeout.
struct user::ramp_down_deadline : net::deadline_entry {
    explicit ramp_down_deadline(user& u) noexcept : net::deadline_entry(&expire), owner(u) {}
    static void expire(net::deadline_entry& e) noexcept
    {
        auto& u = static_cast<ramp_down_deadline&>(e).owner;
        u.worker_.stats()[stats::counter_id::users_aborted].add();
        u.on_abort();
    }
    user& owner;
};

namespace runtime {
// The free-user list: swap-remove by the slot each user keeps, O(1) however many are parked.
inline void worker::park(user& u)
{
    if (u.idle_slot_ != static_cast<std::size_t>(-1)) return;
    u.idle_slot_ = free_users_.size();
    free_users_.push_back(&u);
}
inline void worker::unpark(user& u) noexcept
{
    const auto slot = std::exchange(u.idle_slot_, static_cast<std::size_t>(-1));
    if (slot == static_cast<std::size_t>(-1)) return;
    if (slot + 1 != free_users_.size()) {  // the last one takes its place
        free_users_[slot] = free_users_.back();
        free_users_[slot]->idle_slot_ = slot;
    }
    free_users_.pop_back();
}
inline user* worker::take_free_user() noexcept
{
    if (free_users_.empty()) return nullptr;
    auto* u = free_users_.back();
    free_users_.pop_back();
    u->idle_slot_ = static_cast<std::size_t>(-1);
    return u;
}
}  // namespace runtime

WSLOAD_DECL task<bool> user::await_arrival()
{
    while (running() && !arrival_) {
        worker_.park(*this);
        co_await sleep_until(clock::time_point::max());
    }
    worker_.unpark(*this);
    const bool given = std::exchange(arrival_, false);
    // Handed over as the run stopped, before this user could start it: it never ran.
    if (given && !running()) worker_.stats()[stats::counter_id::dropped_iterations].add();
    co_return given && running();
}

WSLOAD_DECL void user::give_arrival(clock::time_point due) noexcept
{
    arrival_ = true;
    iteration_due_ = due;  // no iteration of its own is under way: it is free, or just started for this one
    worker_.unpark(*this);
    if (sleep_) worker_.sleeps().wake(*sleep_);
}

WSLOAD_DECL user::~user()
{
    worker_.unpark(*this);
    worker_.untrack(*this);
    // Connections still closing (held by their pending operations) stay reachable at the end.
    connections_.for_each([this](net::closable& c) { worker_.track(c); });
}

WSLOAD_DECL net::io_thread& user::thread() noexcept { return worker_; }

WSLOAD_DECL const run_config& user::config() const noexcept { return worker_.config(); }

WSLOAD_DECL const net::url& user::target() const
{
    if (!config().target) throw usage_error("no target: give --target ws://host:port/path");
    return *config().target;
}

WSLOAD_DECL bool user::running() const noexcept { return !stopped_ && !worker_.stopping(); }

// Not a coroutine itself: it hands back the awaitable of the wait, so that a paced send costs
// no coroutine frame (nor a resumption) of its own. Called where it is awaited, as every
// operation returning a task<> is, so running() is read when the wait starts.
WSLOAD_DECL task<> user::sleep_until(clock::time_point t)
{
    if (!running()) {
        // Still a suspension point: a behaviour that loops on think() without checking
        // running() must not spin the thread and keep the run from ending.
        return boost::asio::post(worker_.get_executor(), wsload::use_awaitable);
    }
    if (!sleep_) sleep_ = std::make_unique<net::sleep_entry>();
    return worker_.sleeps().sleep(*sleep_, t);
}

WSLOAD_DECL task<> user::pace(std::string_view step, std::chrono::nanoseconds interval)
{
    return sleep_until(worker_.run().pacer.claim(step, interval, clock::now()));
}

WSLOAD_DECL void user::on_stop()
{
    stopped_ = true;
    if (sleep_) worker_.sleeps().wake(*sleep_);
    connections_.for_each([](net::closable& c) { c.on_stop(); });
}

WSLOAD_DECL void user::on_abort()
{
    stopped_ = true;
    if (sleep_) worker_.sleeps().wake(*sleep_);
    connections_.for_each([](net::closable& c) { c.on_abort(); });
}

WSLOAD_DECL void user::ramp_down(std::chrono::nanoseconds timeout)
{
    if (stopped_) return;
    worker_.stats()[stats::counter_id::users_stopped].add();
    on_stop();
    ramp_down_ = std::make_unique<ramp_down_deadline>(*this);
    worker_.deadlines().add(*ramp_down_, clock::now() + timeout, timeout);
}

WSLOAD_DECL task<wsload::websocket> user::connect(net::url u, websocket_options o)
{
    if (u.scheme != "ws" && u.scheme != "wss") net::throw_wrong_scheme(u, "WebSocket", "ws:// and wss://");
    net::detail::ws_connect_options c;
    c.heartbeat = o.heartbeat_.value_or(config().ping_interval);
    c.heartbeat_phase = random_.phase(c.heartbeat);  // spread pings: no thundering herd
    c.max_missed_pongs = o.max_missed_pongs_;
    c.max_message_bytes = o.max_message_bytes_;
    c.inbox_limit = o.inbox_limit_;
    c.subprotocol = std::move(o.subprotocol_);
    c.fragment_size = o.fragment_size_;
    c.reply_key = std::move(o.reply_key_);
    c.push_type = std::move(o.push_type_);
    c.app_heartbeat = std::move(o.app_heartbeat_);
    o.extras_.apply_query(u);
    c.headers = o.extras_.lines(thread().settings().headers, u);
    c.compression = o.compression_ || o.compression_set_ ? o.compression_ : worker_.settings().compression;
    if (config().ws_layer == websocket_layer::lean)
        co_return co_await open<net::detail::lean_ws_connection>(std::move(u), std::move(c));
    if (u.tls) co_return co_await open<net::detail::tls_ws_connection>(std::move(u), std::move(c));
    co_return co_await open<net::detail::plain_ws_connection>(std::move(u), std::move(c));
}

template <class Connection>
task<wsload::websocket> user::open(net::url u, net::detail::ws_connect_options c)
{
    auto connection = std::make_shared<Connection>(worker_);
    connections_.link(*connection);
    connection->set_reply_key(c.reply_key);
    connection->set_push_type(c.push_type);
    if (traced_) connection->trace_as(trace_tag());
    const auto beat = c.app_heartbeat;
    if (!co_await connection->connect(std::move(u), std::move(c))) co_return wsload::websocket{};
    if (beat) connection->start_app_heartbeat(*beat, random_.phase(beat->interval()));
    co_return wsload::websocket{std::move(connection)};
}

}  // namespace wsload
