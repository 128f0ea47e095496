// tls_client: the floor of bench/run's TLS workloads (issue 15). A minimal wss:// client with
// no Boost and no wsload code: OpenSSL, POSIX sockets and one epoll loop on one thread. Per
// connection it keeps one SSL* and one descriptor (plus a 32-byte slot of opening state), and
// no record buffer while the connection is idle: that makes its memory per connection the floor
// for a TLS client on OpenSSL. It prints one JSON line of its own measurements on stdout, with
// the keys of bench/raw_client.cpp (bench/run adds CPU and RSS from the outside).
//
//   tls_client --workload hold|idle|connect-rate
//              [--host 127.0.0.1] [--port 9000] [--path /ws] [--conns N] [--ramp D]
//              [--duration D] [--resume] [--buffers free|release|keep]
//
// Schedules (as in raw_client.cpp):
//   every workload    connection i opens at ramp * i / conns; the run lasts `duration`, ramp
//                     included. Opening = TCP connect (TCP_NODELAY), TLS handshake (any
//                     certificate is accepted: the bench server's is self-signed), then the
//                     WebSocket upgrade request and a 101 response, all within 10 s.
//   hold              each connection then idles (no pings) until the end, when every one is
//                     closed: one SSL_shutdown (close_notify) and close().
//   idle              no connection at all (the RSS base of `hold`), for `duration`.
//   connect-rate      `conns` loops, each opening a connection and closing it again (one
//                     SSL_shutdown, close) until the end; connect latency is TCP connect + TLS
//                     + upgrade. Connections still opening at the end are abandoned, uncounted.
//   --resume          connect-rate: offer a session ticket the server sent earlier (TLS 1.3,
//                     SSL_CTX_sess_set_new_cb), each ticket once, as RFC 8446 asks and as
//                     OpenSSL enforces (a resumed handshake marks its session not resumable);
//                     the server sends new tickets with every handshake, so the pool does not
//                     run dry. "resumed" counts the handshakes the server resumed.
//   --buffers         OpenSSL's record buffers (16.3 KiB each way) while a connection idles:
//                     release = SSL_MODE_RELEASE_BUFFERS alone, which frees each buffer once it
//                     is drained; but with OpenSSL 3.0 reading the server's TLS 1.3 session
//                     tickets (post-handshake messages, read with the 101) sets the write buffer
//                     up again, and nothing frees it until the next write. free (the default)
//                     = release + SSL_free_buffers once the 101 is read, so an idle connection
//                     holds neither. keep = neither (OpenSSL's default).
// Percentiles are exact: every sample is kept and sorted.

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "peak_rss.hpp"

