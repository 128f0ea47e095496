// wsload_client: the workloads of bench/run written as a wsload scenario with the public DSL.
// bench/raw_client.cpp runs the same workloads on the same schedule with Beast alone; the
// figures come from wsload's own result (--json): connect and round-trip histograms, counters.
//
//   wsload_client --workload hold --target ws://127.0.0.1:9000/ws --users 10000 --ramp 10s
//                 --duration 30s --ping-interval 5s --threads 1 --json hold.json
//
// Workloads (user i starts at ramp * i / users, as the engine's linear ramp does; the run lasts
// --duration, ramp included):
//   hold          open a WebSocket and keep it until the end (heartbeat: --ping-interval).
//   idle          no connection at all: the RSS base of `hold` (run it with --users 1).
//   fixed-rate    user i sends a --message-bytes text message at ramp + i * interval / users
//                 + k * interval (users spread evenly over the period) and waits for the echo;
//                 the round trip is recorded from that intended time (request's intended_at).
//   closed-loop   from the end of the ramp: request, wait for the echo, request again.
//   connect-rate  open a WebSocket, close it (1000), open the next, until the end; each user
//                 is one connection in flight.

#include <wsload/wsload.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "peak_rss.hpp"

using namespace std::chrono_literals;

namespace {

std::string workload = "hold";
std::string transport = "ws";  // ws: a WebSocket per user; tcp: a raw TCP connection, lines
std::chrono::nanoseconds message_interval = 100ms;
std::chrono::nanoseconds reply_timeout = 5s;
std::size_t message_bytes = 64;

// The run's start as the users see it: the first user to run takes its own start time minus
// its offset in the ramp (user 0 has none), so schedules need no access to the engine.
std::atomic<wsload::clock::rep> epoch_ticks{0};

wsload::clock::time_point epoch_of(wsload::user& u)
{
    auto ticks = epoch_ticks.load(std::memory_order_acquire);
    if (ticks == 0) {
        const auto& c = u.config();
        const auto offset = c.users == 0 ? 0ns : c.ramp * static_cast<std::int64_t>(u.index()) /
                                                    static_cast<std::int64_t>(c.users);
        const auto mine = (wsload::clock::now() - offset).time_since_epoch().count();
        epoch_ticks.compare_exchange_strong(ticks, mine, std::memory_order_acq_rel);
        ticks = epoch_ticks.load(std::memory_order_acquire);
    }
    return wsload::clock::time_point(wsload::clock::duration(ticks));
}

// One coroutine per transport: an idle user's frame holds only what its own transport's
// connect needed (the raw TCP options took ~150 B of every WebSocket user's frame).
wsload::task<> hold_ws_user(wsload::user& u)
{
    auto ws = co_await u.websocket();
    if (!ws) co_return;
    co_await ws.wait_closed();  // pings go out meanwhile, per --ping-interval
}

wsload::task<> hold_tcp_user(wsload::user& u)
{
    auto c = co_await wsload::tcp::connect(u, wsload::tcp::options().inbox_limit(0));
    if (c) co_await c.wait_closed();
}

wsload::task<> idle_user(wsload::user& u)
{
    while (u.running()) co_await u.think(u.config().duration);
}

/// The messaging loop over either transport: `Connection` is wsload::websocket or
/// wsload::tcp::connection (the same request, the same recording).
template <class Connection>
wsload::task<> messaging_loop(wsload::user& u, Connection& ws, wsload::clock::time_point epoch, bool fixed_rate)
{
    const auto& c = u.config();
    const auto end = epoch + c.duration;
    const std::string payload(message_bytes, 'x');
    const auto any_reply = [](std::string_view) { return true; };  // the echo is the only message
    wsload::request_options o;
    o.timeout = reply_timeout;

    auto due = epoch + c.ramp;
    if (fixed_rate)
        due += message_interval * static_cast<std::int64_t>(u.index()) / static_cast<std::int64_t>(c.users);
    else
        co_await u.sleep_until(due);
    while (u.running() && ws.is_open()) {
        if (fixed_rate) {
            if (due >= end) break;
            co_await u.sleep_until(due);
            if (!u.running()) break;
            o.intended_at = due;
            due += message_interval;
        } else {
            if (wsload::clock::now() >= end) break;
            o.intended_at.reset();  // measured from the send
        }
        co_await ws.request(payload, any_reply, o);
    }
}

wsload::task<> messaging_user(wsload::user& u, bool fixed_rate)
{
    const auto epoch = epoch_of(u);
    if (transport == "tcp") {
        auto c = co_await wsload::tcp::connect(u);
        if (c) co_await messaging_loop(u, c, epoch, fixed_rate);
        co_return;
    }
    auto ws = co_await u.websocket();
    if (ws) co_await messaging_loop(u, ws, epoch, fixed_rate);
}

wsload::task<> fixed_rate_user(wsload::user& u) { return messaging_user(u, true); }
wsload::task<> closed_loop_user(wsload::user& u) { return messaging_user(u, false); }

wsload::task<> connect_rate_user(wsload::user& u)
{
    const auto end = epoch_of(u) + u.config().duration;
    while (u.running() && wsload::clock::now() < end) {
        auto ws = co_await u.websocket();
        if (ws) co_await ws.close();
    }
}

wsload::task<> bench_user(wsload::user& u)
{
    if (workload == "hold") return transport == "tcp" ? hold_tcp_user(u) : hold_ws_user(u);
    if (workload == "idle") return idle_user(u);
    if (workload == "fixed-rate") return fixed_rate_user(u);
    if (workload == "closed-loop") return closed_loop_user(u);
    return connect_rate_user(u);
}

}  // namespace

int main(int argc, char** argv)
{
    const int status = wsload::scenario("wsload_client")
        .target("ws://127.0.0.1:9000/ws")
        .users(100)
        .duration(10s)
        .threads(1)
        .flag("workload", workload, "what each user does",
              {"hold", "idle", "fixed-rate", "closed-loop", "connect-rate"})
        .flag("transport", transport, "hold, fixed-rate, closed-loop: ws (--target ws://...) or tcp (--target tcp://..., lines)",
              {"ws", "tcp"})
        .flag("message-interval", message_interval, "fixed-rate: each user sends one message per interval")
        .flag("message-bytes", message_bytes, "fixed-rate, closed-loop: size of each message")
        .flag("reply-timeout", reply_timeout, "fixed-rate, closed-loop: how long to wait for each echo")
        .behavior(bench_user)
        .run(argc, argv);
    print_peak_rss();
    return status;
}
