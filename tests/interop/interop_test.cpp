// Interop: wsload's WebSocket client against servers it did not write. Each case starts its
// server on 127.0.0.1 (port 0, the port read back), runs the engine in-process with a
// behaviour, stops the server by PID, and checks what the behaviour saw and the run's exact
// figures. The servers:
//   - Debian's python3-websockets and node-ws, running servers/echo_server.{py,js}: echo, plus
//     text commands `close:CODE:REASON` (the server closes) and `frames?` (how many frames the
//     previous message came in), and a `closed CODE` line on stdout per ended connection;
//   - Debian's libwebsockets-test-server, which cannot echo one client alone: its
//     lws-mirror-protocol sends what a client sends to every client of the same mirror
//     instance (`?mirror=NAME`, at most 3 instances) as text, cut wherever its reads end; its
//     dumb-increment-protocol sends 0, 1, 2, ... every 50 ms, restarts on `reset\n` and
//     closes with 1001 on `closeme\n`;
//   - the bundled im_server (Beast): echo, and --close-after closes with 1001.
// The python3-websockets and im_server suites run again over wss:// (suites *_tls): the same
// checks, the server given a certificate made for the module (tls_certificate() below) and the
// client trusting it as its CA file, so that the certificate and the host are verified. Their
// echo lengths add the edges of a TLS record (16 KiB of plaintext), so that a message spans
// records both ways and the client's reads and writes stop inside one.

#include <support/child_process.hpp>
#include <support/layer_under_test.hpp>
#include <wsload/runtime/engine.hpp>

#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <optional>
#include <set>
#include <span>
#include <sstream>
#include <thread>

using namespace std::chrono_literals;
namespace stats = wsload::stats;
namespace bdata = boost::unit_test::data;
using stats::counter_id;
using stats::disconnect_reason;
using wsload::test::child_process;

namespace {

// ------------------------------------------------------------------------------------------
// The servers

constexpr auto ready_timeout = 20s;

/// Stops `p` by its PID: `signo`, then SIGKILL if it has not exited within 3 s.
void stop_process(child_process& p, int signo = SIGTERM) noexcept
{
    try {
        p.send_signal(signo);
        if (!p.wait_for_exit(3s)) {
            p.send_signal(SIGKILL);
            p.wait_for_exit(5s);
        }
    } catch (...) {
        // child_process's destructor still SIGKILLs and reaps it.
    }
}

/// The certificate every wss:// server of this module presents (self-signed, for 127.0.0.1 and
/// localhost), made once on first use, and its files removed at exit. Clients trust it as their
/// CA file (config_for).
struct tls_certificate_files {
    wsload::test::temp_dir dir{"wsload-interop-tls"};
    tls_certificate_files() { wsload::test::make_self_signed_certificate(dir.path()); }
    std::string cert() const { return (dir.path() / "cert.pem").string(); }
    std::string key() const { return (dir.path() / "key.pem").string(); }
};

const tls_certificate_files& tls_certificate()
{
    static const tls_certificate_files files;
    return files;
}

/// ws:// or, with TLS, wss://.
enum class scheme { ws, wss };

std::string scheme_prefix(scheme s) { return s == scheme::wss ? "wss://" : "ws://"; }

/// servers/echo_server.py or .js: started with --port 0, ready once it prints
/// `listening on HOST:PORT`. Every `closed CODE` line it prints is kept, in order. `s` is what
/// `argv` makes it serve.
class echo_script_server {
public:
    echo_script_server(std::string name, std::vector<std::string> argv, std::vector<std::string> env,
                       scheme s = scheme::ws)
        : name_(std::move(name)), scheme_(s), process_(start(std::move(argv), std::move(env)))
    {
        constexpr std::string_view ready = "listening on ";
        const auto deadline = std::chrono::steady_clock::now() + ready_timeout;
        while (auto line = process_.read_stdout_line(remaining(deadline))) {
            if (!line->starts_with(ready)) continue;
            port_ = static_cast<std::uint16_t>(std::stoul(line->substr(line->rfind(':') + 1)));
            return;
        }
        const std::string what = process_.running() ? " did not report readiness within " +
                                                          std::to_string(ready_timeout.count()) + " s"
                                                    : " exited before reporting readiness";
        stop_process(process_, SIGKILL);
        throw std::runtime_error(name_ + what + "; its stderr: " + process_.stderr_text());
    }
    echo_script_server(const echo_script_server&) = delete;
    echo_script_server& operator=(const echo_script_server&) = delete;
    ~echo_script_server() { stop_process(process_); }

    std::string url(std::string_view path = "/") const
    {
        return scheme_prefix(scheme_) + "127.0.0.1:" + std::to_string(port_) + std::string(path);
    }

    /// The close codes of the first `count` connections that ended, as the server saw them;
    /// fewer if the server has not reported that many within `timeout`.
    std::vector<int> close_codes(std::size_t count, std::chrono::milliseconds timeout = 10s)
    {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (closes_.size() < count) {
            auto line = process_.read_stdout_line(remaining(deadline));
            if (!line) break;
            if (line->starts_with("closed ")) closes_.push_back(std::stoi(line->substr(7)));
        }
        return {closes_.begin(), closes_.begin() + static_cast<std::ptrdiff_t>(std::min(count, closes_.size()))};
    }

private:
    static child_process start(std::vector<std::string> argv, std::vector<std::string> env)
    {
        wsload::test::child_options o;
        o.extra_env = std::move(env);
        return child_process(std::move(argv), o);
    }
    static std::chrono::milliseconds remaining(std::chrono::steady_clock::time_point deadline)
    {
        return std::max(0ms, std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()));
    }

    std::string name_;
    scheme scheme_;
    child_process process_;
    std::uint16_t port_ = 0;
    std::vector<int> closes_;
};

std::string servers_dir() { return WSLOAD_INTEROP_SERVERS_DIR; }

/// `deflate`: the server accepts permessage-deflate (--deflate), as websockets does by default.
struct python_websockets_server : echo_script_server {
    explicit python_websockets_server(scheme s = scheme::ws, bool deflate = false)
        : echo_script_server("python3-websockets echo_server.py", arguments(s, deflate), {}, s)
    {}

private:
    static std::vector<std::string> arguments(scheme s, bool deflate)
    {
        std::vector<std::string> argv{WSLOAD_PYTHON, servers_dir() + "/echo_server.py", "--port", "0"};
        if (s == scheme::wss)
            argv.insert(argv.end(), {"--tls-cert", tls_certificate().cert(), "--tls-key", tls_certificate().key()});
        if (deflate) argv.push_back("--deflate");
        return argv;
    }
};

