// raw_client: the baseline of bench/run. A minimal Boost.Beast WebSocket client with no wsload
// code: one thread, one io_context, a plain coroutine per connection, Beast's defaults
// (websocket::stream<beast::tcp_stream>, the suggested client timeouts, use_awaitable). It runs
// the same workloads on the same schedule as bench/wsload_client.cpp and prints one JSON line
// of its own measurements on stdout (bench/run adds CPU and RSS from the outside).
//
//   raw_client --workload hold|idle|fixed-rate|closed-loop|connect-rate
//              [--host 127.0.0.1] [--port 9000] [--path /ws] [--conns N] [--ramp D]
//              [--duration D] [--ping-interval D] [--message-interval D] [--message-bytes N]
//
// Schedules (identical in wsload_client.cpp):
//   every workload    connection i opens at ramp * i / conns; the run lasts `duration`, ramp
//                     included; at the end every connection is closed with 1000.
//   hold              each connection pings every --ping-interval and otherwise idles.
//   idle              no connection at all (the RSS base of `hold`), for `duration`.
//   fixed-rate        connection i sends at ramp + i * interval / conns + k * interval (users
//                     spread evenly over the period) until the end, one message in flight; the
//                     round trip is measured from that intended time, so a late send shows.
//   closed-loop       from the end of the ramp, send, wait for the echo, send again.
//   connect-rate      `conns` loops, each opening a connection and closing it again (1000)
//                     until the end; connect latency is TCP connect + upgrade.
// Percentiles are exact: every sample is kept and sorted.

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "peak_rss.hpp"

