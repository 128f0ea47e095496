// The lean WebSocket layer (run_config::ws_layer = lean, --ws-layer lean), in-process on
// loopback: the engine runs behaviours against im_server, scripted_server and a small raw peer
// written here (which records every frame the client sends and sends frames byte by byte as a
// case scripts them), and each case asserts exact counts, as the Beast layer's tests do. The
// first cases test the frame parser and the UTF-8 validator without a socket.
//
// This file is compiled in the unity build of wsload_integration: its helpers live in the
// namespace of its test suite, ws_layer_lean (BOOST_AUTO_TEST_SUITE opens that namespace), so
// that the cases find them before any other file's helper of the same name.

#include <support/child_process.hpp>
#include <support/scripted_server.hpp>
#include <wsload/dsl/command_line.hpp>
#include <wsload/runtime/engine.hpp>

#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/websocket/detail/hybi13.hpp>
#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <array>
#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <numeric>
#include <set>

using namespace std::chrono_literals;

namespace ws_layer_lean {

namespace stats = wsload::stats;
namespace wsd = wsload::net::detail;
using stats::counter_id;
using stats::disconnect_reason;

// ------------------------------------------------------------------------------------------
// Running the engine with the lean layer

wsload::run_config lean_config(const std::string& url, std::uint64_t users, unsigned threads = 2)
{
    wsload::run_config c;
    c.name = "ws-layer";
    c.target = wsload::net::parse_url(url);
    c.users = users;
    c.duration = 30s;  // a bound: the run ends when every behaviour has returned
    c.connect_timeout = 5s;
    c.threads = threads;
    c.quiet = true;
    c.ws_layer = wsload::websocket_layer::lean;
    return c;
}

wsload::runtime::run_result lean_run(wsload::run_config c, wsload::runtime::behavior b)
{
    wsload::runtime::engine engine(std::move(c), std::move(b));
    return engine.run();
}

std::string im_url(const wsload::test::im_server_process& s) { return "ws://127.0.0.1:" + std::to_string(s.port()) + "/ws"; }

/// `size` bytes, different per user: printable for text, every byte value for binary.
std::string lean_payload(std::size_t size, bool binary, std::uint64_t user)
{
    std::string p(size, '\0');
    for (std::size_t i = 0; i < size; ++i)
        p[i] = binary ? static_cast<char>((i * 7 + user) & 0xff) : static_cast<char>('!' + (i + user) % 94);
    return p;
}

/// Every attempt counted once, every established connection ended once, in one class.
void lean_check_counted_once(const stats::totals& t, std::uint64_t n)
{
    BOOST_TEST(t[counter_id::connect_attempts] == n);
    BOOST_TEST(t[counter_id::connect_successes] + t.failures() == n);
    BOOST_TEST(t.disconnect_total() == t[counter_id::connect_successes]);
    BOOST_TEST(t[counter_id::active_connections] == 0u);
    BOOST_TEST(t[counter_id::behaviour_errors] == 0u);
    std::uint64_t statuses = 0, codes = 0;
    for (auto v : t.http_statuses) statuses += v;
    for (auto v : t.close_codes) codes += v;
    BOOST_TEST(statuses == t.failed(stats::connect_failure::http_status));
    BOOST_TEST(codes == t.ended(disconnect_reason::server_close));
}

// ------------------------------------------------------------------------------------------
// The parser without a socket

struct parsed {
    std::vector<std::pair<std::string, bool>> messages;
    std::vector<std::string> pings, pongs;
    std::vector<int> closes;
    void on_message(std::string_view d, bool binary) { messages.emplace_back(std::string(d), binary); }
    void on_ping(std::string_view p) { pings.emplace_back(p); }
    void on_pong(std::string_view p) { pongs.emplace_back(p); }
    void on_close(std::uint16_t code, std::string_view) { closes.push_back(code); }
};

/// A server frame as section 5.2 lays it out (unmasked unless `mask`).
std::string server_frame(std::uint8_t opcode, std::string_view payload, bool fin = true, std::uint8_t rsv = 0,
                         bool mask = false, std::optional<std::uint64_t> announce = std::nullopt)
{
    std::string out;
    out += static_cast<char>((fin ? 0x80 : 0) | (rsv & 7) << 4 | opcode);
    const std::uint64_t n = announce.value_or(payload.size());
    const int m = mask ? 0x80 : 0;
    if (n < 126) {
        out += static_cast<char>(m | static_cast<int>(n));
    } else if (n <= 0xFFFF) {
        out += static_cast<char>(m | 126);
        out += static_cast<char>(n >> 8);
        out += static_cast<char>(n & 0xFF);
    } else {
        out += static_cast<char>(m | 127);
        for (int s = 56; s >= 0; s -= 8) out += static_cast<char>((n >> s) & 0xFF);
    }
    if (mask) out += std::string("\x01\x02\x03\x04", 4);
    std::string p(payload);
    if (mask)
        for (std::size_t i = 0; i < p.size(); ++i) p[i] = static_cast<char>(p[i] ^ (1 + i % 4));
    return out + p;
}

std::string close_payload(std::uint16_t code, std::string_view reason = {})
{
    return std::string{static_cast<char>(code >> 8), static_cast<char>(code & 0xFF)} + std::string(reason);
}

/// Feeds `bytes` in pieces of `step` (0 = all at once).
wsd::frame_error feed_in_pieces(wsd::frame_parser& p, const std::string& bytes, std::size_t step, parsed& out,
                                std::size_t max_message = 1 << 20)
{
    if (step == 0) step = bytes.size() ? bytes.size() : 1;
    for (std::size_t i = 0; i < bytes.size(); i += step) {
        const auto e = p.feed(bytes.data() + i, std::min(step, bytes.size() - i), max_message, out);
        if (e != wsd::frame_error::none) return e;
    }
    return wsd::frame_error::none;
}

// ------------------------------------------------------------------------------------------
// A raw peer: a server written byte by byte, on its own thread

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

/// A frame the client sent, as it was on the wire.
struct client_frame {
    bool fin = false, masked = false;
    std::uint8_t rsv = 0, opcode = 0;
    std::uint32_t key = 0;
    std::size_t length_bytes = 0;  ///< 0, 2 or 8: the extended length's size
    std::string payload;           ///< unmasked
    unsigned close_code() const
    {
        return payload.size() >= 2 ? static_cast<unsigned>(static_cast<unsigned char>(payload[0]) << 8 |
                                                            static_cast<unsigned char>(payload[1]))
                                   : 0;
    }
};

/// One connection of the raw peer, handed to the case's script once upgraded.
class raw_peer {
public:
    explicit raw_peer(tcp::socket s) : socket_(std::move(s)) {}

