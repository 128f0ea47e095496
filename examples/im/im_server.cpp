// im_server: the IM gateway stand-in that demos, tests and benchmarks talk to.
//
// A WebSocket echo server (ws:// or, with --tls-cert/--tls-key, wss://) built on Boost.Beast
// with C++20 coroutines. One io_context per thread; the acceptor lives on the first and hands
// each accepted socket round-robin to a thread, where the session stays: no strands, no locks
// on the message path. Sessions are kept lean (PERF-FACTS.md) so that 10,000+ idle ones fit.
//
//   im_server [--host 127.0.0.1] [--port 9000] [--threads 1] [--delay 0] [--max-conns 0]
//             [--path /ws] [--tls-cert FILE --tls-key FILE] [--close-after D]
//
// Once listening it prints `im_server listening on <host>:<port>` on stdout (tests read the
// port from it). SIGINT/SIGTERM: stop accepting, close sessions with 1001 (going away), exit 0
// within ~2 s, and print the session and message counts on stderr.
// Exit status: 0 after a signal, 1 when it cannot listen, 2 for a bad command line.

#include <wsload/core/duration.hpp>
#include <wsload/core/error.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/intrusive/list.hpp>
#include <boost/program_options.hpp>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace net = boost::asio;
namespace ssl = net::ssl;
namespace po = boost::program_options;
namespace bi = boost::intrusive;
using tcp = net::ip::tcp;
using namespace std::chrono_literals;

// Everything runs on io_context executors: a pending read costs ~200 B less than with
// any_io_executor (PERF-FACTS.md), which adds up over 10,000 idle sessions.
using executor_type = net::io_context::executor_type;
using socket_type = net::basic_stream_socket<tcp, executor_type>;
using acceptor_type = net::basic_socket_acceptor<tcp, executor_type>;
using timer_type = net::basic_waitable_timer<std::chrono::steady_clock,
                                             net::wait_traits<std::chrono::steady_clock>,
                                             executor_type>;
using signal_set_type = net::basic_signal_set<executor_type>;
using tls_layer = ssl::stream<socket_type>;
template <class T = void>
using task = net::awaitable<T, executor_type>;

constexpr auto use_tuple = net::as_tuple(net::use_awaitable_t<executor_type>{});

// Bounds the TLS handshake, the HTTP upgrade request and the WebSocket close handshake.
constexpr auto handshake_timeout = 10s;
// On SIGINT/SIGTERM: sessions get this long to finish the 1001 close handshake, then their
// sockets are closed; past the hard limit the io_contexts are stopped outright.
constexpr auto shutdown_grace = 1200ms;
constexpr auto shutdown_hard = 1800ms;
// An echo buffer that grew past this for a large message is released afterwards, so one big
// message does not pin memory in an idle session; smaller ones are reused without allocating.
constexpr std::size_t keep_buffer_bytes = 64 * 1024;
// What an idle session's pending read reserves. Beast's async_read would reserve 1,536 bytes
// per parked session; a first read_some of this size parks cheaply, takes a typical IM message
// in one go, and a longer one is finished by async_read at full size.
constexpr std::size_t idle_read_bytes = 256;

// A command-line mistake; main prints it after "im_server: " and exits 2.
struct bad_flag : std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct config {
    std::string host = "127.0.0.1";
    std::uint16_t port = 9000;
    std::size_t threads = 1;
    std::chrono::nanoseconds delay{0};
    std::size_t max_conns = 0; // 0 = unlimited
    std::string path = "/ws";
    std::string tls_cert;
    std::string tls_key;
    std::optional<std::chrono::nanoseconds> close_after;
};

// ---------------------------------------------------------------------------------------------
// Command line

std::chrono::nanoseconds duration_flag(po::variables_map const& vm, char const* name)
{
    auto const text = vm[name].as<std::string>();
    try {
        return wsload::parse_duration(text);
    } catch (wsload::usage_error const& e) {
        throw bad_flag(std::string("--") + name + ": " + e.what());
    }
}