namespace {

namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using clock_type = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr auto use_tuple = net::as_tuple(net::use_awaitable);
using ws_stream = websocket::stream<beast::tcp_stream>;

struct options {
    std::string workload = "hold";
    std::string host = "127.0.0.1";
    unsigned short port = 9000;
    std::string path = "/ws";
    std::uint64_t conns = 100;
    std::chrono::nanoseconds ramp = 0s;
    std::chrono::nanoseconds duration = 10s;
    std::chrono::nanoseconds ping_interval = 0s;
    std::chrono::nanoseconds message_interval = 100ms;
    std::size_t message_bytes = 64;
};

// The run's shared state: one thread, so plain members.
struct run {
    options opt;
    net::io_context ioc{1};
    tcp::endpoint endpoint;
    clock_type::time_point epoch;
    clock_type::time_point end;
    std::string payload;
    std::vector<std::int64_t> connect_ns;
    std::vector<std::int64_t> rtt_ns;
    std::uint64_t connect_failures = 0;
    std::uint64_t errors = 0;  // reads or writes that failed on an open connection
    std::uint64_t closed = 0;
    std::uint64_t live = 0;    // connection coroutines still running
};

std::chrono::nanoseconds parse_duration(std::string const& text)
{
    std::size_t pos = 0;
    double value = std::stod(text, &pos);
    auto unit = text.substr(pos);
    double ns = 0;
    if (unit.empty() || unit == "s") ns = value * 1e9;
    else if (unit == "ms") ns = value * 1e6;
    else if (unit == "us") ns = value * 1e3;
    else if (unit == "ns") ns = value;
    else if (unit == "m") ns = value * 60e9;
    else throw std::invalid_argument("\"" + text + "\" is not a duration (use 10s, 500ms)");
    return std::chrono::nanoseconds(static_cast<std::int64_t>(ns));
}

options parse(int argc, char** argv)
{
    options o;
    for (int i = 1; i < argc; ++i) {
        std::string flag = argv[i];
        if (i + 1 >= argc) throw std::invalid_argument(flag + " needs a value");
        std::string value = argv[++i];
        if (flag == "--workload") o.workload = value;
        else if (flag == "--host") o.host = value;
        else if (flag == "--port") o.port = static_cast<unsigned short>(std::stoul(value));
        else if (flag == "--path") o.path = value;
        else if (flag == "--conns") o.conns = std::stoull(value);
        else if (flag == "--ramp") o.ramp = parse_duration(value);
        else if (flag == "--duration") o.duration = parse_duration(value);
        else if (flag == "--ping-interval") o.ping_interval = parse_duration(value);
        else if (flag == "--message-interval") o.message_interval = parse_duration(value);
        else if (flag == "--message-bytes") o.message_bytes = std::stoull(value);
        else throw std::invalid_argument("unknown flag " + flag);
    }
    static constexpr std::string_view known[] = {"hold", "idle", "fixed-rate", "closed-loop", "connect-rate"};
    if (std::find(std::begin(known), std::end(known), o.workload) == std::end(known))
        throw std::invalid_argument("--workload: use hold, idle, fixed-rate, closed-loop or connect-rate");
    if (o.message_interval.count() <= 0) throw std::invalid_argument("--message-interval must be > 0");
    return o;
}

clock_type::time_point start_of(run const& r, std::uint64_t i)
{
    if (r.opt.conns == 0) return r.epoch;
    return r.epoch + std::chrono::nanoseconds(r.opt.ramp.count() * static_cast<std::int64_t>(i) /
                                              static_cast<std::int64_t>(r.opt.conns));
}

net::awaitable<void> sleep_until(clock_type::time_point t)
{
    net::steady_timer timer(co_await net::this_coro::executor, t);
    co_await timer.async_wait(use_tuple);
}

// TCP connect and WebSocket upgrade, as Beast's client examples do. Records the connect time.
net::awaitable<bool> open(run& r, ws_stream& ws)
{
    auto const t0 = clock_type::now();
    auto& tcp_layer = beast::get_lowest_layer(ws);
    tcp_layer.expires_after(10s);
    auto [cec] = co_await tcp_layer.async_connect(r.endpoint, use_tuple);
    if (cec) {
        ++r.connect_failures;
        co_return false;
    }
    tcp_layer.socket().set_option(tcp::no_delay(true), cec);
    tcp_layer.expires_never();  // the websocket stream has its own timeouts
    ws.set_option(websocket::stream_base::timeout::suggested(beast::role_type::client));
    auto [hec] = co_await ws.async_handshake(r.opt.host + ":" + std::to_string(r.opt.port), r.opt.path, use_tuple);
    if (hec) {
        ++r.connect_failures;
        co_return false;
    }
    r.connect_ns.push_back((clock_type::now() - t0).count());
    co_return true;
}

net::awaitable<void> close(run& r, ws_stream& ws)
{
    auto [ec] = co_await ws.async_close(websocket::close_code::normal, use_tuple);
    if (!ec) ++r.closed;
}

// hold: a reader parked in async_read (Beast answers the server's control frames there) ...
net::awaitable<void> hold_reader(run& r, std::shared_ptr<ws_stream> ws)
{
    beast::flat_buffer buffer;
    for (;;) {
        auto [ec, n] = co_await ws->async_read(buffer, use_tuple);
        if (ec) {
            // Ended by our own close (the close operation reads the server's close frame).
            if (ec != websocket::error::closed && ec != net::error::operation_aborted) {
                std::fprintf(stderr, "raw_client: read: %s\n", ec.message().c_str());
                ++r.errors;
            }
            co_return;
        }
        buffer.consume(n);
    }
}

// ... and the connection's own coroutine, which pings on its schedule until the end.
net::awaitable<void> hold_connection(run& r, std::uint64_t i)
{
    co_await sleep_until(start_of(r, i));
    auto ws = std::make_shared<ws_stream>(r.ioc);
    if (!co_await open(r, *ws)) co_return;
    net::co_spawn(r.ioc, hold_reader(r, ws), net::detached);
    net::steady_timer timer(r.ioc);
    auto const interval = r.opt.ping_interval;
    // The first ping comes at an evenly spread point of the first interval.
    auto due = clock_type::now() + (interval.count() > 0 ? interval * static_cast<std::int64_t>(i + 1) /
                                                               static_cast<std::int64_t>(r.opt.conns)
                                                         : 0s);
    for (;; due += interval) {
        auto const wake = interval.count() > 0 ? std::min(due, r.end) : r.end;
        timer.expires_at(wake);
        co_await timer.async_wait(use_tuple);
        if (clock_type::now() >= r.end || !ws->is_open()) break;
        auto [ec] = co_await ws->async_ping({}, use_tuple);
        if (ec) {
            ++r.errors;
            break;
        }
    }
    if (ws->is_open()) co_await close(r, *ws);
}

// fixed-rate and closed-loop: one message in flight per connection.
net::awaitable<void> messaging_connection(run& r, std::uint64_t i, bool fixed_rate)
{
    co_await sleep_until(start_of(r, i));
    ws_stream ws(r.ioc);
    if (!co_await open(r, ws)) co_return;
    ws.text(true);
    beast::flat_buffer buffer;
    net::steady_timer timer(r.ioc);
    auto const interval = r.opt.message_interval;
    auto due = r.epoch + r.opt.ramp;
    if (fixed_rate) due += interval * static_cast<std::int64_t>(i) / static_cast<std::int64_t>(r.opt.conns);
    for (;;) {
        if (due >= r.end) break;
        timer.expires_at(due);
        co_await timer.async_wait(use_tuple);
        auto const sent_at = fixed_rate ? due : clock_type::now();
        if (sent_at >= r.end) break;
        auto [wec, written] = co_await ws.async_write(net::buffer(r.payload), use_tuple);
        if (wec) {
            ++r.errors;
            co_return;
        }
        auto [rec, n] = co_await ws.async_read(buffer, use_tuple);
        if (rec) {
            ++r.errors;
            co_return;
        }
        r.rtt_ns.push_back((clock_type::now() - sent_at).count());
        buffer.consume(n);
        due = fixed_rate ? due + interval : clock_type::now();
    }
    co_await close(r, ws);
}

// connect-rate: open and close connections one after another until the end.
net::awaitable<void> connect_loop(run& r, std::uint64_t i)
{
    co_await sleep_until(start_of(r, i));
    while (clock_type::now() < r.end) {
        ws_stream ws(r.ioc);
        if (!co_await open(r, ws)) continue;
        co_await close(r, ws);
    }
}

net::awaitable<void> tracked(run& r, net::awaitable<void> body)
{
    ++r.live;
    co_await std::move(body);
    --r.live;
}

double percentile_ms(std::vector<std::int64_t>& v, double p)
{
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    // Nearest rank: the smallest sample with at least p% of the samples at or below it.
    auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(v.size())));
    rank = std::clamp<std::size_t>(rank, 1, v.size());
    return static_cast<double>(v[rank - 1]) / 1e6;
}

}  // namespace