struct node_ws_server : echo_script_server {
    explicit node_ws_server(bool deflate = false)
        : echo_script_server("node-ws echo_server.js", arguments(deflate), {"NODE_PATH=" WSLOAD_NODE_PATH})
    {}

private:
    static std::vector<std::string> arguments(bool deflate)
    {
        std::vector<std::string> argv{WSLOAD_NODE, servers_dir() + "/echo_server.js", "--port", "0"};
        if (deflate) argv.push_back("--deflate");
        return argv;
    }
};

/// The TCP port process `pid` listens on, from /proc (for servers that do not print theirs):
/// its sockets' inodes matched with the LISTEN rows of its net/tcp and net/tcp6. 0 if none yet.
std::uint16_t listening_port(pid_t pid)
{
    const std::filesystem::path proc = "/proc/" + std::to_string(pid);
    std::set<std::string> inodes;
    std::error_code ec;
    for (auto it = std::filesystem::directory_iterator(proc / "fd", ec); !ec && it != std::filesystem::directory_iterator();
         it.increment(ec)) {
        std::error_code link_ec;
        const auto target = std::filesystem::read_symlink(it->path(), link_ec).string();
        if (!link_ec && target.starts_with("socket:[")) inodes.insert(target.substr(8, target.size() - 9));
    }
    for (const char* table : {"net/tcp", "net/tcp6"}) {
        std::ifstream in(proc / table);
        std::string row;
        std::getline(in, row);  // the header
        while (std::getline(in, row)) {
            // sl local rem st tx:rx tr:when retrnsmt uid timeout inode ...
            std::istringstream fields(row);
            std::string slot, local, remote, state, queues, timer, retransmits, uid, timeout, inode;
            fields >> slot >> local >> remote >> state >> queues >> timer >> retransmits >> uid >> timeout >> inode;
            if (state == "0A" && inodes.contains(inode))
                return static_cast<std::uint16_t>(std::stoul(local.substr(local.rfind(':') + 1), nullptr, 16));
        }
    }
    return 0;
}

/// libwebsockets-test-server on loopback (--interface=lo), port 0. It prints no port, so the
/// port is read from /proc once the process listens: polled every 10 ms, bounded. Its log is
/// errors only, and not captured (a pipe nobody reads could block it).
class lws_test_server {
public:
    lws_test_server() : process_(arguments(), quiet())
    {
        const auto deadline = std::chrono::steady_clock::now() + ready_timeout;
        while ((port_ = listening_port(process_.pid())) == 0) {
            if (!process_.running()) throw std::runtime_error("libwebsockets-test-server exited before listening");
            if (std::chrono::steady_clock::now() > deadline) {
                stop_process(process_, SIGKILL);
                throw std::runtime_error("libwebsockets-test-server did not listen within " +
                                         std::to_string(ready_timeout.count()) + " s");
            }
            std::this_thread::sleep_for(10ms);
        }
    }
    lws_test_server(const lws_test_server&) = delete;
    lws_test_server& operator=(const lws_test_server&) = delete;
    ~lws_test_server() { stop_process(process_); }

    std::string url(std::string_view path = "/") const
    {
        return "ws://127.0.0.1:" + std::to_string(port_) + std::string(path);
    }

private:
    static std::vector<std::string> arguments()
    {
        return {WSLOAD_LWS_TEST_SERVER, "--port=0", "--interface=lo", "-d", "1"};
    }
    static wsload::test::child_options quiet()
    {
        wsload::test::child_options o;
        o.capture_stdout = false;
        o.capture_stderr = false;
        return o;
    }

    child_process process_;
    std::uint16_t port_ = 0;
};

/// The bundled im_server (Beast), echoing on /ws; over wss:// with the module's certificate.
class im_server {
public:
    explicit im_server(std::vector<std::string> extra_args = {}, scheme s = scheme::ws)
        : scheme_(s), process_(WSLOAD_IM_SERVER, arguments(std::move(extra_args), s))
    {}
    std::string url() const
    {
        return scheme_prefix(scheme_) + "127.0.0.1:" + std::to_string(process_.port()) + "/ws";
    }

private:
    static std::vector<std::string> arguments(std::vector<std::string> extra, scheme s)
    {
        if (s == scheme::wss)
            extra.insert(extra.end(), {"--tls-cert", tls_certificate().cert(), "--tls-key", tls_certificate().key()});
        return extra;
    }

    scheme scheme_;
    wsload::test::im_server_process process_;  // stopped (SIGTERM, then SIGKILL) by its destructor
};

// ------------------------------------------------------------------------------------------
// Runs and payloads

constexpr std::array<std::size_t, 6> frame_length_boundaries{0, 125, 126, 65535, 65536, 1 << 20};
constexpr std::size_t boundaries_total =
    std::accumulate(frame_length_boundaries.begin(), frame_length_boundaries.end(), std::size_t{0});

/// The same and, around one TLS record (16,384 bytes of plaintext), a frame of exactly one
/// record from the client (16,376 + an 8-byte masked header) and from the server (16,380 + 4),
/// a 16 KiB message, and one byte more: messages that end at a record's edge, just after it,
/// or span many records.
constexpr std::array<std::size_t, 10> tls_record_boundaries{0,     125,   126,   16376, 16380,
                                                            16384, 16385, 65535, 65536, 1 << 20};

wsload::run_config config_for(const std::string& url, std::uint64_t users, unsigned threads = 2)
{
    wsload::run_config c;
    c.name = "interop";
    c.target = wsload::net::parse_url(url);
    c.users = users;
    c.duration = 60s;  // an upper bound: the run ends when every behaviour has returned
    c.threads = threads;
    c.quiet = true;
    c.ws_layer = wsload::test::layer_under_test();
    // Verified, not --insecure: the certificate is checked against its CA and the host.
    if (url.starts_with("wss://")) c.ca_file = tls_certificate().cert();
    return c;
}

/// Runs `b`; over wss:// checks that every connection opened went through TLS (its TLS phase
/// timed once) and over ws:// that none did.
wsload::runtime::run_result run(wsload::run_config config, wsload::runtime::behavior b)
{
    const bool tls = config.target && config.target->tls;
    wsload::runtime::engine engine(std::move(config), std::move(b));
    auto r = engine.run();
    const auto& t = *r.totals;
    BOOST_TEST(t[stats::histogram_id::connect_tls].count() == (tls ? t[counter_id::connect_successes] : 0u));
    return r;
}