long long ranged_flag(po::variables_map const& vm, char const* name, long long low, long long high,
                      char const* hint)
{
    auto const value = vm[name].as<long long>();
    if (value < low || value > high)
        throw bad_flag(std::string("--") + name + ": " + std::to_string(value) +
                       " is out of range (" + hint + ")");
    return value;
}

// nullopt when --help was printed.
std::optional<config> parse_command_line(int argc, char** argv)
{
    po::options_description options("im_server options");
    // clang-format off
    options.add_options()
        ("help", "print this help and exit")
        ("host", po::value<std::string>()->default_value("127.0.0.1"), "address to listen on")
        ("port", po::value<long long>()->default_value(9000), "TCP port; 0 picks a free one")
        ("threads", po::value<long long>()->default_value(1), "I/O threads, one io_context each")
        ("delay", po::value<std::string>()->default_value("0"),
            "wait this long before each reply (250us, 1ms, 2s)")
        ("max-conns", po::value<long long>()->default_value(0),
            "open WebSocket sessions allowed; further upgrades get HTTP 503 (0 = unlimited)")
        ("path", po::value<std::string>()->default_value("/ws"),
            "upgrade path; other paths get HTTP 404")
        ("tls-cert", po::value<std::string>(), "PEM certificate chain: serve wss:// (needs --tls-key)")
        ("tls-key", po::value<std::string>(), "PEM private key for --tls-cert")
        ("close-after", po::value<std::string>(),
            "close every session with 1001 (going away) this long after its upgrade");
    // clang-format on

    po::variables_map vm;
    try {
        // An empty positional description makes a stray word an error instead of ignored.
        po::store(po::command_line_parser(argc, argv)
                      .options(options)
                      .positional(po::positional_options_description{})
                      .run(),
                  vm);
        po::notify(vm);
    } catch (po::error const& e) {
        throw bad_flag(std::string(e.what()) + " (see --help)");
    }
    if (vm.count("help")) {
        std::cout << "usage: im_server [options]\n"
                  << "A WebSocket echo server standing in for an IM gateway.\n\n"
                  << options;
        return std::nullopt;
    }

    config cfg;
    cfg.host = vm["host"].as<std::string>();
    cfg.port = static_cast<std::uint16_t>(ranged_flag(vm, "port", 0, 65535, "use 0-65535; 0 picks a free port"));
    cfg.threads = static_cast<std::size_t>(ranged_flag(vm, "threads", 1, 1024, "use 1-1024"));
    cfg.delay = duration_flag(vm, "delay");
    cfg.max_conns = static_cast<std::size_t>(
        ranged_flag(vm, "max-conns", 0, 100'000'000, "use 0 for unlimited, or a positive count"));
    cfg.path = vm["path"].as<std::string>();
    if (cfg.path.empty() || cfg.path.front() != '/')
        throw bad_flag("--path: \"" + cfg.path + "\" must start with / (e.g. /ws)");
    if (vm.count("close-after")) {
        cfg.close_after = duration_flag(vm, "close-after");
        if (cfg.close_after->count() == 0)
            throw bad_flag("--close-after: must be longer than 0 (e.g. 500ms); leave it out to keep sessions open");
    }
    if (vm.count("tls-cert") != vm.count("tls-key"))
        throw bad_flag("--tls-cert and --tls-key go together: give both for wss://, or neither");
    if (vm.count("tls-cert")) {
        cfg.tls_cert = vm["tls-cert"].as<std::string>();
        cfg.tls_key = vm["tls-key"].as<std::string>();
    }
    return cfg;
}