namespace {

using clock_type = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr auto open_timeout = 10s;

struct options {
    std::string workload = "hold";
    std::string host = "127.0.0.1";
    unsigned short port = 9000;
    std::string path = "/ws";
    std::uint64_t conns = 100;
    std::chrono::nanoseconds ramp = 0s;
    std::chrono::nanoseconds duration = 10s;
    bool resume = false;
    std::string buffers = "free";
};

enum class phase : std::uint8_t { unused, connecting, handshaking, requesting, reading, open };

// One connection: the SSL* and the descriptor, and what the opening needs to resume its steps.
struct conn {
    SSL* ssl = nullptr;
    std::int64_t started_ns = 0;   // connect start, since the epoch (latency and timeout)
    int fd = -1;
    phase step = phase::unused;
    std::uint8_t events = 0;       // what epoll watches: 1 = in, 2 = out
    std::uint8_t crlf = 0;         // how much of "\r\n\r\n" the response has matched
    bool refused = false;          // the status code is not 101
    std::uint16_t seen = 0;        // response bytes read (the status code is bytes 9-11)
};
static_assert(sizeof(conn) <= 32, "the per-connection slot stays small");

// The run's shared state: one thread, so plain members.
struct run {
    options opt;
    sockaddr_in address{};
    SSL_CTX* ctx = nullptr;
    int epoll = -1;
    std::string request;
    clock_type::time_point epoch;
    clock_type::time_point end;
    std::vector<conn> conns;
    std::vector<std::int64_t> connect_ns;
    std::uint64_t connect_failures = 0;
    std::uint64_t errors = 0;      // reads that failed or ended on an open connection
    std::uint64_t closed = 0;
    std::uint64_t resumed = 0;
    std::uint64_t abandoned = 0;   // connect-rate: still opening at the end
    std::uint64_t opening = 0;     // connections between connect and 101
    std::vector<SSL_SESSION*> tickets; // --resume: unused tickets, newest last
};

run* the_run = nullptr;  // for the session callback

std::int64_t since_epoch_ns(run const& r)
{
    return std::chrono::duration_cast<std::chrono::nanoseconds>(clock_type::now() - r.epoch).count();
}

std::chrono::nanoseconds parse_duration(std::string const& flag, std::string const& text)
{
    std::size_t pos = 0;
    double value = -1;
    try {
        value = std::stod(text, &pos);
    } catch (std::exception const&) {
        pos = 0;
    }
    auto const unit = text.substr(pos);
    double ns = -1;
    if (pos == 0 || value < 0) ns = -1;
    else if (unit.empty() || unit == "s") ns = value * 1e9;
    else if (unit == "ms") ns = value * 1e6;
    else if (unit == "us") ns = value * 1e3;
    else if (unit == "ns") ns = value;
    else if (unit == "m") ns = value * 60e9;
    if (ns < 0) throw std::invalid_argument(flag + ": \"" + text + "\" is not a duration (use 10s, 500ms)");
    return std::chrono::nanoseconds(static_cast<std::int64_t>(ns));
}

std::uint64_t parse_count(std::string const& flag, std::string const& text, std::uint64_t max)
{
    std::size_t pos = 0;
    std::uint64_t value = 0;
    try {
        value = std::stoull(text, &pos);
    } catch (std::exception const&) {
        pos = 0;
    }
    if (pos == 0 || pos != text.size() || text[0] == '-' || value > max)
        throw std::invalid_argument(flag + ": \"" + text + "\" is not a number from 0 to " + std::to_string(max));
    return value;
}

options parse(int argc, char** argv)
{
    options o;
    for (int i = 1; i < argc; ++i) {
        std::string flag = argv[i];
        if (flag == "--resume") {
            o.resume = true;
            continue;
        }
        if (i + 1 >= argc) throw std::invalid_argument(flag + " needs a value");
        std::string value = argv[++i];
        if (flag == "--workload") o.workload = value;
        else if (flag == "--host") o.host = value;
        else if (flag == "--port") o.port = static_cast<unsigned short>(parse_count(flag, value, 65535));
        else if (flag == "--path") o.path = value;
        else if (flag == "--conns") o.conns = parse_count(flag, value, 1'000'000);
        else if (flag == "--ramp") o.ramp = parse_duration(flag, value);
        else if (flag == "--duration") o.duration = parse_duration(flag, value);
        else if (flag == "--buffers") o.buffers = value;
        else throw std::invalid_argument("unknown flag " + flag + " (see the header of bench/tls_client.cpp)");
    }
    static constexpr std::string_view known[] = {"hold", "idle", "connect-rate"};
    if (std::find(std::begin(known), std::end(known), o.workload) == std::end(known))
        throw std::invalid_argument("--workload: \"" + o.workload + "\" is not one (use hold, idle or connect-rate)");
    if (o.buffers != "free" && o.buffers != "release" && o.buffers != "keep")
        throw std::invalid_argument("--buffers: \"" + o.buffers + "\" is not one (use free, release or keep)");
    if (o.path.empty() || o.path[0] != '/') throw std::invalid_argument("--path: \"" + o.path + "\" must start with / (e.g. /ws)");
    if (o.ramp > o.duration) throw std::invalid_argument("--ramp must not be longer than --duration");
    return o;
}

// --resume: keep every ticket the server sends, up to two per loop (the callback takes the
// reference: returning 1 says so).
int on_new_session(SSL*, SSL_SESSION* session)
{
    auto& tickets = the_run->tickets;
    if (tickets.size() >= 2 * the_run->opt.conns + 2) {
        SSL_SESSION_free(tickets.front());
        tickets.erase(tickets.begin());
    }
    tickets.push_back(session);
    return 1;
}

SSL_CTX* make_context(options const& o)
{
    SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) return nullptr;
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    // The bench server's certificate is self-signed; the handshake still checks its signature.
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
    if (o.buffers != "keep") SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    if (o.resume) {
        // No internal store: the tickets the callback keeps are all we offer.
        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
        SSL_CTX_sess_set_new_cb(ctx, on_new_session);
    } else {
        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    }
    return ctx;
}