/// `size` bytes, different for each user: printable ASCII for text, every byte value for
/// binary (0x00 and 0xff included, so not UTF-8: a server that turned it into text would fail).
std::string payload(std::size_t size, bool binary, std::uint64_t user)
{
    std::string p(size, '\0');
    for (std::size_t i = 0; i < size; ++i)
        p[i] = binary ? static_cast<char>((i * 7 + user) & 0xff) : static_cast<char>('!' + (i + user) % 94);
    return p;
}

std::uint64_t close_code_total(const stats::totals& t)
{
    return std::accumulate(t.close_codes.begin(), t.close_codes.end(), std::uint64_t{0});
}

/// Every user connected once, nothing failed, every connection ended, no behaviour threw.
void check_every_connection_opened_and_ended(const stats::totals& t, std::uint64_t users)
{
    BOOST_TEST(t[counter_id::connect_attempts] == users);
    BOOST_TEST(t[counter_id::connect_successes] == users);
    BOOST_TEST(t.failures() == 0u);
    BOOST_TEST(t.disconnect_total() == users);
    BOOST_TEST(t[counter_id::active_connections] == 0u);
    BOOST_TEST(t[counter_id::users_finished] == users);
    BOOST_TEST(t[counter_id::behaviour_errors] == 0u);
}

/// Every connection was ended by the client's own close: client_close, and no per-code count.
void check_closed_by_client(const stats::totals& t, std::uint64_t users)
{
    BOOST_TEST(t.ended(disconnect_reason::client_close) == users);
    BOOST_TEST(close_code_total(t) == 0u);  // per-code counts are for server closes only
}

disconnect_reason expected_reason(int server_close_code)
{
    switch (server_close_code) {
    case 1000: return disconnect_reason::normal;
    case 1001: return disconnect_reason::going_away;
    default: return disconnect_reason::server_close;
    }
}

// ------------------------------------------------------------------------------------------
// Cases shared by the echo servers (python3-websockets, node-ws, im_server)

/// 4 users each send a message of every length in `lengths` (by default the frame-length
/// boundaries: 7-bit, 16-bit and 64-bit lengths) and check the echo byte for byte, with its type.
void check_echo_at_length_boundaries(const std::string& url, bool binary,
                                     std::span<const std::size_t> lengths = frame_length_boundaries)
{
    constexpr std::uint64_t users = 4;
    std::vector<std::atomic<int>> echoed(lengths.size());
    const std::uint64_t lengths_total = std::accumulate(lengths.begin(), lengths.end(), std::uint64_t{0});
    const auto r = run(config_for(url, users), [&](wsload::user& u) -> wsload::task<> {
        auto ws = co_await u.websocket(url);
        if (!ws) co_return;
        for (std::size_t i = 0; i < lengths.size(); ++i) {
            const std::string data = payload(lengths[i], binary, u.index());
            bool sent = false;
            if (binary)
                sent = co_await ws.send_binary(data);
            else
                sent = co_await ws.send(data);
            auto reply = co_await ws.receive(10s);
            if (sent && reply && reply->binary == binary && reply->data == data) ++echoed[i];
        }
        co_await ws.close(1000);
    });
    const auto& t = *r.totals;
    for (std::size_t i = 0; i < lengths.size(); ++i)
        BOOST_TEST_CONTEXT("a message of " << lengths[i] << " bytes")
        BOOST_TEST(echoed[i] == static_cast<int>(users));
    BOOST_TEST(t[counter_id::messages_sent] == users * lengths.size());
    BOOST_TEST(t[counter_id::messages_received] == users * lengths.size());
    BOOST_TEST(t[counter_id::bytes_sent] == users * lengths_total);
    BOOST_TEST(t[counter_id::bytes_received] == users * lengths_total);
    BOOST_TEST(t[counter_id::requests_sent] == 0u);
    check_every_connection_opened_and_ended(t, users);
    check_closed_by_client(t, users);
}

/// 4 users send a 10,000-byte text and binary message as 1,000-byte frames; the server
/// reassembles and echoes each. `server` (when it can tell) reports 10 frames for each.
void check_fragmented_send(const std::string& url, echo_script_server* server)
{
    constexpr std::uint64_t users = 4;
    constexpr std::size_t size = 10'000;
    std::atomic<int> text_echoed{0}, binary_echoed{0}, ten_frames{0};
    const bool ask_frames = server != nullptr;
    const auto r = run(config_for(url, users), [&](wsload::user& u) -> wsload::task<> {
        auto options = wsload::websocket_options().fragment_size(1000);
        auto ws = co_await u.websocket(url, options);
        if (!ws) co_return;
        for (bool binary : {false, true}) {
            const std::string data = payload(size, binary, u.index());
            if (binary)
                co_await ws.send_binary(data);
            else
                co_await ws.send(data);
            auto reply = co_await ws.receive(10s);
            if (reply && reply->binary == binary && reply->data == data) ++(binary ? binary_echoed : text_echoed);
            if (!ask_frames) continue;
            co_await ws.send("frames?");
            auto frames = co_await ws.receive(10s);
            if (frames && frames->data == "frames:10") ++ten_frames;
        }
        co_await ws.close(1000);
    });
    const auto& t = *r.totals;
    BOOST_TEST(text_echoed == static_cast<int>(users));
    BOOST_TEST(binary_echoed == static_cast<int>(users));
    const std::uint64_t queries = ask_frames ? 2 : 0;
    if (ask_frames) BOOST_TEST(ten_frames == static_cast<int>(users * 2));
    BOOST_TEST(t[counter_id::messages_sent] == users * (2 + queries));
    BOOST_TEST(t[counter_id::messages_received] == users * (2 + queries));
    BOOST_TEST(t[counter_id::bytes_sent] == users * (2 * size + queries * std::string_view("frames?").size()));
    BOOST_TEST(t[counter_id::bytes_received] == users * (2 * size + queries * std::string_view("frames:10").size()));
    check_every_connection_opened_and_ended(t, users);
    check_closed_by_client(t, users);
}