    /// The next client frame (recorded); nullopt at EOF or on an error.
    asio::awaitable<std::optional<client_frame>> read_frame()
    {
        unsigned char h[2];
        auto [ec, n] = co_await asio::async_read(socket_, asio::buffer(h), as_tuple);
        if (ec) {
            eof = true;
            co_return std::nullopt;
        }
        client_frame f;
        f.fin = h[0] & 0x80;
        f.rsv = (h[0] >> 4) & 7;
        f.opcode = h[0] & 0x0F;
        f.masked = h[1] & 0x80;
        std::uint64_t len = h[1] & 0x7F;
        if (len >= 126) {
            f.length_bytes = len == 126 ? 2 : 8;
            unsigned char ext[8];
            auto [ec2, n2] = co_await asio::async_read(socket_, asio::buffer(ext, f.length_bytes), as_tuple);
            if (ec2) co_return std::nullopt;
            len = 0;
            for (std::size_t i = 0; i < f.length_bytes; ++i) len = len << 8 | ext[i];
        }
        unsigned char key[4] = {0, 0, 0, 0};
        if (f.masked) {
            auto [ec3, n3] = co_await asio::async_read(socket_, asio::buffer(key), as_tuple);
            if (ec3) co_return std::nullopt;
            std::memcpy(&f.key, key, 4);
        }
        f.payload.resize(static_cast<std::size_t>(len));
        auto [ec4, n4] = co_await asio::async_read(socket_, asio::buffer(f.payload), as_tuple);
        if (ec4) co_return std::nullopt;
        for (std::size_t i = 0; i < f.payload.size(); ++i) f.payload[i] = static_cast<char>(f.payload[i] ^ key[i % 4]);
        frames.push_back(f);
        co_return f;
    }

    asio::awaitable<void> send(std::string bytes)
    {
        co_await asio::async_write(socket_, asio::buffer(bytes), as_tuple);
    }

    /// Echoes data frames frame by frame and pings as pongs; answers a close with the same
    /// payload and closes TCP (section 7.1.1: the server closes first).
    asio::awaitable<void> echo_until_close()
    {
        while (auto f = co_await read_frame()) {
            if (f->opcode == 0x8) {
                co_await send(server_frame(0x8, f->payload));
                close_tcp();
                co_return;
            }
            if (f->opcode == 0x9) co_await send(server_frame(0xA, f->payload));
            if (f->opcode <= 0x2) co_await send(server_frame(f->opcode, f->payload, f->fin));
        }
    }

    /// Reads (and records) until the client closes TCP.
    asio::awaitable<void> read_until_eof()
    {
        for (;;) {
            // Named: g++ 12 destroys an unnamed temporary of a co_await expression twice.
            const auto f = co_await read_frame();
            if (!f) break;
        }
    }

    /// Keeps the connection open (and unread) for `d`.
    asio::awaitable<void> hold(std::chrono::milliseconds d)
    {
        asio::steady_timer t(socket_.get_executor(), d);
        co_await t.async_wait(as_tuple);
    }

    void close_tcp()
    {
        boost::system::error_code ignored;
        socket_.shutdown(tcp::socket::shutdown_send, ignored);
        socket_.close(ignored);
    }

    std::vector<client_frame> frames;
    bool eof = false;  ///< the client closed TCP (or it broke)

private:
    static constexpr auto as_tuple = asio::as_tuple(asio::use_awaitable);
    tcp::socket socket_;
};

using raw_script = std::function<asio::awaitable<void>(raw_peer&)>;

/// Listens on 127.0.0.1 (port 0); upgrades every connection (the accept computed by Beast's
/// own code, not the layer's), runs `script`, and keeps what each connection saw.
class raw_server {
public:
    /// `receive_buffer` > 0: SO_RCVBUF of the accepted sockets (a small one makes a client
    /// feel back-pressure as soon as the script stops reading).
    explicit raw_server(raw_script script, int receive_buffer = 0) : script_(std::move(script))
    {
        acceptor_.open(tcp::v4());
        acceptor_.set_option(asio::socket_base::reuse_address(true));
        if (receive_buffer > 0) acceptor_.set_option(asio::socket_base::receive_buffer_size(receive_buffer));
        acceptor_.bind({asio::ip::make_address("127.0.0.1"), 0});
        acceptor_.listen(4096);
        port_ = acceptor_.local_endpoint().port();
        asio::co_spawn(io_, accept_loop(), asio::detached);
        thread_ = std::thread([this] { io_.run(); });
    }
    ~raw_server()
    {
        io_.stop();
        thread_.join();
    }
    raw_server(const raw_server&) = delete;
    raw_server& operator=(const raw_server&) = delete;

    std::string url() const { return "ws://127.0.0.1:" + std::to_string(port_) + "/ws"; }

    /// The frames of the first `n` connections to end (their scripts returned), waiting at
    /// most 15 s; fewer if they did not.
    std::vector<std::vector<client_frame>> ended(std::size_t n)
    {
        std::unique_lock lock(mutex_);
        changed_.wait_for(lock, 15s, [&] { return done_.size() >= n; });
        return done_;
    }
    std::size_t client_closed_tcp() const { return tcp_closed_.load(); }

private:
    asio::awaitable<void> accept_loop()
    {
        for (;;) {
            auto [ec, s] = co_await acceptor_.async_accept(asio::as_tuple(asio::use_awaitable));
            if (ec) co_return;
            asio::co_spawn(io_, serve(std::move(s)), asio::detached);
        }
    }

    asio::awaitable<void> serve(tcp::socket s)
    {
        std::string request;
        auto [ec, n] = co_await asio::async_read_until(s, asio::dynamic_buffer(request), "\r\n\r\n",
                                                        asio::as_tuple(asio::use_awaitable));
        if (ec) co_return;
        const auto at = request.find("Sec-WebSocket-Key: ");
        const auto key = request.substr(at + 19, request.find("\r\n", at) - at - 19);
        boost::beast::websocket::detail::sec_ws_accept_type accept;
        boost::beast::websocket::detail::make_sec_ws_accept(accept, key);
        const std::string reply = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                                  "Sec-WebSocket-Accept: " + std::string(accept.data(), accept.size()) + "\r\n\r\n";
        co_await asio::async_write(s, asio::buffer(reply), asio::as_tuple(asio::use_awaitable));
        raw_peer p(std::move(s));
        co_await script_(p);
        if (p.eof) ++tcp_closed_;
        std::lock_guard lock(mutex_);
        done_.push_back(std::move(p.frames));
        changed_.notify_all();
    }