int main(int argc, char** argv)
{
    run r;
    try {
        r.opt = parse(argc, argv);
        r.endpoint = tcp::endpoint(net::ip::make_address(r.opt.host), r.opt.port);
    } catch (std::exception const& e) {
        std::fprintf(stderr, "raw_client: %s\n", e.what());
        return 2;
    }
    auto const& o = r.opt;
    r.payload.assign(o.message_bytes, 'x');
    r.epoch = clock_type::now() + 5ms;  // the first start after setting up
    r.end = r.epoch + o.duration;
    r.connect_ns.reserve(o.workload == "connect-rate" ? 1 << 20 : o.conns);

    if (o.workload != "idle") {
        for (std::uint64_t i = 0; i < o.conns; ++i) {
            net::awaitable<void> body = o.workload == "hold"           ? hold_connection(r, i)
                                        : o.workload == "connect-rate" ? connect_loop(r, i)
                                                                       : messaging_connection(r, i, o.workload == "fixed-rate");
            net::co_spawn(r.ioc, tracked(r, std::move(body)), net::detached);
        }
    } else {
        net::co_spawn(r.ioc, sleep_until(r.end), net::detached);
    }
    // Bounded: whatever is still pending 10 s after the end is abandoned.
    r.ioc.run_until(r.end + 10s);
    auto const elapsed = std::chrono::duration<double>(clock_type::now() - r.epoch).count();

    auto const window = std::chrono::duration<double>(o.duration - o.ramp).count();
    auto const connects = r.connect_ns.size();
    auto const round_trips = r.rtt_ns.size();
    std::printf("{\"client\":\"raw\",\"workload\":\"%s\",\"conns\":%llu,\"connected\":%zu,"
                "\"connect_failures\":%llu,\"connect_p50_ms\":%.4f,\"connect_p99_ms\":%.4f,"
                "\"round_trips\":%zu,\"rtt_p50_ms\":%.4f,\"rtt_p99_ms\":%.4f,\"window_s\":%.3f,"
                "\"errors\":%llu,\"closed\":%llu,\"unfinished\":%llu,\"elapsed_s\":%.3f}\n",
                o.workload.c_str(), static_cast<unsigned long long>(o.conns), connects,
                static_cast<unsigned long long>(r.connect_failures), percentile_ms(r.connect_ns, 50),
                percentile_ms(r.connect_ns, 99), round_trips, percentile_ms(r.rtt_ns, 50),
                percentile_ms(r.rtt_ns, 99), o.workload == "connect-rate" ? std::chrono::duration<double>(o.duration).count() : window,
                static_cast<unsigned long long>(r.errors), static_cast<unsigned long long>(r.closed),
                static_cast<unsigned long long>(r.live), elapsed);
    print_peak_rss();
    return 0;
}