/// One user pings every 200 ms; once its third pong is in (the fourth ping is ~200 ms away)
/// it closes: exactly 3 pings, 3 pongs, none missed. `subprotocol` is asked for when not empty.
void check_heartbeat(const std::string& url, std::string subprotocol = {})
{
    std::atomic<bool> open{false};
    const auto r = run(config_for(url, 1, 1), [&](wsload::user& u) -> wsload::task<> {
        auto options = wsload::websocket_options().subprotocol(subprotocol);
        auto ws = co_await u.websocket(url, options);
        if (!ws) co_return;
        ws.heartbeat(200ms);
        const auto& shard = u.worker().stats();  // one user on one thread: these figures are its own
        const auto deadline = wsload::clock::now() + 10s;
        while (ws.is_open() && shard.counters[static_cast<std::size_t>(counter_id::pongs_received)].get() < 3 &&
               wsload::clock::now() < deadline)
            co_await u.think(2ms);
        open = ws.is_open();
        co_await ws.close(1000);
    });
    const auto& t = *r.totals;
    BOOST_TEST(open.load());
    BOOST_TEST(t[counter_id::pings_sent] == 3u);
    BOOST_TEST(t[counter_id::pongs_received] == 3u);
    BOOST_TEST(t[counter_id::pongs_missed] == 0u);
    BOOST_TEST(t[stats::histogram_id::ping_round_trip].count() == 3u);
    check_every_connection_opened_and_ended(t, 1);
    check_closed_by_client(t, 1);
}

/// 10 users echo one message, then close with `code`: each ends once, as client_close, and
/// `server` (when it can tell) received that code from each.
void check_client_close(const std::string& url, std::uint16_t code, echo_script_server* server)
{
    constexpr std::uint64_t users = 10;
    std::atomic<int> echoed{0}, closed{0};
    const auto r = run(config_for(url, users), [&](wsload::user& u) -> wsload::task<> {
        auto ws = co_await u.websocket(url);
        if (!ws) co_return;
        const std::string text = "before closing " + u.id();
        co_await ws.send(text);
        if (auto reply = co_await ws.receive(10s); reply && reply->data == text) ++echoed;
        co_await ws.close(code);
        if (!ws.is_open() && ws.end_reason() == disconnect_reason::client_close) ++closed;
    });
    const auto& t = *r.totals;
    BOOST_TEST(echoed == static_cast<int>(users));
    BOOST_TEST(closed == static_cast<int>(users));
    BOOST_TEST(t[counter_id::messages_sent] == users);
    BOOST_TEST(t[counter_id::messages_received] == users);
    check_every_connection_opened_and_ended(t, users);
    check_closed_by_client(t, users);
    if (server) {
        const auto codes = server->close_codes(users);
        BOOST_TEST(codes.size() == users);
        for (int c : codes) BOOST_TEST(c == code);
    }
}

/// 10 users ask the server to close with `code`: each connection ends once, in the class the
/// code belongs to, and codes outside 1000-1002 are counted per code.
void check_server_close(echo_script_server& server, int code)
{
    constexpr std::uint64_t users = 10;
    const auto url = server.url();
    const auto expected = expected_reason(code);
    std::atomic<int> classified{0};
    const auto r = run(config_for(url, users), [&](wsload::user& u) -> wsload::task<> {
        auto ws = co_await u.websocket(url);
        if (!ws) co_return;
        const std::string command = "close:" + std::to_string(code) + ":bye from the server";
        co_await ws.send(command);
        co_await ws.wait_closed();  // bounded by the run's duration
        if (ws.end_reason() == expected) ++classified;
    });
    const auto& t = *r.totals;
    BOOST_TEST(classified == static_cast<int>(users));
    BOOST_TEST(t.ended(expected) == users);
    BOOST_TEST(close_code_total(t) == (expected == disconnect_reason::server_close ? users : 0u));
    BOOST_TEST(t.close_codes[static_cast<std::size_t>(code)] ==
               (expected == disconnect_reason::server_close ? users : 0u));
    BOOST_TEST(t[counter_id::messages_sent] == users);
    BOOST_TEST(t[counter_id::messages_received] == 0u);
    check_every_connection_opened_and_ended(t, users);
    // The client answers the server's close with the same code.
    const auto codes = server.close_codes(users);
    BOOST_TEST(codes.size() == users);
    for (int c : codes) BOOST_TEST(c == code);
}

/// 10 users wait until the server closes (im_server --close-after, with 1001): each
/// connection ends once, as going_away, which has no per-code count.
void check_server_close_is_going_away(const std::string& url)
{
    constexpr std::uint64_t users = 10;
    std::atomic<int> classified{0};
    const auto r = run(config_for(url, users), [&](wsload::user& u) -> wsload::task<> {
        auto ws = co_await u.websocket(url);
        if (!ws) co_return;
        co_await ws.wait_closed();
        if (ws.end_reason() == disconnect_reason::going_away) ++classified;
    });
    const auto& t = *r.totals;
    BOOST_TEST(classified == static_cast<int>(users));
    BOOST_TEST(t.ended(disconnect_reason::going_away) == users);
    BOOST_TEST(close_code_total(t) == 0u);
    check_every_connection_opened_and_ended(t, users);
}

/// 1,000 users connect at once; each echoes one message as a request (round trip recorded) and
/// stays open until all 1,000 have, then closes with 1000.
void check_thousand_connections(const std::string& url, echo_script_server* server)
{
    constexpr std::uint64_t users = 1000;
    std::atomic<std::uint64_t> echoed{0}, arrived{0}, all_open_together{0};
    const auto r = run(config_for(url, users), [&](wsload::user& u) -> wsload::task<> {
        auto ws = co_await u.websocket(url);
        if (ws) {
            const std::string text = "hello from " + u.id();
            auto reply = co_await ws.request(text, [&text](std::string_view m) { return m == text; });
            if (reply && !reply->binary && reply->data == text) ++echoed;
        }
        ++arrived;  // failures too, so that nobody waits for them
        while (arrived.load() < users && u.running()) co_await u.think(20ms);
        if (!ws) co_return;
        if (ws.is_open()) ++all_open_together;
        co_await ws.close(1000);
    });
    const auto& t = *r.totals;
    std::uint64_t text_bytes = 0;
    for (std::uint64_t i = 0; i < users; ++i) text_bytes += ("hello from u" + std::to_string(i)).size();
    BOOST_TEST(echoed == users);
    BOOST_TEST(all_open_together == users);
    BOOST_TEST(t[counter_id::messages_sent] == users);
    BOOST_TEST(t[counter_id::messages_received] == users);
    BOOST_TEST(t[counter_id::bytes_sent] == text_bytes);
    BOOST_TEST(t[counter_id::bytes_received] == text_bytes);
    BOOST_TEST(t[counter_id::requests_sent] == users);
    BOOST_TEST(t[counter_id::requests_answered] == users);
    BOOST_TEST(t[counter_id::requests_timed_out] + t[counter_id::requests_failed] == 0u);
    BOOST_TEST(t[stats::histogram_id::round_trip].count() == users);
    check_every_connection_opened_and_ended(t, users);
    check_closed_by_client(t, users);
    if (server) {
        const auto codes = server->close_codes(users);
        BOOST_TEST(codes.size() == users);
        BOOST_TEST(std::count(codes.begin(), codes.end(), 1000) == static_cast<std::ptrdiff_t>(users));
    }
}

}  // namespace