    raw_script script_;
    asio::io_context io_;
    tcp::acceptor acceptor_{io_};
    std::uint16_t port_ = 0;
    std::thread thread_;
    std::mutex mutex_;
    std::condition_variable changed_;
    std::vector<std::vector<client_frame>> done_;
    std::atomic<std::size_t> tcp_closed_{0};
};

/// Sends `frames` (raw bytes), then echoes until the client closes.
raw_script send_then_echo(std::vector<std::string> frames)
{
    return [frames = std::move(frames)](raw_peer& p) -> asio::awaitable<void> {
        for (const auto& f : frames) co_await p.send(f);
        co_await p.echo_until_close();
    };
}

/// Checks what every client frame must be (sections 5.2, 5.3, 5.5) and returns the close code
/// the client sent on that connection (0 if none).
unsigned check_client_frames(const std::vector<client_frame>& frames)
{
    unsigned close = 0;
    for (const auto& f : frames) {
        BOOST_TEST(f.masked);
        BOOST_TEST(f.rsv == 0u);
        BOOST_TEST((f.opcode <= 0x2 || (f.opcode >= 0x8 && f.opcode <= 0xA)));
        if (f.opcode >= 0x8) BOOST_TEST((f.fin && f.payload.size() <= 125u));
        if (f.opcode == 0x8) close = f.payload.empty() ? 1005 : f.close_code();
    }
    return close;
}

wsload::runtime::behavior wait_until_closed(wsload::websocket_options o = wsload::websocket_options())
{
    return [o](wsload::user& u) -> wsload::task<> {
        auto ws = co_await u.websocket(o);
        co_await ws.wait_closed();
    };
}

constexpr std::array<std::size_t, 6> lean_lengths{0, 125, 126, 65535, 65536, 1 << 20};

}  // namespace ws_layer_lean

BOOST_AUTO_TEST_SUITE(ws_layer_lean)

// ------------------------------------------------------------------------------------------
// Selection

BOOST_AUTO_TEST_CASE(ws_layer_flag_selects_the_layer_and_refuses_other_values, *boost::unit_test::timeout(30))
{
    const auto parse = [](std::vector<std::string> args, wsload::run_config& c) {
        std::string target;
        std::vector<wsload::dsl::custom_flag> flags;
        std::vector<char*> argv;
        args.insert(args.begin(), "scenario");
        for (auto& a : args) argv.push_back(a.data());
        wsload::dsl::command_line(c, target, flags).parse(static_cast<int>(argv.size()), argv.data());
    };
    wsload::run_config c;
    BOOST_TEST((c.ws_layer == wsload::websocket_layer::lean));  // the default
    parse({"--ws-layer", "lean"}, c);
    BOOST_TEST((c.ws_layer == wsload::websocket_layer::lean));
    parse({"--ws-layer", "beast"}, c);
    BOOST_TEST((c.ws_layer == wsload::websocket_layer::beast));
    try {
        parse({"--ws-layer", "fast"}, c);
        BOOST_FAIL("--ws-layer fast was accepted");
    } catch (const wsload::usage_error& e) {
        BOOST_TEST(std::string(e.what()) == "--ws-layer: \"fast\" is not a WebSocket layer (use beast or lean)");
    }
}

// ------------------------------------------------------------------------------------------
// The frame parser and the UTF-8 validator, fed in pieces of every size

BOOST_AUTO_TEST_CASE(utf8_validator_accepts_valid_text_cut_anywhere_and_rejects_the_rest, *boost::unit_test::timeout(30))
{
    const std::vector<std::string> valid{"", "plain ascii, longer than eight bytes", "\xC2\xA2", "\xE2\x82\xAC",
                                         "\xED\x9F\xBF", "\xEE\x80\x80", "\xF0\x90\x80\x80", "\xF4\x8F\xBF\xBF",
                                         "a\xE2\x82\xAC" "bcdefghij\xF0\x9F\x98\x80"};
    for (const auto& s : valid)
        for (std::size_t cut = 0; cut <= s.size(); ++cut) {
            wsd::utf8_validator v;
            BOOST_TEST((v.feed(s.substr(0, cut)) && v.feed(s.substr(cut)) && v.complete()), "cut " << cut);
        }
    const std::vector<std::string> invalid{"\x80", "\xC0\xAF", "\xC1\xBF", "\xE0\x9F\xBF", "\xED\xA0\x80",
                                           "\xF0\x8F\xBF\xBF", "\xF4\x90\x80\x80", "\xF5\x80\x80\x80", "abc\xFF",
                                           "\xE2\x82" "A"};
    for (const auto& s : invalid) BOOST_TEST(!wsd::utf8_validator::valid(s));
    BOOST_TEST(!wsd::utf8_validator::valid("a\xE2\x82"));  // cut short: valid so far, not complete
    wsd::utf8_validator v;
    BOOST_TEST(v.feed("a\xE2\x82"));
    BOOST_TEST(!v.complete());
    // Once invalid, always (found by the lean_frames fuzzer: continuation bytes after a bad
    // byte used to be taken as the rest of a sequence, and the text as valid).
    wsd::utf8_validator rejected;
    BOOST_TEST(!rejected.feed("\xFF"));
    BOOST_TEST(!rejected.feed("\x80\x80\x80"));
    BOOST_TEST(!rejected.feed("ascii"));
    BOOST_TEST(!rejected.complete());
}

BOOST_TEST_DECORATOR(*boost::unit_test::timeout(30))
BOOST_DATA_TEST_CASE(frame_parser_reassembles_whatever_the_reads_cut, boost::unit_test::data::make({0, 1, 2, 3, 7, 13}),
                     step)
{
    const std::string big(70000, 'z');
    const std::string wire = server_frame(0x1, "Hel", false) + server_frame(0x9, "between") +
                             server_frame(0x0, "lo", false) + server_frame(0xA, "pong") + server_frame(0x0, "") +
                             server_frame(0x2, std::string("\x00\xFF", 2)) + server_frame(0x1, "a\xE2\x82", false) +
                             server_frame(0x0, "\xAC") + server_frame(0x2, big) + server_frame(0x1, "") +
                             server_frame(0x8, close_payload(1001, "bye")) + server_frame(0x1, "after close");
    wsd::frame_parser p;
    parsed out;
    BOOST_TEST((feed_in_pieces(p, wire, static_cast<std::size_t>(step), out) == wsd::frame_error::none));
    BOOST_TEST_REQUIRE(out.messages.size() == 5u);
    BOOST_TEST(out.messages[0].first == "Hello");
    BOOST_TEST(!out.messages[0].second);
    BOOST_TEST(out.messages[1].first == std::string("\x00\xFF", 2));
    BOOST_TEST(out.messages[1].second);
    BOOST_TEST(out.messages[2].first == "a\xE2\x82\xAC");
    BOOST_TEST(out.messages[3].first == big);
    BOOST_TEST(out.messages[4].first == "");
    BOOST_TEST(out.pings == std::vector<std::string>{"between"});
    BOOST_TEST(out.pongs == std::vector<std::string>{"pong"});
    BOOST_TEST(out.closes == std::vector<int>{1001});
    BOOST_TEST(p.done());  // nothing after the close frame
}