ssl::context make_tls_context(config const& cfg)
{
    for (auto const& [flag, file] : {std::pair{"--tls-cert", cfg.tls_cert}, std::pair{"--tls-key", cfg.tls_key}})
        if (!std::filesystem::is_regular_file(file))
            throw bad_flag(std::string(flag) + ": \"" + file + "\" is not a readable file");

    ssl::context ctx(ssl::context::tls_server);
    ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                    ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    beast::error_code ec;
    ctx.use_certificate_chain_file(cfg.tls_cert, ec);
    if (ec) throw bad_flag("--tls-cert: cannot load \"" + cfg.tls_cert + "\": " + ec.message());
    // Also checks that the key matches the certificate.
    ctx.use_private_key_file(cfg.tls_key, ssl::context::pem, ec);
    if (ec)
        throw bad_flag("--tls-key: cannot use \"" + cfg.tls_key + "\" with \"" + cfg.tls_cert +
                       "\": " + ec.message());
    // OpenSSL frees its record buffers while a connection is idle.
    SSL_CTX_set_mode(ctx.native_handle(), SSL_MODE_RELEASE_BUFFERS);
    return ctx;
}

tcp::endpoint resolve_listen_endpoint(config const& cfg)
{
    beast::error_code ec;
    auto const address = net::ip::make_address(cfg.host, ec);
    if (!ec) return {address, cfg.port};
    // Not numeric (e.g. "localhost"): take the first address the resolver gives.
    net::io_context ioc;
    tcp::resolver resolver(ioc);
    auto const results = resolver.resolve(cfg.host, std::to_string(cfg.port), ec);
    if (ec || results.empty())
        throw bad_flag("--host: cannot resolve \"" + cfg.host + "\" (use an address such as 127.0.0.1)");
    return results.begin()->endpoint();
}

// ---------------------------------------------------------------------------------------------
// Sessions and the threads that own them

// What a worker needs to reach a live session from outside its coroutine: to close it at
// shutdown or --close-after. Sessions sit in one of their worker's lists (touched only on that
// worker's thread) and unlink themselves when they die.
class session_base : public bi::list_base_hook<bi::link_mode<bi::auto_unlink>> {
public:
    // Starts a 1001 close handshake on an open session; drops a session still in its upgrade.
    virtual void go_away() = 0;
    // Closes the socket now: every pending operation of the session completes with an error.
    virtual void drop() = 0;

    std::chrono::steady_clock::time_point opened_at{};

protected:
    session_base() = default;
    ~session_base() = default;
};

using session_list = bi::list<session_base, bi::constant_time_size<false>>;

struct worker {
    // Declared before the io_context so that they outlive it: destroying the io_context after
    // a hard stop destroys parked coroutine frames, whose sessions unlink from these lists.
    session_list upgrading; // TLS handshake and HTTP upgrade in progress
    session_list open;      // in upgrade order, which --close-after relies on
    session_list closing;   // our 1001 close sent, waiting for the peer

    net::io_context ioc{1};
    net::executor_work_guard<executor_type> keep_running = net::make_work_guard(ioc);
    timer_type sweep_timer{ioc}; // --close-after: one timer per thread, not one per session
    bool stopping = false;

    // Touched only on this worker's thread; main reads them after joining it.
    std::uint64_t sessions_accepted = 0;
    std::uint64_t requests_rejected = 0;
    std::uint64_t messages_echoed = 0;

    void begin_shutdown()
    {
        stopping = true;
        keep_running.reset();
        sweep_timer.cancel();
        for (auto& s : upgrading) s.drop();
        while (!open.empty()) open.front().go_away(); // moves it to `closing`
    }

    void drop_all()
    {
        for (auto* list : {&upgrading, &open, &closing})
            for (auto& s : *list) s.drop();
    }
};

struct server {
    config cfg;
    std::optional<ssl::context> tls; // declared before workers: sessions refer to it
    std::vector<std::unique_ptr<worker>> workers;
    std::atomic<std::size_t> open_sessions{0}; // upgraded and not yet ended: --max-conns
    std::atomic<std::size_t> live_sessions{0}; // accepted sockets whose coroutine has not ended
    int stopped_by = 0;