// ------------------------------------------------------------------------------------------

BOOST_AUTO_TEST_SUITE(python_websockets)

BOOST_AUTO_TEST_CASE(text_echo_at_frame_length_boundaries, *boost::unit_test::timeout(60))
{
    python_websockets_server server;
    check_echo_at_length_boundaries(server.url(), false);
}

BOOST_AUTO_TEST_CASE(binary_echo_at_frame_length_boundaries, *boost::unit_test::timeout(60))
{
    python_websockets_server server;
    check_echo_at_length_boundaries(server.url(), true);
}

BOOST_AUTO_TEST_CASE(fragmented_sends_arrive_as_ten_frames_and_reassemble, *boost::unit_test::timeout(60))
{
    python_websockets_server server;
    check_fragmented_send(server.url(), &server);
}

BOOST_AUTO_TEST_CASE(heartbeat_pings_are_answered, *boost::unit_test::timeout(60))
{
    python_websockets_server server;
    check_heartbeat(server.url());
}

BOOST_TEST_DECORATOR(*boost::unit_test::timeout(60))
BOOST_DATA_TEST_CASE(client_close_with_code, bdata::make({1000, 4000}), code)
{
    python_websockets_server server;
    check_client_close(server.url(), static_cast<std::uint16_t>(code), &server);
}

BOOST_TEST_DECORATOR(*boost::unit_test::timeout(60))
BOOST_DATA_TEST_CASE(server_close_with_code, bdata::make({1000, 1001, 4001}), code)
{
    python_websockets_server server;
    check_server_close(server, code);
}

BOOST_AUTO_TEST_CASE(thousand_concurrent_connections, *boost::unit_test::timeout(120))
{
    python_websockets_server server;
    check_thousand_connections(server.url(), &server);
}

BOOST_AUTO_TEST_SUITE_END()

// ------------------------------------------------------------------------------------------
// The same over wss:// (python's ssl module on the server), the certificate verified.

BOOST_AUTO_TEST_SUITE(python_websockets_tls)

BOOST_AUTO_TEST_CASE(text_echo_at_frame_and_record_length_boundaries, *boost::unit_test::timeout(60))
{
    python_websockets_server server(scheme::wss);
    check_echo_at_length_boundaries(server.url(), false, tls_record_boundaries);
}

BOOST_AUTO_TEST_CASE(binary_echo_at_frame_and_record_length_boundaries, *boost::unit_test::timeout(60))
{
    python_websockets_server server(scheme::wss);
    check_echo_at_length_boundaries(server.url(), true, tls_record_boundaries);
}

BOOST_AUTO_TEST_CASE(fragmented_sends_arrive_as_ten_frames_and_reassemble, *boost::unit_test::timeout(60))
{
    python_websockets_server server(scheme::wss);
    check_fragmented_send(server.url(), &server);
}

BOOST_AUTO_TEST_CASE(heartbeat_pings_are_answered, *boost::unit_test::timeout(60))
{
    python_websockets_server server(scheme::wss);
    check_heartbeat(server.url());
}

BOOST_TEST_DECORATOR(*boost::unit_test::timeout(60))
BOOST_DATA_TEST_CASE(client_close_with_code, bdata::make({1000, 4000}), code)
{
    python_websockets_server server(scheme::wss);
    check_client_close(server.url(), static_cast<std::uint16_t>(code), &server);
}

BOOST_TEST_DECORATOR(*boost::unit_test::timeout(60))
BOOST_DATA_TEST_CASE(server_close_with_code, bdata::make({1000, 1001, 4001}), code)
{
    python_websockets_server server(scheme::wss);
    check_server_close(server, code);
}

BOOST_AUTO_TEST_CASE(thousand_concurrent_connections, *boost::unit_test::timeout(120))
{
    python_websockets_server server(scheme::wss);
    check_thousand_connections(server.url(), &server);
}

BOOST_AUTO_TEST_SUITE_END()

// ------------------------------------------------------------------------------------------

BOOST_AUTO_TEST_SUITE(node_ws)

BOOST_AUTO_TEST_CASE(text_echo_at_frame_length_boundaries, *boost::unit_test::timeout(60))
{
    node_ws_server server;
    check_echo_at_length_boundaries(server.url(), false);
}

BOOST_AUTO_TEST_CASE(binary_echo_at_frame_length_boundaries, *boost::unit_test::timeout(60))
{
    node_ws_server server;
    check_echo_at_length_boundaries(server.url(), true);
}

BOOST_AUTO_TEST_CASE(fragmented_sends_arrive_as_ten_frames_and_reassemble, *boost::unit_test::timeout(60))
{
    node_ws_server server;
    check_fragmented_send(server.url(), &server);
}

BOOST_AUTO_TEST_CASE(heartbeat_pings_are_answered, *boost::unit_test::timeout(60))
{
    node_ws_server server;
    check_heartbeat(server.url());
}

BOOST_TEST_DECORATOR(*boost::unit_test::timeout(60))
BOOST_DATA_TEST_CASE(client_close_with_code, bdata::make({1000, 4000}), code)
{
    node_ws_server server;
    check_client_close(server.url(), static_cast<std::uint16_t>(code), &server);
}

BOOST_TEST_DECORATOR(*boost::unit_test::timeout(60))
BOOST_DATA_TEST_CASE(server_close_with_code, bdata::make({1000, 1001, 4001}), code)
{
    node_ws_server server;
    check_server_close(server, code);
}

BOOST_AUTO_TEST_CASE(thousand_concurrent_connections, *boost::unit_test::timeout(120))
{
    node_ws_server server;
    check_thousand_connections(server.url(), &server);
}

BOOST_AUTO_TEST_SUITE_END()

// ------------------------------------------------------------------------------------------

BOOST_AUTO_TEST_SUITE(im_server_beast)

BOOST_AUTO_TEST_CASE(text_echo_at_frame_length_boundaries, *boost::unit_test::timeout(60))
{
    im_server server;
    check_echo_at_length_boundaries(server.url(), false);
}

BOOST_AUTO_TEST_CASE(binary_echo_at_frame_length_boundaries, *boost::unit_test::timeout(60))
{
    im_server server;
    check_echo_at_length_boundaries(server.url(), true);
}

BOOST_AUTO_TEST_CASE(fragmented_sends_reassemble, *boost::unit_test::timeout(60))
{
    im_server server;
    check_fragmented_send(server.url(), nullptr);
}

BOOST_AUTO_TEST_CASE(heartbeat_pings_are_answered, *boost::unit_test::timeout(60))
{
    im_server server;
    check_heartbeat(server.url());
}