BOOST_AUTO_TEST_CASE(frame_parser_names_each_violation_by_its_close_code, *boost::unit_test::timeout(30))
{
    using wsd::frame_error;
    const std::vector<std::pair<std::string, frame_error>> cases{
        {server_frame(0x1, "x", true, 0b100), frame_error::protocol},
        {server_frame(0x2, "x", true, 0b001), frame_error::protocol},
        {server_frame(0x3, "x"), frame_error::protocol},
        {server_frame(0xB, "x"), frame_error::protocol},
        {server_frame(0x1, "hello", true, 0, true), frame_error::protocol},  // masked
        {server_frame(0x9, std::string(126, 'p')), frame_error::protocol},
        {server_frame(0x9, "a", false), frame_error::protocol},
        {server_frame(0x0, "x"), frame_error::protocol},
        {server_frame(0x1, "a", false) + server_frame(0x1, "b"), frame_error::protocol},
        {server_frame(0x8, "\x03"), frame_error::protocol},
        {server_frame(0x8, close_payload(1005)), frame_error::protocol},
        {server_frame(0x8, close_payload(999)), frame_error::protocol},
        {server_frame(0x8, close_payload(2000)), frame_error::protocol},
        {server_frame(0x8, close_payload(1000, "\xFF")), frame_error::invalid_data},
        {std::string("\x82\x7E\x00\x05hello", 9), frame_error::protocol},  // a 16-bit length under 126
        {server_frame(0x1, "\xC0\xAF"), frame_error::invalid_data},
        {server_frame(0x1, "ok", false) + server_frame(0x0, "\xFF"), frame_error::invalid_data},
        {server_frame(0x1, "a\xE2\x82"), frame_error::invalid_data},
        {server_frame(0x2, std::string(1001, 'b')), frame_error::too_big},
        {server_frame(0x2, std::string(600, 'b'), false) + server_frame(0x0, std::string(600, 'c')), frame_error::too_big},
        {server_frame(0x2, "only 23 bytes come here", true, 0, false, 1ull << 40), frame_error::too_big},
    };
    for (std::size_t i = 0; i < cases.size(); ++i)
        for (std::size_t step : {0, 1}) {
            wsd::frame_parser p;
            parsed out;
            BOOST_TEST((feed_in_pieces(p, cases[i].first, step, out, 1000) == cases[i].second), "case " << i << " step " << step);
            BOOST_TEST(out.messages.empty());
        }
}

BOOST_AUTO_TEST_CASE(client_frames_are_masked_with_the_key_in_any_piece, *boost::unit_test::timeout(30))
{
    const std::string payload = lean_payload(1000, true, 3);
    char header[wsd::max_client_header];
    BOOST_TEST(wsd::encode_client_header(header, 0x2, true, 125, 1) == 6u);
    BOOST_TEST(wsd::encode_client_header(header, 0x2, true, 126, 1) == 8u);
    BOOST_TEST(wsd::encode_client_header(header, 0x2, true, 65535, 1) == 8u);
    BOOST_TEST(wsd::encode_client_header(header, 0x2, true, 65536, 1) == 14u);
    const std::uint32_t key = 0xA1B2C3D4;
    std::string whole(payload.size(), '\0'), pieces(payload.size(), '\0');
    wsd::mask_copy(whole.data(), payload.data(), payload.size(), key, 0);
    for (std::size_t at = 0; at < payload.size(); at += 37)
        wsd::mask_copy(pieces.data() + at, payload.data() + at, std::min<std::size_t>(37, payload.size() - at), key, at);
    BOOST_TEST(whole == pieces);
    unsigned char k[4];
    std::memcpy(k, &key, 4);
    for (std::size_t i = 0; i < payload.size(); ++i)
        BOOST_TEST_REQUIRE(static_cast<unsigned char>(whole[i] ^ payload[i]) == k[i % 4]);
}

// ------------------------------------------------------------------------------------------
// Against im_server (Beast)

BOOST_TEST_DECORATOR(*boost::unit_test::timeout(90))
BOOST_DATA_TEST_CASE(echo_at_frame_length_boundaries, boost::unit_test::data::make({false, true}), binary)
{
    wsload::test::im_server_process server(WSLOAD_IM_SERVER);
    constexpr std::uint64_t users = 4;
    std::array<std::atomic<int>, lean_lengths.size()> echoed{};
    const auto r = lean_run(lean_config(im_url(server), users), [&](wsload::user& u) -> wsload::task<> {
        auto ws = co_await u.websocket();
        if (!ws) co_return;
        for (std::size_t i = 0; i < lean_lengths.size(); ++i) {
            const std::string data = lean_payload(lean_lengths[i], binary, u.index());
            const bool sent = binary ? co_await ws.send_binary(data) : co_await ws.send(data);
            auto reply = co_await ws.receive(10s);
            if (sent && reply && reply->binary == binary && reply->data == data) ++echoed[i];
        }
        co_await ws.close(1000);
    });
    const auto& t = *r.totals;
    const auto total = std::accumulate(lean_lengths.begin(), lean_lengths.end(), std::size_t{0});
    for (std::size_t i = 0; i < lean_lengths.size(); ++i)
        BOOST_TEST_CONTEXT("a message of " << lean_lengths[i] << " bytes") BOOST_TEST(echoed[i] == static_cast<int>(users));
    BOOST_TEST(t[counter_id::messages_sent] == users * lean_lengths.size());
    BOOST_TEST(t[counter_id::messages_received] == users * lean_lengths.size());
    BOOST_TEST(t[counter_id::bytes_sent] == users * total);
    BOOST_TEST(t[counter_id::bytes_received] == users * total);
    BOOST_TEST(t.ended(disconnect_reason::client_close) == users);
    BOOST_TEST(t[counter_id::connect_successes] == users);
    lean_check_counted_once(t, users);
}