void watch(run& r, std::uint32_t index, std::uint8_t events)
{
    conn& c = r.conns[index];
    if (c.events == events) return;
    epoll_event ev{};
    ev.events = ((events & 1) ? EPOLLIN : 0u) | ((events & 2) ? EPOLLOUT : 0u);
    ev.data.u32 = index;
    epoll_ctl(r.epoll, c.events == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, c.fd, &ev);
    c.events = events;
}

// Ends a connection: close_notify once when TLS is up (never waiting for the peer's), then
// close() (which also takes the descriptor out of epoll).
void finish(run& r, conn& c, bool tls_up)
{
    if (c.ssl) {
        if (tls_up) SSL_shutdown(c.ssl);
        SSL_free(c.ssl);
        c.ssl = nullptr;
    }
    if (c.fd >= 0) close(c.fd);
    if (c.step != phase::open && c.step != phase::unused && r.opening > 0) --r.opening;
    c.fd = -1;
    c.events = 0;
    c.step = phase::unused;
}

void fail(run& r, conn& c)
{
    ++r.connect_failures;
    finish(r, c, false);
    ERR_clear_error();
}

// The connection became open (101 read): record it, then hold it or close it (connect-rate:
// the main loop starts the slot's next connection).
void opened(run& r, std::uint32_t index)
{
    conn& c = r.conns[index];
    r.connect_ns.push_back(since_epoch_ns(r) - c.started_ns);
    if (SSL_session_reused(c.ssl)) ++r.resumed;
    --r.opening;
    c.step = phase::open;
    if (r.opt.workload == "connect-rate") {
        finish(r, c, true);
        ++r.closed;
        return;
    }
    if (r.opt.buffers == "free") SSL_free_buffers(c.ssl);  // both are drained: nothing pending
    watch(r, index, 1);  // a read now only means the server closed or sent something
}