BOOST_TEST_DECORATOR(*boost::unit_test::timeout(60))
BOOST_DATA_TEST_CASE(client_close_with_code, bdata::make({1000, 4000}), code)
{
    im_server server;
    check_client_close(server.url(), static_cast<std::uint16_t>(code), nullptr);
}

// im_server closes on its own only with 1001: after --close-after, or when it shuts down.
BOOST_AUTO_TEST_CASE(server_close_after_a_while_is_going_away, *boost::unit_test::timeout(60))
{
    im_server server({"--close-after", "300ms"});
    check_server_close_is_going_away(server.url());
}

BOOST_AUTO_TEST_CASE(thousand_concurrent_connections, *boost::unit_test::timeout(120))
{
    im_server server;
    check_thousand_connections(server.url(), nullptr);
}

BOOST_AUTO_TEST_SUITE_END()

// ------------------------------------------------------------------------------------------
// The same over wss:// (Beast over asio's ssl::stream on the server), the certificate verified.

BOOST_AUTO_TEST_SUITE(im_server_beast_tls)

BOOST_AUTO_TEST_CASE(text_echo_at_frame_and_record_length_boundaries, *boost::unit_test::timeout(60))
{
    im_server server({}, scheme::wss);
    check_echo_at_length_boundaries(server.url(), false, tls_record_boundaries);
}

BOOST_AUTO_TEST_CASE(binary_echo_at_frame_and_record_length_boundaries, *boost::unit_test::timeout(60))
{
    im_server server({}, scheme::wss);
    check_echo_at_length_boundaries(server.url(), true, tls_record_boundaries);
}

BOOST_AUTO_TEST_CASE(fragmented_sends_reassemble, *boost::unit_test::timeout(60))
{
    im_server server({}, scheme::wss);
    check_fragmented_send(server.url(), nullptr);
}

BOOST_AUTO_TEST_CASE(heartbeat_pings_are_answered, *boost::unit_test::timeout(60))
{
    im_server server({}, scheme::wss);
    check_heartbeat(server.url());
}

BOOST_TEST_DECORATOR(*boost::unit_test::timeout(60))
BOOST_DATA_TEST_CASE(client_close_with_code, bdata::make({1000, 4000}), code)
{
    im_server server({}, scheme::wss);
    check_client_close(server.url(), static_cast<std::uint16_t>(code), nullptr);
}

BOOST_AUTO_TEST_CASE(server_close_after_a_while_is_going_away, *boost::unit_test::timeout(60))
{
    im_server server({"--close-after", "300ms"}, scheme::wss);
    check_server_close_is_going_away(server.url());
}

BOOST_AUTO_TEST_CASE(thousand_concurrent_connections, *boost::unit_test::timeout(120))
{
    im_server server({}, scheme::wss);
    check_thousand_connections(server.url(), nullptr);
}

BOOST_AUTO_TEST_SUITE_END()

// ------------------------------------------------------------------------------------------
// libwebsockets-test-server: no echo to one client alone, so each check asserts what its
// protocols do (see the top of this file).

namespace {

constexpr std::string_view mirror_protocol = "lws-mirror-protocol";
constexpr std::string_view increment_protocol = "dumb-increment-protocol";

wsload::websocket_options with_protocol(std::string_view p)
{
    return wsload::websocket_options().subprotocol(std::string(p));
}

/// Receives until `data.size()` bytes have come back (the mirror cuts a message wherever its
/// reads end) or 10 s pass; true if they equal `data` and every piece was text. `pieces`
/// counts the messages. The references are to the awaiting behaviour's frame, which outlives
/// this coroutine.
wsload::task<bool> receive_mirrored(wsload::websocket& ws, const std::string& data, int& pieces)
{
    std::string back;
    bool all_text = true;
    const auto deadline = wsload::clock::now() + 10s;
    do {
        auto m = co_await ws.receive(std::chrono::duration_cast<std::chrono::nanoseconds>(deadline - wsload::clock::now()));
        if (!m) break;
        ++pieces;
        all_text = all_text && !m->binary;
        back += m->data;
    } while (back.size() < data.size() && wsload::clock::now() < deadline);
    co_return all_text && back == data;
}

/// 3 users, each alone on its own mirror instance, send every frame-length boundary and get
/// it back as text, whatever type they sent (binary payloads are ASCII here: the mirror turns
/// them into text and may cut them anywhere).
void check_mirror_at_length_boundaries(bool binary)
{
    lws_test_server server;
    constexpr std::uint64_t users = 3;  // the test server allows 3 mirror instances
    std::array<std::atomic<int>, frame_length_boundaries.size()> mirrored{};
    std::atomic<int> pieces_seen{0};
    const auto base = server.url();
    const auto r = run(config_for(base, users), [&](wsload::user& u) -> wsload::task<> {
        const auto url = base + "?mirror=wsload-" + u.id();
        // The pieces of a long message come back while it is still being sent, when nobody
        // receives: the inbox must hold them all (1 MiB is ~256 pieces or more).
        auto options = with_protocol(mirror_protocol).inbox_limit(1 << 16);
        auto ws = co_await u.websocket(url, options);
        if (!ws) co_return;
        int pieces = 0;
        for (std::size_t i = 0; i < frame_length_boundaries.size(); ++i) {
            const std::string data = payload(frame_length_boundaries[i], false, u.index());
            if (binary)
                co_await ws.send_binary(data);
            else
                co_await ws.send(data);
            const int before = pieces;
            const bool same = co_await receive_mirrored(ws, data, pieces);
            // A message that fits one read comes back whole, the empty one included.
            const bool whole = frame_length_boundaries[i] > 126 || pieces - before == 1;
            if (same && whole) ++mirrored[i];
        }
        pieces_seen += pieces;
        co_await ws.close(1000);
    });
    const auto& t = *r.totals;
    for (std::size_t i = 0; i < frame_length_boundaries.size(); ++i)
        BOOST_TEST_CONTEXT("a message of " << frame_length_boundaries[i] << " bytes")
        BOOST_TEST(mirrored[i] == static_cast<int>(users));
    BOOST_TEST(t[counter_id::messages_sent] == users * frame_length_boundaries.size());
    BOOST_TEST(t[counter_id::bytes_sent] == users * boundaries_total);
    BOOST_TEST(t[counter_id::bytes_received] == users * boundaries_total);
    BOOST_TEST(t[counter_id::messages_received] == static_cast<std::uint64_t>(pieces_seen.load()));
    BOOST_TEST(t[counter_id::messages_received] >= users * frame_length_boundaries.size());
    check_every_connection_opened_and_ended(t, users);
    check_closed_by_client(t, users);
}

/// 10 users ask the test server for a subprotocol it does not have.
wsload::runtime::run_result run_with_unknown_subprotocol(const lws_test_server& server, std::uint64_t users,
                                                         std::atomic<int>& refused)
{
    const auto url = server.url();
    return run(config_for(url, users), [&refused, url](wsload::user& u) -> wsload::task<> {
        auto ws = co_await u.websocket(url, with_protocol("no-such-protocol"));
        if (!ws) ++refused;
    });
}

}  // namespace