BOOST_AUTO_TEST_CASE(fragmented_sends_reassemble_at_the_server, *boost::unit_test::timeout(60))
{
    wsload::test::im_server_process server(WSLOAD_IM_SERVER);
    constexpr std::uint64_t users = 4;
    constexpr std::size_t size = 100'000;  // 100 frames of 1,000 bytes
    std::atomic<int> echoed{0};
    const auto r = lean_run(lean_config(im_url(server), users), [&](wsload::user& u) -> wsload::task<> {
        auto ws = co_await u.websocket(wsload::websocket_options().fragment_size(1000));
        if (!ws) co_return;
        for (bool binary : {false, true}) {
            const std::string data = lean_payload(size, binary, u.index());
            if (binary)
                co_await ws.send_binary(data);
            else
                co_await ws.send(data);
            if (auto m = co_await ws.receive(10s); m && m->binary == binary && m->data == data) ++echoed;
        }
        co_await ws.close(1000);
    });
    const auto& t = *r.totals;
    BOOST_TEST(echoed == static_cast<int>(2 * users));
    BOOST_TEST(t[counter_id::messages_sent] == 2 * users);
    BOOST_TEST(t[counter_id::bytes_sent] == 2 * users * size);
    BOOST_TEST(t[counter_id::bytes_received] == 2 * users * size);
    BOOST_TEST(t.ended(disconnect_reason::client_close) == users);
    lean_check_counted_once(t, users);
}

BOOST_AUTO_TEST_CASE(heartbeat_pings_equal_pongs, *boost::unit_test::timeout(60))
{
    wsload::test::im_server_process server(WSLOAD_IM_SERVER);
    constexpr std::uint64_t users = 20;
    const auto r = lean_run(lean_config(im_url(server), users), [](wsload::user& u) -> wsload::task<> {
        auto ws = co_await u.websocket(wsload::websocket_options().heartbeat(100ms));
        co_await u.think(1200ms);
        co_await ws.close(1000);
    });
    const auto& t = *r.totals;
    BOOST_TEST(t[counter_id::pings_sent] >= users * 10);  // first ping within 100 ms, then every 100 ms
    BOOST_TEST(t[counter_id::pings_sent] <= users * 14);
    BOOST_TEST(t[counter_id::pongs_received] == t[counter_id::pings_sent]);  // the close waits for the last pong
    BOOST_TEST(t[counter_id::pongs_missed] == 0u);
    BOOST_TEST(t[stats::histogram_id::ping_round_trip].count() == t[counter_id::pongs_received]);
    BOOST_TEST(t.ended(disconnect_reason::client_close) == users);
    lean_check_counted_once(t, users);
}

BOOST_AUTO_TEST_CASE(run_wide_ping_interval_pings_every_connection, *boost::unit_test::timeout(60))
{
    wsload::test::im_server_process server(WSLOAD_IM_SERVER);
    constexpr std::uint64_t users = 50;
    auto c = lean_config(im_url(server), users, 1);
    c.ping_interval = 200ms;  // --ping-interval: first ping at a random point of the interval
    const auto r = lean_run(c, [](wsload::user& u) -> wsload::task<> {
        auto ws = co_await u.websocket();
        co_await u.think(1s);
        co_await ws.close(1000);
    });
    const auto& t = *r.totals;
    BOOST_TEST(t[counter_id::pings_sent] >= users * 4);
    BOOST_TEST(t[counter_id::pings_sent] <= users * 6);
    BOOST_TEST(t[counter_id::pongs_received] == t[counter_id::pings_sent]);
    BOOST_TEST(t[counter_id::pongs_missed] == 0u);
    lean_check_counted_once(t, users);
}

BOOST_AUTO_TEST_CASE(server_close_after_a_while_is_going_away, *boost::unit_test::timeout(60))
{
    wsload::test::im_server_process server(WSLOAD_IM_SERVER, {"--close-after", "200ms"});
    constexpr std::uint64_t users = 10;
    std::atomic<int> classified{0};
    const auto r = lean_run(lean_config(im_url(server), users), [&](wsload::user& u) -> wsload::task<> {
        auto ws = co_await u.websocket();
        co_await ws.wait_closed();
        if (ws.end_reason() == disconnect_reason::going_away) ++classified;
    });
    BOOST_TEST(classified == static_cast<int>(users));
    BOOST_TEST(r.totals->ended(disconnect_reason::going_away) == users);
    BOOST_TEST(r.elapsed < 10s);
    lean_check_counted_once(*r.totals, users);
}

BOOST_AUTO_TEST_CASE(requests_replies_and_timeouts_are_counted_exactly, *boost::unit_test::timeout(60))
{
    wsload::test::im_server_process server(WSLOAD_IM_SERVER);
    constexpr std::uint64_t users = 10;
    std::atomic<int> answered{0};
    const auto r = lean_run(lean_config(im_url(server), users), [&](wsload::user& u) -> wsload::task<> {
        auto ws = co_await u.websocket();
        for (int i = 0; i < 5; ++i) {
            const auto text = "request " + std::to_string(i) + " of " + u.id();
            if (auto m = co_await ws.request(text, [&text](std::string_view d) { return d == text; }); m) ++answered;
        }
        wsload::request_options lost;
        lost.timeout = 100ms;
        co_await ws.request("unmatched", [](std::string_view) { return false; }, lost);
        co_await ws.close(1000);
    });
    const auto& t = *r.totals;
    BOOST_TEST(answered == static_cast<int>(5 * users));
    BOOST_TEST(t[counter_id::requests_sent] == 6 * users);
    BOOST_TEST(t[counter_id::requests_answered] == 5 * users);
    BOOST_TEST(t[counter_id::requests_timed_out] == users);
    BOOST_TEST(t[counter_id::requests_failed] == 0u);
    BOOST_TEST(t[stats::histogram_id::round_trip].count() == 5 * users);
    BOOST_TEST(t[counter_id::messages_sent] == 6 * users);
    BOOST_TEST(t[counter_id::messages_received] == 6 * users);  // the unmatched echo too
    lean_check_counted_once(t, users);
}

// A close while a request waits: the reply the server sends before it sees the close is
// counted (the close waits for it, bounded), and the connection ends as client_close.
BOOST_AUTO_TEST_CASE(a_close_lets_replies_in_flight_arrive, *boost::unit_test::timeout(60))
{
    wsload::test::im_server_process server(WSLOAD_IM_SERVER, {"--delay", "50ms"});
    constexpr std::uint64_t users = 10;
    const auto r = lean_run(lean_config(im_url(server), users), [](wsload::user& u) -> wsload::task<> {
        auto ws = co_await u.websocket();
        auto reply = [&ws, &u]() -> wsload::task<> {
            co_await ws.request("late " + u.id(), [](std::string_view) { return true; });
        };
        boost::asio::co_spawn(u.worker().get_executor(), reply(), boost::asio::detached);
        co_await u.think(10ms);
        co_await ws.close(1000);
        co_await u.think(10ms);  // the request's coroutine has ended by now
    });
    const auto& t = *r.totals;
    BOOST_TEST(t[counter_id::requests_sent] == users);
    BOOST_TEST(t[counter_id::requests_answered] == users);
    BOOST_TEST(t.ended(disconnect_reason::client_close) == users);
    lean_check_counted_once(t, users);
}