// Runs the opening's steps as far as they go without blocking (then waits on epoll for the
// next), or reads what an open connection received.
void advance(run& r, std::uint32_t index)
{
    conn& c = r.conns[index];
    auto want = [&](int ret) {
        int const e = SSL_get_error(c.ssl, ret);
        if (e == SSL_ERROR_WANT_READ) {
            watch(r, index, 1);
            return true;
        }
        if (e == SSL_ERROR_WANT_WRITE) {
            watch(r, index, 2);
            return true;
        }
        return false;
    };
    if (c.step == phase::connecting) {
        int err = 0;
        socklen_t len = sizeof err;
        if (getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) return fail(r, c);
        c.ssl = SSL_new(r.ctx);
        if (!c.ssl || SSL_set_fd(c.ssl, c.fd) != 1) return fail(r, c);
        if (r.opt.resume && !r.tickets.empty()) {
            SSL_SESSION* ticket = r.tickets.back();  // the newest: the least likely to expire
            r.tickets.pop_back();
            SSL_set_session(c.ssl, ticket);          // takes its own reference
            SSL_SESSION_free(ticket);
        }
        SSL_set_connect_state(c.ssl);
        c.step = phase::handshaking;
    }
    if (c.step == phase::handshaking) {
        int const ret = SSL_do_handshake(c.ssl);
        if (ret != 1) {
            if (!want(ret)) fail(r, c);
            return;
        }
        c.step = phase::requesting;
    }
    if (c.step == phase::requesting) {
        // A retry after WANT_WRITE passes the same buffer, as SSL_write requires.
        int const ret = SSL_write(c.ssl, r.request.data(), static_cast<int>(r.request.size()));
        if (ret <= 0) {
            if (!want(ret)) fail(r, c);
            return;
        }
        c.step = phase::reading;
    }
    if (c.step == phase::reading) {
        // Nothing comes after a 101 until we send, so a read cannot take more than the headers.
        static char const status[] = "101";
        static char const crlf[] = "\r\n\r\n";
        while (c.crlf < 4) {
            char buffer[1024];
            int const ret = SSL_read(c.ssl, buffer, sizeof buffer);
            if (ret <= 0) {
                if (!want(ret)) fail(r, c);
                return;
            }
            for (int k = 0; k < ret && c.crlf < 4; ++k) {
                char const byte = buffer[k];
                if (c.seen >= 9 && c.seen < 12 && byte != status[c.seen - 9]) c.refused = true;
                if (c.seen < 0xffff) ++c.seen;
                c.crlf = byte == crlf[c.crlf] ? c.crlf + 1 : (byte == '\r' ? 1 : 0);
            }
        }
        if (c.refused || c.seen < 12) return fail(r, c);
        return opened(r, index);
    }
    if (c.step == phase::open) {
        // The server sent something (drained and ignored) or ended the connection (an error).
        char buffer[512];
        int const ret = SSL_read(c.ssl, buffer, sizeof buffer);
        if (ret > 0 || want(ret)) {
            if (r.opt.buffers == "free") SSL_free_buffers(c.ssl);
            return;
        }
        std::fprintf(stderr, "tls_client: connection %u: the server ended an open connection\n", index);
        ++r.errors;
        finish(r, c, false);
        ERR_clear_error();
    }
}

void start(run& r, std::uint32_t index)
{
    conn& c = r.conns[index];
    c = conn{};
    c.started_ns = since_epoch_ns(r);
    ++r.opening;
    c.step = phase::connecting;
    c.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c.fd < 0) return fail(r, c);
    int one = 1;
    setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(c.fd, reinterpret_cast<sockaddr const*>(&r.address), sizeof r.address) == 0) return advance(r, index);
    if (errno != EINPROGRESS) return fail(r, c);
    watch(r, index, 2);
}