    // Reserves a --max-conns slot; exact under concurrent upgrades on several threads.
    bool try_take_slot()
    {
        auto n = open_sessions.load(std::memory_order_relaxed);
        do {
            if (cfg.max_conns != 0 && n >= cfg.max_conns) return false;
        } while (!open_sessions.compare_exchange_weak(n, n + 1, std::memory_order_acq_rel,
                                                      std::memory_order_relaxed));
        return true;
    }

    void stop_now()
    {
        for (auto& w : workers) w->ioc.stop();
    }
};

// Counts a session in server::live_sessions for as long as its coroutine runs.
class live_count {
public:
    explicit live_count(std::atomic<std::size_t>& n) : n_(n) {}
    live_count(live_count const&) = delete;
    live_count& operator=(live_count const&) = delete;
    ~live_count() { n_.fetch_sub(1, std::memory_order_acq_rel); }

private:
    std::atomic<std::size_t>& n_;
};

template <class NextLayer>
class session final : public session_base {
public:
    // Permessage-deflate is never negotiated: it would cost state per connection.
    using stream_type = websocket::stream<NextLayer, false>;

    session(worker& w, socket_type socket, ssl::context* tls)
        : worker_(w), ws(make_next_layer(std::move(socket), tls))
    {
        // Beast's floor for an idle session (PERF-FACTS.md): no persistent write buffer to
        // speak of, no idle timer, no fragmenting. Only the handshakes are bounded.
        ws.auto_fragment(false);
        ws.write_buffer_bytes(256);
        websocket::stream_base::timeout timeouts{};
        timeouts.handshake_timeout = handshake_timeout;
        timeouts.idle_timeout = websocket::stream_base::none();
        timeouts.keep_alive_pings = false;
        ws.set_option(timeouts);
        worker_.upgrading.push_back(*this);
    }

    session(session const&) = delete;
    session& operator=(session const&) = delete;

    ~session()
    {
        if (holds_slot_) slots_->fetch_sub(1, std::memory_order_acq_rel);
    }

    // Counts this session against --max-conns until it is destroyed.
    void hold_slot(std::atomic<std::size_t>& slots)
    {
        slots_ = &slots;
        holds_slot_ = true;
    }

    void mark_open()
    {
        phase_ = phase::open;
        opened_at = std::chrono::steady_clock::now();
        unlink();
        worker_.open.push_back(*this);
        ++worker_.sessions_accepted;
    }

    void go_away() override
    {
        if (phase_ == phase::upgrading) {
            drop();
            return;
        }
        if (phase_ != phase::open) return;
        phase_ = phase::closing;
        unlink();
        worker_.closing.push_back(*this);
        // A reply still waiting out --delay would only hit the closed stream.
        if (delay_timer) delay_timer->cancel();
        close_pending_ = true;
        // Runs beside the pending read, as Beast allows; settle() keeps the session alive
        // until this handler has run, so capturing `this` is safe.
        ws.async_close(websocket::close_code::going_away, [this](beast::error_code) {
            close_pending_ = false;
            if (close_wait_) close_wait_->cancel();
        });
    }

    void drop() override
    {
        beast::error_code ignored;
        beast::get_lowest_layer(ws).close(ignored);
        if (delay_timer) delay_timer->cancel();
    }

    // Called once the echo loop has ended: leaves the worker's open list, and waits for a
    // close we started, since Beast's stream must outlive its pending operations.
    task<> settle()
    {
        if (phase_ == phase::open) {
            phase_ = phase::done;
            unlink();
        }
        if (!close_pending_) co_return;
        close_wait_.emplace(ws.get_executor(), timer_type::time_point::max());
        co_await close_wait_->async_wait(use_tuple);
    }

private:
    static NextLayer make_next_layer(socket_type socket, ssl::context* tls)
    {
        if constexpr (std::is_same_v<NextLayer, tls_layer>)
            return NextLayer(std::move(socket), *tls);
        else
            return socket;
    }

    enum class phase : std::uint8_t { upgrading, open, closing, done };