// The reader is a plain handler: a match function that throws must end its connection and
// count a behaviour error, not take the worker thread down.
BOOST_AUTO_TEST_CASE(a_throwing_match_function_ends_its_connection_only, *boost::unit_test::timeout(60))
{
    wsload::test::im_server_process server(WSLOAD_IM_SERVER);
    constexpr std::uint64_t users = 6;
    std::atomic<int> answered{0};
    const auto r = lean_run(lean_config(im_url(server), users), [&](wsload::user& u) -> wsload::task<> {
        auto ws = co_await u.websocket();
        const bool throws = u.index() % 2 == 1;
        auto reply = co_await ws.request("hello", [throws](std::string_view) -> bool {
            if (throws) throw std::runtime_error("match bug");
            return true;
        });
        if (reply) ++answered;
        co_await ws.close(1000);
    });
    const auto& t = *r.totals;
    BOOST_TEST(answered == 3);
    BOOST_TEST(t[counter_id::behaviour_errors] == 3u);
    BOOST_TEST(t[counter_id::requests_answered] == 3u);
    BOOST_TEST(t[counter_id::requests_failed] == 3u);
    BOOST_TEST(t.ended(disconnect_reason::client_close) == users);
    BOOST_TEST(t[counter_id::active_connections] == 0u);
    BOOST_TEST(t[counter_id::users_finished] == users);
}

BOOST_AUTO_TEST_CASE(thousand_concurrent_connections, *boost::unit_test::timeout(120))
{
    wsload::test::im_server_process server(WSLOAD_IM_SERVER, {"--threads", "2"});
    constexpr std::uint64_t users = 1000;
    std::atomic<std::uint64_t> echoed{0}, arrived{0}, all_open{0};
    const auto r = lean_run(lean_config(im_url(server), users), [&](wsload::user& u) -> wsload::task<> {
        auto ws = co_await u.websocket();
        if (ws) {
            const std::string text = "hello from " + u.id();
            if (auto m = co_await ws.request(text, [&text](std::string_view d) { return d == text; }); m) ++echoed;
        }
        ++arrived;
        while (arrived.load() < users && u.running()) co_await u.think(20ms);
        if (!ws) co_return;
        if (ws.is_open()) ++all_open;
        co_await ws.close(1000);
    });
    const auto& t = *r.totals;
    std::uint64_t bytes = 0;
    for (std::uint64_t i = 0; i < users; ++i) bytes += ("hello from u" + std::to_string(i)).size();
    BOOST_TEST(echoed == users);
    BOOST_TEST(all_open == users);
    BOOST_TEST(t[counter_id::messages_sent] == users);
    BOOST_TEST(t[counter_id::messages_received] == users);
    BOOST_TEST(t[counter_id::bytes_sent] == bytes);
    BOOST_TEST(t[counter_id::bytes_received] == bytes);
    BOOST_TEST(t[counter_id::requests_answered] == users);
    BOOST_TEST(t[stats::histogram_id::round_trip].count() == users);
    BOOST_TEST(t.ended(disconnect_reason::client_close) == users);
    lean_check_counted_once(t, users);
}

// ------------------------------------------------------------------------------------------
// Against scripted_server: each failure in its class

BOOST_TEST_DECORATOR(*boost::unit_test::timeout(60))
BOOST_DATA_TEST_CASE(misbehaving_servers_land_in_their_class,
                     boost::unit_test::data::make({0, 1, 2, 3, 4, 5, 6, 7}), which)
{
    using wsload::test::misbehaviour;
    struct expectation {
        misbehaviour b;
        unsigned status;
        std::optional<stats::connect_failure> failure;
        std::optional<disconnect_reason> ending;
        unsigned code;  ///< close_codes[code] (server_close) or http_statuses[code]
    };
    const std::array<expectation, 8> table{{
        {misbehaviour::http_status, 403, stats::connect_failure::http_status, {}, 403},
        {misbehaviour::http_status, 503, stats::connect_failure::http_status, {}, 503},
        {misbehaviour::silent, 0, stats::connect_failure::timeout, {}, 0},
        {misbehaviour::bad_accept_key, 0, stats::connect_failure::handshake, {}, 0},
        {misbehaviour::reset_during_upgrade, 0, stats::connect_failure::reset, {}, 0},
        {misbehaviour::close_after_upgrade, 1011, {}, disconnect_reason::server_close, 1011},
        {misbehaviour::close_after_upgrade, 1000, {}, disconnect_reason::normal, 0},
        {misbehaviour::reset_after_upgrade, 0, {}, disconnect_reason::network, 0},
    }};
    const auto& e = table[static_cast<std::size_t>(which)];
    wsload::test::scripted_server server(e.b, e.status);
    constexpr std::uint64_t users = 20;
    auto c = lean_config(server.url(), users);
    c.connect_timeout = 1s;
    const auto started = wsload::clock::now();
    const auto r = lean_run(c, wait_until_closed());
    const auto& t = *r.totals;
    if (e.failure) {
        BOOST_TEST(t.failed(*e.failure) == users);
        if (*e.failure == stats::connect_failure::http_status) BOOST_TEST(t.http_statuses[e.code] == users);
    } else {
        BOOST_TEST(t.failures() == 0u);
        BOOST_TEST(t.ended(*e.ending) == users);
        if (*e.ending == disconnect_reason::server_close) BOOST_TEST(t.close_codes[e.code] == users);
    }
    BOOST_TEST((wsload::clock::now() - started < 10s));
    lean_check_counted_once(t, users);
}

// ------------------------------------------------------------------------------------------
// Against the raw peer: what the client puts on the wire