BOOST_AUTO_TEST_SUITE(libwebsockets_test_server)

BOOST_AUTO_TEST_CASE(mirror_returns_text_at_frame_length_boundaries, *boost::unit_test::timeout(60))
{
    check_mirror_at_length_boundaries(false);
}

BOOST_AUTO_TEST_CASE(mirror_returns_binary_as_text_at_frame_length_boundaries, *boost::unit_test::timeout(60))
{
    check_mirror_at_length_boundaries(true);
}

// The mirror hands on each frame by itself: a message sent as ten 1,000-byte frames comes
// back as at least ten text messages that add up to it.
BOOST_AUTO_TEST_CASE(mirror_returns_fragmented_sends_frame_by_frame, *boost::unit_test::timeout(60))
{
    lws_test_server server;
    constexpr std::uint64_t users = 3;
    constexpr std::size_t size = 10'000;
    std::atomic<int> mirrored{0}, pieces_seen{0}, at_least_one_per_frame{0};
    const auto base = server.url();
    const auto r = run(config_for(base, users), [&](wsload::user& u) -> wsload::task<> {
        const auto url = base + "?mirror=wsload-" + u.id();
        auto options = with_protocol(mirror_protocol).fragment_size(1000).inbox_limit(1 << 16);
        auto ws = co_await u.websocket(url, options);
        if (!ws) co_return;
        const std::string data = payload(size, false, u.index());
        co_await ws.send(data);
        int pieces = 0;
        if (co_await receive_mirrored(ws, data, pieces)) ++mirrored;
        if (pieces >= 10) ++at_least_one_per_frame;
        pieces_seen += pieces;
        co_await ws.close(1000);
    });
    const auto& t = *r.totals;
    BOOST_TEST(mirrored == static_cast<int>(users));
    BOOST_TEST(at_least_one_per_frame == static_cast<int>(users));
    BOOST_TEST(t[counter_id::messages_sent] == users);
    BOOST_TEST(t[counter_id::bytes_sent] == users * size);
    BOOST_TEST(t[counter_id::bytes_received] == users * size);
    BOOST_TEST(t[counter_id::messages_received] == static_cast<std::uint64_t>(pieces_seen.load()));
    check_every_connection_opened_and_ended(t, users);
    check_closed_by_client(t, users);
}

// dumb-increment: each connection counts from 0, one number per message; `reset\n` restarts
// the count and `closeme\n` makes the server close with 1001.
BOOST_AUTO_TEST_CASE(increment_counts_by_one_restarts_on_reset_and_closes_on_request, *boost::unit_test::timeout(60))
{
    lws_test_server server;
    constexpr std::uint64_t users = 4;
    std::atomic<int> counted_from_zero{0}, restarted{0}, went_away{0}, taken{0};
    const auto url = server.url();
    const auto r = run(config_for(url, users), [&](wsload::user& u) -> wsload::task<> {
        auto ws = co_await u.websocket(url, with_protocol(increment_protocol));
        if (!ws) co_return;
        int n = 0;
        bool in_order = true;
        for (int expected = 0; expected < 5; ++expected) {
            auto m = co_await ws.receive(5s);
            n += m.has_value();
            in_order = in_order && m && !m->binary && m->data == std::to_string(expected);
        }
        if (in_order) ++counted_from_zero;

        // Numbers already on their way still come; then 0, 1, 2 again.
        co_await ws.send("reset\n");
        std::optional<wsload::message> m;
        for (int i = 0; i < 50; ++i) {
            m = co_await ws.receive(5s);
            n += m.has_value();
            if (!m || m->data == "0") break;
        }
        bool again = m && m->data == "0";
        for (int expected = 1; again && expected < 3; ++expected) {
            m = co_await ws.receive(5s);
            n += m.has_value();
            again = m && m->data == std::to_string(expected);
        }
        if (again) ++restarted;

        co_await ws.send("closeme\n");
        co_await ws.wait_closed();
        if (ws.end_reason() == disconnect_reason::going_away) ++went_away;
        taken += n;
    });
    const auto& t = *r.totals;
    BOOST_TEST(counted_from_zero == static_cast<int>(users));
    BOOST_TEST(restarted == static_cast<int>(users));
    BOOST_TEST(went_away == static_cast<int>(users));
    BOOST_TEST(t.ended(disconnect_reason::going_away) == users);
    BOOST_TEST(close_code_total(t) == 0u);
    BOOST_TEST(t[counter_id::messages_sent] == users * 2);
    // Every message taken was counted; more may have arrived unclaimed before the close.
    BOOST_TEST(t[counter_id::messages_received] >= static_cast<std::uint64_t>(taken.load()));
    check_every_connection_opened_and_ended(t, users);
}

BOOST_AUTO_TEST_CASE(heartbeat_pings_are_answered_while_numbers_arrive, *boost::unit_test::timeout(60))
{
    lws_test_server server;
    check_heartbeat(server.url(), std::string(increment_protocol));
}

// The first message on a dumb-increment connection is "0": proof it was open, then the
// client closes with `code`.
BOOST_TEST_DECORATOR(*boost::unit_test::timeout(60))
BOOST_DATA_TEST_CASE(client_close_with_code, bdata::make({1000, 4000}), code)
{
    lws_test_server server;
    constexpr std::uint64_t users = 10;
    std::atomic<int> first_was_zero{0}, closed{0};
    const auto url = server.url();
    const auto r = run(config_for(url, users), [&](wsload::user& u) -> wsload::task<> {
        auto ws = co_await u.websocket(url, with_protocol(increment_protocol));
        if (!ws) co_return;
        if (auto m = co_await ws.receive(5s); m && m->data == "0") ++first_was_zero;
        co_await ws.close(static_cast<std::uint16_t>(code));
        if (!ws.is_open() && ws.end_reason() == disconnect_reason::client_close) ++closed;
    });
    const auto& t = *r.totals;
    BOOST_TEST(first_was_zero == static_cast<int>(users));
    BOOST_TEST(closed == static_cast<int>(users));
    BOOST_TEST(t[counter_id::messages_sent] == 0u);
    check_every_connection_opened_and_ended(t, users);
    check_closed_by_client(t, users);
}