    worker& worker_;
    std::atomic<std::size_t>* slots_ = nullptr;
    phase phase_ = phase::upgrading;
    bool holds_slot_ = false;
    bool close_pending_ = false;
    std::optional<timer_type> close_wait_; // exists only while settle() waits

public:
    stream_type ws;
    // Created on the first delayed reply when --delay is set; a member so that go_away and
    // drop can cut a pending delay short.
    std::optional<timer_type> delay_timer;
};

// Path part of a request target, without the query.
std::string_view target_path(std::string_view target)
{
    return target.substr(0, target.find('?'));
}

template <class NextLayer>
task<> reject(session<NextLayer>& s, unsigned version, http::status status, std::string why)
{
    http::response<http::string_body> res{status, version};
    res.set(http::field::server, "wsload-im-server");
    res.set(http::field::content_type, "text/plain");
    if (status == http::status::service_unavailable) res.set(http::field::retry_after, "1");
    res.keep_alive(false);
    res.body() = std::move(why) + "\n";
    res.prepare_payload();
    co_await http::async_write(s.ws.next_layer(), res, use_tuple);
    // FIN after the response so the client reads all of it; with TLS we do not wait for the
    // peer's close_notify, which some clients never send.
    beast::error_code ignored;
    beast::get_lowest_layer(s.ws).shutdown(tcp::socket::shutdown_send, ignored);
}

// TLS handshake, HTTP upgrade request, then the 101 or a refusal. True when upgraded.
// `srv`, `w` and `s` outlive the call: the server and its workers live until main returns,
// and the session lives in the caller's frame.
template <class NextLayer>
task<bool> upgrade(server& srv, worker& w, session<NextLayer>& s)
{
    if constexpr (std::is_same_v<NextLayer, tls_layer>) {
        auto [ec] = co_await s.ws.next_layer().async_handshake(ssl::stream_base::server, use_tuple);
        if (ec) co_return false;
    }

    // Handshake temporaries: they die with this frame, not with the session.
    beast::flat_buffer buffer;
    http::request_parser<http::empty_body> parser;
    parser.header_limit(16 * 1024);
    if (auto [ec, n] = co_await http::async_read(s.ws.next_layer(), buffer, parser, use_tuple); ec)
        co_return false;
    auto const& req = parser.get();

    if (target_path(req.target()) != srv.cfg.path) {
        ++w.requests_rejected;
        co_await reject(s, req.version(), http::status::not_found,
                        "no WebSocket endpoint here; use " + srv.cfg.path);
        co_return false;
    }
    if (!websocket::is_upgrade(req)) {
        ++w.requests_rejected;
        co_await reject(s, req.version(), http::status::upgrade_required,
                        "this endpoint only speaks WebSocket");
        co_return false;
    }
    if (!srv.try_take_slot()) {
        ++w.requests_rejected;
        co_await reject(s, req.version(), http::status::service_unavailable,
                        "too many sessions (--max-conns " + std::to_string(srv.cfg.max_conns) + ")");
        co_return false;
    }
    s.hold_slot(srv.open_sessions);
    auto [ec] = co_await s.ws.async_accept(req, use_tuple);
    co_return !ec;
}

// Drops `s` when the deadline passes; cancelled (and harmless) when the upgrade wins the race.
task<> upgrade_deadline(session_base& s)
{
    timer_type timer(co_await net::this_coro::executor, handshake_timeout);
    auto [ec] = co_await timer.async_wait(use_tuple);
    if (!ec) s.drop();
}