BOOST_AUTO_TEST_CASE(fragment_size_sends_a_first_frame_then_continuations_each_with_its_own_key,
                     *boost::unit_test::timeout(60))
{
    constexpr std::uint64_t users = 4;
    const std::string text(250, 'f');
    std::atomic<int> echoed{0};
    raw_server server(send_then_echo({}));
    const auto r = lean_run(lean_config(server.url(), users), [&](wsload::user& u) -> wsload::task<> {
        auto ws = co_await u.websocket(wsload::websocket_options().fragment_size(100));
        co_await ws.send(text);
        if (auto m = co_await ws.receive(5s); m && m->data == text) ++echoed;  // echoed frame by frame
        co_await ws.close(1000);
    });
    BOOST_TEST(echoed == static_cast<int>(users));
    lean_check_counted_once(*r.totals, users);
    const auto seen = server.ended(users);
    BOOST_TEST_REQUIRE(seen.size() == users);
    std::set<std::uint32_t> keys;
    for (const auto& frames : seen) {
        BOOST_TEST(check_client_frames(frames) == 1000u);
        BOOST_TEST_REQUIRE(frames.size() == 4u);  // 100 + 100 + 50, then the close
        const std::size_t sizes[] = {100, 100, 50};
        for (std::size_t i = 0; i < 3; ++i) {
            BOOST_TEST(frames[i].opcode == (i == 0 ? 0x1 : 0x0));
            BOOST_TEST(frames[i].fin == (i == 2));
            BOOST_TEST(frames[i].payload.size() == sizes[i]);
        }
        for (const auto& f : frames) keys.insert(f.key);
    }
    BOOST_TEST(keys.size() == 4 * users);  // a fresh key per frame (odds of a collision here: ~1e-8)
}

// Back-pressure: the server stops reading while the client sends a large fragmented message
// and pings it meanwhile. The socket takes part of the message, the rest is written as the
// server reads again, and the pong waits for the end of the frame being written: it comes
// between two frames, never inside one (the server's parser would fail on it).
BOOST_AUTO_TEST_CASE(a_pong_waits_for_the_end_of_a_frame_the_socket_has_not_taken_yet, *boost::unit_test::timeout(60))
{
    constexpr std::size_t size = 8 << 20, fragment = 1 << 20;
    raw_server server(
        [](raw_peer& p) -> asio::awaitable<void> {
            co_await p.hold(100ms);  // not reading: the client's socket fills up mid-frame
            co_await p.send(server_frame(0x9, "while you write"));
            co_await p.hold(200ms);
            co_await p.echo_until_close();
        },
        4096);
    std::atomic<bool> sent{false}, echoed{false};
    const auto r = lean_run(lean_config(server.url(), 1, 1), [&](wsload::user& u) -> wsload::task<> {
        auto ws = co_await u.websocket(wsload::websocket_options().fragment_size(fragment));
        const std::string data = lean_payload(size, true, 7);
        sent = co_await ws.send_binary(data);
        auto m = co_await ws.receive(10s);  // echoed frame by frame, reassembled
        echoed = m && m->binary && m->data == data;
        co_await ws.close(1000);
    });
    BOOST_TEST(sent.load());
    BOOST_TEST(echoed.load());
    const auto& t = *r.totals;
    BOOST_TEST(t[counter_id::messages_sent] == 1u);
    BOOST_TEST(t[counter_id::bytes_sent] == size);
    BOOST_TEST(t.ended(disconnect_reason::client_close) == 1u);
    lean_check_counted_once(t, 1);
    const auto seen = server.ended(1);
    BOOST_TEST_REQUIRE(seen.size() == 1u);
    const auto& frames = seen[0];
    BOOST_TEST(check_client_frames(frames) == 1000u);
    std::string whole;
    std::size_t data_frames = 0, pongs = 0;
    for (const auto& f : frames) {
        if (f.opcode == 0xA) {
            ++pongs;
            BOOST_TEST(f.payload == "while you write");
        }
        if (f.opcode <= 0x2) {
            BOOST_TEST(f.opcode == (data_frames == 0 ? 0x2 : 0x0));
            whole += f.payload;
            ++data_frames;
        }
    }
    BOOST_TEST(pongs == 1u);
    BOOST_TEST(data_frames == size / fragment);
    BOOST_TEST((whole == lean_payload(size, true, 7)));
}

BOOST_AUTO_TEST_CASE(lengths_7_16_and_64_bit_are_the_shortest_form_both_ways, *boost::unit_test::timeout(60))
{
    static const std::vector<std::size_t> sizes{0, 1, 125, 126, 127, 65535, 65536, 100000};
    std::atomic<int> echoed{0};
    raw_server server(send_then_echo({}));
    const auto r = lean_run(lean_config(server.url(), 2), [&](wsload::user& u) -> wsload::task<> {
        auto ws = co_await u.websocket();
        for (auto n : sizes) {
            const auto data = lean_payload(n, true, u.index());
            co_await ws.send_binary(data);
            if (auto m = co_await ws.receive(5s); m && m->binary && m->data == data) ++echoed;
        }
        co_await ws.close(1000);
    });
    BOOST_TEST(echoed == static_cast<int>(2 * sizes.size()));
    lean_check_counted_once(*r.totals, 2);
    for (const auto& frames : server.ended(2)) {
        check_client_frames(frames);
        BOOST_TEST_REQUIRE(frames.size() == sizes.size() + 1);
        for (std::size_t i = 0; i < sizes.size(); ++i)
            BOOST_TEST(frames[i].length_bytes == (sizes[i] < 126 ? 0u : sizes[i] <= 65535 ? 2u : 8u));
    }
}

BOOST_AUTO_TEST_CASE(pings_between_fragments_are_answered_and_the_message_reassembled, *boost::unit_test::timeout(60))
{
    constexpr std::uint64_t users = 4;
    std::atomic<int> intact{0};
    raw_server server(send_then_echo({server_frame(0x1, "Hel", false), server_frame(0x9, "between"),
                                      server_frame(0x0, "lo, ", false), server_frame(0xA, "unasked"),
                                      server_frame(0x0, "w\xC3", false), server_frame(0x9, ""),
                                      server_frame(0x0, "\xB6rld")}));
    const auto r = lean_run(lean_config(server.url(), users), [&](wsload::user& u) -> wsload::task<> {
        auto ws = co_await u.websocket();
        if (auto m = co_await ws.receive(5s); m && !m->binary && m->data == "Hello, w\xC3\xB6rld") ++intact;
        co_await ws.close(1000);
    });
    BOOST_TEST(intact == static_cast<int>(users));
    BOOST_TEST((*r.totals)[counter_id::messages_received] == users);
    BOOST_TEST((*r.totals)[counter_id::pongs_received] == 0u);  // "unasked" is not an answer to a ping of ours
    BOOST_TEST(r.totals->ended(disconnect_reason::client_close) == users);
    lean_check_counted_once(*r.totals, users);
    for (const auto& frames : server.ended(users)) {
        BOOST_TEST(check_client_frames(frames) == 1000u);
        std::vector<std::string> pongs;
        for (const auto& f : frames)
            if (f.opcode == 0xA) pongs.push_back(f.payload);
        BOOST_TEST(pongs == (std::vector<std::string>{"between", ""}));
    }
}