// Fails the openings older than the bound (a server that stopped answering).
void expire(run& r)
{
    auto const now = since_epoch_ns(r);
    auto const bound = std::chrono::nanoseconds(open_timeout).count();
    for (auto& c : r.conns)
        if (c.step != phase::unused && c.step != phase::open && now - c.started_ns > bound) fail(r, c);
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
    std::signal(SIGPIPE, SIG_IGN);  // a write to a connection the server reset is an error, not a death
    run r;
    the_run = &r;
    try {
        r.opt = parse(argc, argv);
        r.address.sin_family = AF_INET;
        r.address.sin_port = htons(r.opt.port);
        if (inet_pton(AF_INET, r.opt.host.c_str(), &r.address.sin_addr) != 1)
            throw std::invalid_argument("--host: \"" + r.opt.host + "\" is not an IPv4 address (e.g. 127.0.0.1)");
    } catch (std::exception const& e) {
        std::fprintf(stderr, "tls_client: %s\n", e.what());
        return 2;
    }
    auto const& o = r.opt;
    r.ctx = make_context(o);
    r.epoll = epoll_create1(EPOLL_CLOEXEC);
    if (!r.ctx || r.epoll < 0) {
        std::fprintf(stderr, "tls_client: cannot set up OpenSSL or epoll\n");
        return 1;
    }
    r.request = "GET " + o.path + " HTTP/1.1\r\nHost: " + o.host + ":" + std::to_string(o.port) +
                "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    bool const active = o.workload != "idle";
    r.conns.resize(active ? o.conns : 0);
    r.connect_ns.reserve(o.workload == "connect-rate" ? 1 << 20 : o.conns);
    r.epoch = clock_type::now() + 5ms;  // the first start after setting up
    r.end = r.epoch + o.duration;

    std::vector<epoll_event> events(256);
    std::uint64_t next = 0;  // the next connection to start
    auto last_expiry = clock_type::now();
    for (;;) {
        auto const now = clock_type::now();
        if (now >= r.end) break;
        // Start every connection whose time has come (connection i at ramp * i / conns).
        auto wake = r.end;
        while (next < r.conns.size()) {
            auto const due = r.epoch + r.opt.ramp * static_cast<std::int64_t>(next) / static_cast<std::int64_t>(o.conns);
            if (due > now) {
                wake = std::min(wake, due);
                break;
            }
            start(r, static_cast<std::uint32_t>(next++));
        }
        // connect-rate: each loop's next connection, after a close or a failure.
        if (o.workload == "connect-rate")
            for (std::uint32_t i = 0; i < next; ++i)
                if (r.conns[i].step == phase::unused) start(r, i);
        if (r.opening > 0 && now - last_expiry >= 100ms) {
            expire(r);
            last_expiry = now;
        }
        if (r.opening > 0) wake = std::min(wake, now + 100ms);
        auto const wait_ms = std::chrono::ceil<std::chrono::milliseconds>(wake - clock_type::now()).count();
        int const n = epoll_wait(r.epoll, events.data(), static_cast<int>(events.size()),
                                 static_cast<int>(std::clamp<std::int64_t>(wait_ms, 0, 1000)));
        for (int k = 0; k < n; ++k) {
            auto const index = events[k].data.u32;
            if (r.conns[index].step != phase::unused) advance(r, index);
        }
    }
    auto const elapsed = std::chrono::duration<double>(clock_type::now() - r.epoch).count();

    // The end: close what is open; what is still opening is abandoned (connect-rate) or failed.
    for (auto& c : r.conns) {
        if (c.step == phase::open) {
            finish(r, c, true);
            ++r.closed;
        } else if (c.step != phase::unused) {
            if (o.workload == "connect-rate") {
                ++r.abandoned;
                finish(r, c, false);
            } else {
                fail(r, c);
            }
        }
    }
    for (auto* ticket : r.tickets) SSL_SESSION_free(ticket);
    SSL_CTX_free(r.ctx);
    close(r.epoll);

    auto const window = std::chrono::duration<double>(o.duration - o.ramp).count();
    auto const connects = r.connect_ns.size();
    std::printf("{\"client\":\"tls\",\"workload\":\"%s\",\"conns\":%llu,\"connected\":%zu,"
                "\"connect_failures\":%llu,\"connect_p50_ms\":%.4f,\"connect_p99_ms\":%.4f,"
                "\"round_trips\":0,\"rtt_p50_ms\":0,\"rtt_p99_ms\":0,\"window_s\":%.3f,"
                "\"errors\":%llu,\"closed\":%llu,\"resumed\":%llu,\"abandoned\":%llu,"
                "\"buffers\":\"%s\",\"elapsed_s\":%.3f}\n",
                o.workload.c_str(), static_cast<unsigned long long>(o.conns), connects,
                static_cast<unsigned long long>(r.connect_failures), percentile_ms(r.connect_ns, 50),
                percentile_ms(r.connect_ns, 99),
                o.workload == "connect-rate" ? std::chrono::duration<double>(o.duration).count() : window,
                static_cast<unsigned long long>(r.errors), static_cast<unsigned long long>(r.closed),
                static_cast<unsigned long long>(r.resumed), static_cast<unsigned long long>(r.abandoned),
                o.buffers.c_str(), elapsed);
    print_peak_rss();
    return 0;
}