// One connection, from the accepted socket to its close. Runs on `w`'s thread only.
template <class NextLayer>
task<> run_session(server& srv, worker& w, socket_type socket)
{
    using namespace net::experimental::awaitable_operators;
    live_count live(srv.live_sessions);
    if (w.stopping) co_return;

    session<NextLayer> s(w, std::move(socket), srv.tls ? &*srv.tls : nullptr);
    auto const upgraded = co_await (upgrade(srv, w, s) || upgrade_deadline(s));
    if (upgraded.index() != 0 || !std::get<0>(upgraded)) co_return;

    s.mark_open();
    if (w.stopping) s.go_away();

    // Allocated by the first read and reused for every message after it.
    beast::flat_buffer buffer;
    for (;;) {
        // While this read is pending, Beast answers pings with pongs and the peer's close.
        auto [ec, n] = co_await s.ws.async_read_some(buffer, idle_read_bytes, use_tuple);
        if (!ec && !s.ws.is_message_done())
            std::tie(ec, n) = co_await s.ws.async_read(buffer, use_tuple);
        if (ec) break;
        if (srv.cfg.delay.count() > 0) {
            if (!s.delay_timer) s.delay_timer.emplace(co_await net::this_coro::executor);
            s.delay_timer->expires_after(srv.cfg.delay);
            if (auto [dec] = co_await s.delay_timer->async_wait(use_tuple); dec) break;
        }
        s.ws.binary(s.ws.got_binary());
        if (auto [wec, written] = co_await s.ws.async_write(buffer.data(), use_tuple); wec) break;
        ++w.messages_echoed;
        buffer.consume(buffer.size());
        if (buffer.capacity() > keep_buffer_bytes) buffer.shrink_to_fit();
    }
    co_await s.settle();
}

void report_failure(std::exception_ptr e)
{
    if (!e) return;
    try {
        std::rethrow_exception(e);
    } catch (std::exception const& x) {
        std::cerr << "im_server: internal error: " << x.what() << '\n';
    }
}

// Runs on the first worker; `srv` and `acceptor` live until main returns.
task<> accept_loop(server& srv, acceptor_type& acceptor)
{
    timer_type backoff(co_await net::this_coro::executor);
    bool reported = false;
    for (std::size_t next = 0;; next = (next + 1) % srv.workers.size()) {
        auto& target = *srv.workers[next];
        // The socket is created on the target's io_context and stays there.
        auto [ec, socket] = co_await acceptor.async_accept(target.ioc, use_tuple);
        if (!acceptor.is_open() || ec == net::error::operation_aborted) co_return;
        if (ec) {
            // Typically out of descriptors: pause instead of spinning on a full fd table.
            if (!reported)
                std::cerr << "im_server: accept failed: " << ec.message() << " (retrying)\n";
            reported = true;
            backoff.expires_after(50ms);
            co_await backoff.async_wait(use_tuple);
            continue;
        }
        beast::error_code ignored;
        socket.set_option(tcp::no_delay(true), ignored);
        srv.live_sessions.fetch_add(1, std::memory_order_acq_rel);
        if (srv.tls)
            net::co_spawn(target.ioc, run_session<tls_layer>(srv, target, std::move(socket)),
                          report_failure);
        else
            net::co_spawn(target.ioc, run_session<socket_type>(srv, target, std::move(socket)),
                          report_failure);
    }
}

// --close-after on one worker: sessions are in upgrade order, so only the front can be due.
task<> close_after_sweep(worker& w, std::chrono::nanoseconds after)
{
    while (!w.stopping) {
        auto const now = std::chrono::steady_clock::now();
        while (!w.open.empty() && w.open.front().opened_at + after <= now)
            w.open.front().go_away(); // moves it to `closing`
        // With nothing open, any session opened from now on is due after now + after at least.
        w.sweep_timer.expires_at(w.open.empty() ? now + after : w.open.front().opened_at + after);
        co_await w.sweep_timer.async_wait(use_tuple);
    }
}