BOOST_TEST_DECORATOR(*boost::unit_test::timeout(60))
BOOST_DATA_TEST_CASE(violations_close_with_their_code_and_count_in_their_class,
                     boost::unit_test::data::make({0, 1, 2, 3, 4, 5, 6}), which)
{
    struct violation {
        std::string frames;
        unsigned code;
        disconnect_reason reason;
    };
    const std::array<violation, 7> table{{
        {server_frame(0x1, "hello", true, 0, true), 1002, disconnect_reason::protocol_error},
        {server_frame(0x2, "x", true, 0b010), 1002, disconnect_reason::protocol_error},
        {server_frame(0xF, ""), 1002, disconnect_reason::protocol_error},
        {server_frame(0x1, "ok", false) + server_frame(0x0, "\xED\xA0\x80"), 1007, disconnect_reason::protocol_error},
        {server_frame(0x8, close_payload(1006)), 1002, disconnect_reason::protocol_error},
        {server_frame(0x2, std::string(1001, 'b')), 1009, disconnect_reason::message_too_big},
        {server_frame(0x2, std::string(100, 'x'), true, 0, false, 1ull << 30), 1009, disconnect_reason::message_too_big},
    }};
    const auto& v = table[static_cast<std::size_t>(which)];
    constexpr std::uint64_t users = 8;
    raw_server server(send_then_echo({v.frames}));
    const auto r = lean_run(lean_config(server.url(), users),
                            wait_until_closed(wsload::websocket_options().max_message_bytes(1000)));
    BOOST_TEST(r.totals->ended(v.reason) == users);
    BOOST_TEST((*r.totals)[counter_id::messages_received] == 0u);
    BOOST_TEST(r.elapsed < 5s);  // the server echoes the close and closes TCP: no bound is waited out
    lean_check_counted_once(*r.totals, users);
    for (const auto& frames : server.ended(users)) BOOST_TEST(check_client_frames(frames) == v.code);
}

BOOST_AUTO_TEST_CASE(server_pings_are_answered_with_their_payload_and_a_server_close_echoed,
                     *boost::unit_test::timeout(60))
{
    constexpr std::uint64_t users = 8;
    static const std::vector<std::string> pings{"hello", std::string(125, 'p'), ""};
    raw_server server([](raw_peer& p) -> asio::awaitable<void> {
        for (const auto& payload : pings) co_await p.send(server_frame(0x9, payload));
        for (std::size_t pongs = 0; pongs < pings.size();) {
            auto f = co_await p.read_frame();
            if (!f) co_return;
            pongs += f->opcode == 0xA;
        }
        co_await p.send(server_frame(0x8, close_payload(4000, "done")));
        const auto echo = co_await p.read_frame();  // the echo of the close
        p.close_tcp();
    });
    const auto r = lean_run(lean_config(server.url(), users), wait_until_closed());
    const auto& t = *r.totals;
    BOOST_TEST(t.ended(disconnect_reason::server_close) == users);
    BOOST_TEST(t.close_codes[4000] == users);
    lean_check_counted_once(t, users);
    for (const auto& frames : server.ended(users)) {
        BOOST_TEST(check_client_frames(frames) == 4000u);  // the server's code, echoed
        std::vector<std::string> pongs;
        for (const auto& f : frames)
            if (f.opcode == 0xA) pongs.push_back(f.payload);
        BOOST_TEST(pongs == pings);
    }
}

BOOST_AUTO_TEST_CASE(unanswered_pings_end_as_ping_timeout, *boost::unit_test::timeout(60))
{
    constexpr std::uint64_t users = 8;
    raw_server server([](raw_peer& p) -> asio::awaitable<void> { co_await p.read_until_eof(); });
    const auto r = lean_run(lean_config(server.url(), users),
                            wait_until_closed(wsload::websocket_options().heartbeat(100ms).max_missed_pongs(3)));
    const auto& t = *r.totals;
    BOOST_TEST(t[counter_id::pings_sent] == 3 * users);
    BOOST_TEST(t[counter_id::pongs_missed] == 3 * users);
    BOOST_TEST(t.ended(disconnect_reason::ping_timeout) == users);
    BOOST_TEST(r.elapsed < 5s);
    lean_check_counted_once(t, users);
    BOOST_TEST(server.ended(users).size() == users);
    BOOST_TEST(server.client_closed_tcp() == users);
}

// The close timeout bounds the closing handshake: a server that never answers the close, or
// answers it and keeps TCP open, or closes and keeps TCP open.
BOOST_TEST_DECORATOR(*boost::unit_test::timeout(60))
BOOST_DATA_TEST_CASE(each_wait_of_the_closing_handshake_is_bounded, boost::unit_test::data::make({0, 1, 2}), which)
{
    constexpr std::uint64_t users = 8;
    raw_server server([which](raw_peer& p) -> asio::awaitable<void> {
        if (which == 2) {
            co_await p.send(server_frame(0x8, close_payload(1000)));
        } else {
            std::optional<client_frame> f;
            do f = co_await p.read_frame(); while (f && f->opcode != 0x8);
            if (f && which == 1) co_await p.send(server_frame(0x8, f->payload));
        }
        co_await p.read_until_eof();
        co_await p.hold(2s);  // never closes TCP itself
    });
    auto c = lean_config(server.url(), users);
    c.close_timeout = 500ms;
    std::atomic<std::int64_t> slowest_ms{0}, fastest_ms{1'000'000};
    const auto r = lean_run(c, [&](wsload::user& u) -> wsload::task<> {
        auto ws = co_await u.websocket();
        const auto t0 = wsload::clock::now();
        if (which == 2)
            co_await ws.wait_closed();
        else
            co_await ws.close(1000);
        const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(wsload::clock::now() - t0).count();
        for (auto s = slowest_ms.load(); ms > s && !slowest_ms.compare_exchange_weak(s, ms);) {
        }
        for (auto s = fastest_ms.load(); ms < s && !fastest_ms.compare_exchange_weak(s, ms);) {
        }
    });
    const auto& t = *r.totals;
    BOOST_TEST(t.ended(which == 2 ? disconnect_reason::normal : disconnect_reason::client_close) == users);
    BOOST_TEST(fastest_ms.load() >= 450);  // it did wait for the server (close_timeout 500 ms)
    BOOST_TEST(slowest_ms.load() < 2000);
    lean_check_counted_once(t, users);
    BOOST_TEST(server.ended(users).size() == users);
    BOOST_TEST(server.client_closed_tcp() == users);
}

BOOST_AUTO_TEST_SUITE_END()