// Asked for a subprotocol it does not have, the test server closes the TCP connection without
// answering the upgrade: every attempt fails, in one class, and nothing is established.
BOOST_AUTO_TEST_CASE(an_unknown_subprotocol_is_refused, *boost::unit_test::timeout(60))
{
    lws_test_server server;
    constexpr std::uint64_t users = 10;
    std::atomic<int> refused{0};
    const auto r = run_with_unknown_subprotocol(server, users, refused);
    const auto& t = *r.totals;
    BOOST_TEST(refused == static_cast<int>(users));
    BOOST_TEST(t[counter_id::connect_attempts] == users);
    BOOST_TEST(t[counter_id::connect_successes] == 0u);
    BOOST_TEST(t.failures() == users);
    BOOST_TEST(t.disconnect_total() == 0u);
    BOOST_TEST(t[counter_id::active_connections] == 0u);
    BOOST_TEST(t[counter_id::users_finished] == users);
}

// A FIN from the server before any byte of the upgrade response is `reset` (the peer closed
// the connection during the attempt), not `handshake` (a bad reply): no reply came.
BOOST_AUTO_TEST_CASE(an_upgrade_closed_without_a_reply_is_reset, *boost::unit_test::timeout(60))
{
    lws_test_server server;
    constexpr std::uint64_t users = 10;
    std::atomic<int> refused{0};
    const auto r = run_with_unknown_subprotocol(server, users, refused);
    BOOST_TEST(r.totals->failed(stats::connect_failure::reset) == users);
    BOOST_TEST(r.totals->failed(stats::connect_failure::handshake) == 0u);
}

// 1,000 connections on one mirror instance: once all are open, one user sends one message and
// every connection, the sender's included, receives it exactly once.
BOOST_AUTO_TEST_CASE(thousand_concurrent_connections_receive_one_mirrored_message, *boost::unit_test::timeout(120))
{
    lws_test_server server;
    constexpr std::uint64_t users = 1000;
    const std::string text = "one message for a thousand";
    std::atomic<std::uint64_t> arrived{0}, received{0};
    const auto url = server.url();
    const auto r = run(config_for(url, users), [&](wsload::user& u) -> wsload::task<> {
        auto ws = co_await u.websocket(url, with_protocol(mirror_protocol));
        ++arrived;  // failures too, so that nobody waits for them
        if (!ws) co_return;
        while (arrived.load() < users && u.running()) co_await u.think(20ms);
        if (u.index() == 0) co_await ws.send(text);
        if (auto m = co_await ws.receive(30s); m && !m->binary && m->data == text) ++received;
        co_await ws.close(1000);
    });
    const auto& t = *r.totals;
    BOOST_TEST(received == users);
    BOOST_TEST(t[counter_id::messages_sent] == 1u);
    BOOST_TEST(t[counter_id::messages_received] == users);
    BOOST_TEST(t[counter_id::bytes_received] == users * text.size());
    check_every_connection_opened_and_ended(t, users);
    check_closed_by_client(t, users);
}

BOOST_AUTO_TEST_SUITE_END()

// ------------------------------------------------------------------------------------------
// permessage-deflate (RFC 7692) against servers that compress: python3-websockets (its
// default) and node-ws with perMessageDeflate. The server reports what it agreed to; messages
// of every kind round-trip; a 64 KiB compressible message is counted at its uncompressed size.

namespace {

/// 4 users offer permessage-deflate (`o`), ask the server what it agreed to, then send text
/// and binary messages (a 64 KiB compressible one among them) and check each echo.
void check_compressed_echo(const std::string& url, wsload::deflate_options o)
{
    constexpr std::uint64_t users = 4;
    std::atomic<int> agreed{0}, echoed{0};
    const std::vector<std::size_t> lengths{1, 125, 126, 5000, 65536, 300000};
    std::string compressible;
    while (compressible.size() < 65536) compressible += "{\"type\":\"chat\",\"text\":\"hello again\"} ";
    compressible.resize(65536);
    std::size_t sent = compressible.size() * 2;  // twice: context takeover is exercised
    for (auto n : lengths) sent += 2 * n;
    const auto r = run(config_for(url, users), [&](wsload::user& u) -> wsload::task<> {
        auto ws = co_await u.websocket(wsload::websocket_options().compression(o));
        if (!ws) co_return;
        auto answer = co_await ws.request("extensions?", [](std::string_view m) { return m.starts_with("extensions:"); });
        if (answer && answer->text().starts_with("extensions:permessage-deflate")) ++agreed;
        for (int i = 0; i < 2; ++i) {
            auto e = co_await ws.request(compressible, [&](std::string_view m) { return m == compressible; });
            if (e) ++echoed;
        }
        for (auto n : lengths)
            for (bool binary : {false, true}) {
                const auto p = payload(n, binary, u.index());
                if (binary) co_await ws.send_binary(p);
                else co_await ws.send(p);
                auto m = co_await ws.receive(10s);
                if (m && m->data == p && m->binary == binary) ++echoed;
            }
        co_await ws.close(1000);
    });
    BOOST_TEST(agreed.load() == static_cast<int>(users));
    BOOST_TEST(echoed.load() == static_cast<int>(users * (2 + 2 * lengths.size())));
    // Messages count their uncompressed bytes (plus the two small commands each way).
    BOOST_TEST((*r.totals)[counter_id::bytes_sent] == users * (sent + std::string_view("extensions?").size()));
    check_every_connection_opened_and_ended(*r.totals, users);
    check_closed_by_client(*r.totals, users);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(permessage_deflate_interop)

BOOST_AUTO_TEST_CASE(python_websockets_compresses_with_context_takeover, *boost::unit_test::timeout(120))
{
    python_websockets_server server(scheme::ws, true);
    check_compressed_echo(server.url(), wsload::deflate_options());
}

BOOST_AUTO_TEST_CASE(python_websockets_compresses_without_context_takeover, *boost::unit_test::timeout(120))
{
    python_websockets_server server(scheme::ws, true);
    check_compressed_echo(server.url(),
                          wsload::deflate_options().client_no_context_takeover().server_no_context_takeover().client_max_window_bits(10));
}

BOOST_AUTO_TEST_CASE(node_ws_compresses, *boost::unit_test::timeout(120))
{
    node_ws_server server(true);
    check_compressed_echo(server.url(), wsload::deflate_options().server_max_window_bits(11));
}

BOOST_AUTO_TEST_SUITE_END()