// Runs on the first worker: the graceful stop, bounded so that it ends within ~2 s.
task<> stop_on_signal(server& srv, acceptor_type& acceptor, signal_set_type& signals)
{
    auto [ec, signo] = co_await signals.async_wait(use_tuple);
    if (ec) co_return;
    srv.stopped_by = signo;
    beast::error_code ignored;
    acceptor.close(ignored);
    for (auto& w : srv.workers) net::post(w->ioc, [&w = *w] { w.begin_shutdown(); });
    // A second signal skips the grace period.
    signals.async_wait([&srv](beast::error_code e, int) {
        if (!e) srv.stop_now();
    });

    timer_type tick(co_await net::this_coro::executor);
    auto const start = std::chrono::steady_clock::now();
    bool dropped = false;
    while (srv.live_sessions.load(std::memory_order_acquire) > 0) {
        auto const elapsed = std::chrono::steady_clock::now() - start;
        if (elapsed >= shutdown_hard) {
            srv.stop_now();
            break;
        }
        if (!dropped && elapsed >= shutdown_grace) {
            for (auto& w : srv.workers) net::post(w->ioc, [&w = *w] { w.drop_all(); });
            dropped = true;
        }
        tick.expires_after(10ms);
        co_await tick.async_wait(use_tuple);
    }
    signals.cancel(ignored);
}

std::string endpoint_text(tcp::endpoint const& ep)
{
    auto const address = ep.address().to_string();
    return (ep.address().is_v6() ? "[" + address + "]" : address) + ":" + std::to_string(ep.port());
}

char const* signal_name(int signo)
{
    switch (signo) {
    case SIGINT: return "SIGINT";
    case SIGTERM: return "SIGTERM";
    default: return "signal";
    }
}

} // namespace

int main(int argc, char** argv)
{
    // Sockets already write with MSG_NOSIGNAL; this keeps a closed stderr (a test runner that
    // went away) from turning the final stats line into a SIGPIPE death.
    std::signal(SIGPIPE, SIG_IGN);

    server srv;
    tcp::endpoint endpoint;
    try {
        auto cfg = parse_command_line(argc, argv);
        if (!cfg) return 0;
        srv.cfg = std::move(*cfg);
        if (!srv.cfg.tls_cert.empty()) srv.tls.emplace(make_tls_context(srv.cfg));
        endpoint = resolve_listen_endpoint(srv.cfg);
    } catch (bad_flag const& e) {
        std::cerr << "im_server: " << e.what() << '\n';
        return 2;
    }

    for (std::size_t i = 0; i < srv.cfg.threads; ++i) srv.workers.push_back(std::make_unique<worker>());
    auto& first = *srv.workers.front();

    acceptor_type acceptor(first.ioc);
    try {
        acceptor.open(endpoint.protocol());
        acceptor.set_option(net::socket_base::reuse_address(true));
        acceptor.bind(endpoint);
        acceptor.listen(net::socket_base::max_listen_connections);
    } catch (boost::system::system_error const& e) {
        std::cerr << "im_server: cannot listen on " << endpoint_text(endpoint) << ": "
                  << e.code().message() << '\n';
        return 1;
    }

    // Installed before the readiness line, so a test may signal as soon as it reads it.
    signal_set_type signals(first.ioc, SIGINT, SIGTERM);

    net::co_spawn(first.ioc, accept_loop(srv, acceptor), report_failure);
    net::co_spawn(first.ioc, stop_on_signal(srv, acceptor, signals), report_failure);
    if (srv.cfg.close_after)
        for (auto& w : srv.workers)
            net::co_spawn(w->ioc, close_after_sweep(*w, *srv.cfg.close_after), report_failure);

    std::cout << "im_server listening on " << endpoint_text(acceptor.local_endpoint()) << std::endl;

    std::vector<std::thread> threads;
    for (std::size_t i = 1; i < srv.workers.size(); ++i)
        threads.emplace_back([&w = *srv.workers[i]] { w.ioc.run(); });
    first.ioc.run();
    for (auto& t : threads) t.join();

    std::uint64_t accepted = 0, rejected = 0, echoed = 0;
    for (auto const& w : srv.workers) {
        accepted += w->sessions_accepted;
        rejected += w->requests_rejected;
        echoed += w->messages_echoed;
    }
    std::cerr << "im_server: stopped by " << signal_name(srv.stopped_by) << ": " << accepted
              << " sessions accepted, " << rejected << " requests rejected, " << echoed
              << " messages echoed\n";
    return 0;
}
