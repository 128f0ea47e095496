// Socket.IO v4 (Engine.IO v4 over WebSocket) against the real npm socket.io server
// (examples/socketio/socketio_server.js, started per case on 127.0.0.1), and against scripted
// Engine.IO servers for what a real one never does: broken packets, acks for unknown ids,
// duplicate and late acks, a namespace connect never answered, a heartbeat gone quiet. Every
// emit with an ack ends exactly once (acks = emits - timed out - failed), and every connection
// in one class.

#include <support/child_process.hpp>
#include <support/frame_server.hpp>
#include <support/quiet_run.hpp>
#include <wsload/net/socketio/client.hpp>
#include <wsload/net/socketio/packet.hpp>
#include <wsload/runtime/engine.hpp>

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <fstream>
#include <array>
#include <sstream>
#include <mutex>
#include <string>
#include <vector>

using namespace std::chrono_literals;
namespace stats = wsload::stats;
namespace sio = wsload::socketio;
using wsload::test::frame;
using wsload::test::frame_server;
using wsload::test::peer;
using wsload::test::server_process;

namespace {

wsload::run_config sio_config(const std::string& url, std::uint64_t users)
{
    auto c = wsload::test::quiet_run("socketio", url, users);
    c.ping_interval = 0s;  // Engine.IO's heartbeat is the server's
    return c;
}

std::string url_of(const server_process& s, std::string_view nsp = "")
{
    return "http://127.0.0.1:" + std::to_string(s.port()) + std::string(nsp);
}

/// The figures of requests named `name` (any type).
const stats::named_totals* named(const stats::totals& t, std::string_view name)
{
    for (const auto& [key, n] : t.requests)
        if (key.name == name) return &n;
    return nullptr;
}

std::uint64_t errors_with(const stats::totals& t, std::string_view text)
{
    std::uint64_t n = 0;
    for (const auto& [message, count] : t.errors)
        if (message.find(text) != std::string::npos) n += count;
    return n;
}

void check_request_accounting(const stats::totals& t)
{
    using stats::counter_id;
    BOOST_TEST(t[counter_id::requests_sent] == t[counter_id::requests_answered] + t[counter_id::requests_rejected] +
                                                   t[counter_id::requests_timed_out] + t[counter_id::requests_failed]);
    BOOST_TEST(t.disconnect_total() == t[counter_id::connect_successes]);
    BOOST_TEST(t[counter_id::active_connections] == 0u);
}

/// A count from the server's stop line: "... 40 requests, 40 acks, ...".
std::uint64_t server_count(const std::string& line, std::string_view what)
{
    const auto at = line.find(" " + std::string(what));
    BOOST_REQUIRE_MESSAGE(at != std::string::npos, "no \"" + std::string(what) + "\" in: " + line);
    const auto start = line.rfind(' ', at - 1);
    return std::stoull(line.substr(start + 1, at - start - 1));
}

// ---- a scripted Engine.IO server ---------------------------------------------------------

/// Sends Engine.IO's open packet (ping settings in ms).
boost::asio::awaitable<bool> send_open(peer& p, int ping_interval = 25000, int ping_timeout = 20000)
{
    co_return co_await p.send(frame(wsload::test::opcode::text,
                                    R"(0{"sid":"s1","upgrades":[],"pingInterval":)" + std::to_string(ping_interval) +
                                        R"(,"pingTimeout":)" + std::to_string(ping_timeout) + R"(,"maxPayload":1000000})"));
}

/// Reads client frames until a text one; its payload, or empty when the client went.
boost::asio::awaitable<std::string> next_text(peer& p, std::chrono::nanoseconds bound = 5s)
{
    for (;;) {
        auto f = co_await p.read_frame(bound);
        if (!f) co_return std::string();
        if (f->opcode == wsload::test::opcode::text) co_return f->payload;
        if (f->opcode == wsload::test::opcode::close) co_return std::string();
    }
}

/// Open, then the namespace connect answered: a connected Socket.IO session.
boost::asio::awaitable<bool> accept_session(peer& p)
{
    if (!co_await send_open(p)) co_return false;
    // Each awaited value is named first: g++ 12 miscompiles a temporary of a co_await used in
    // a larger expression.
    const auto connect = co_await next_text(p);
    if (connect.rfind("40", 0) != 0) co_return false;
    co_return co_await p.send(frame(wsload::test::opcode::text, R"(40{"sid":"n1"})"));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(socketio_against_npm_socketio)

BOOST_AUTO_TEST_CASE(every_emit_with_ack_is_acked_and_counted_once, *boost::unit_test::timeout(90))
{
    server_process server(WSLOAD_SOCKETIO_SERVER, {"--delay", "2"});
    constexpr std::uint64_t users = 20, per_user = 25;
    // Behaviours run on two threads: they count, the test asserts (Boost.Test is not thread-safe).
    std::atomic<std::uint64_t> good_acks{0}, with_sid{0};
    wsload::runtime::engine engine(sio_config(url_of(server), users), [&](wsload::user& u) -> wsload::task<> {
        auto io = co_await sio::connect(u);
        if (!io) co_return;
        if (!io.sid().empty()) ++with_sid;
        for (std::uint64_t i = 0; i < per_user; ++i) {
            const auto body = R"({"id":)" + std::to_string(i) + "}";
            auto ack = co_await io.emit_with_ack("request", body, {.timeout = 5s, .intended_at = {}, .name = {}, .key = {}});
            if (!ack) continue;
            const auto args = ack->json().as_array();
            if (args.size() == 1 && args[0].at("ok").as_bool() && args[0].at("id").to_number<std::uint64_t>() == i)
                ++good_acks;
        }
        co_await io.disconnect();
    });
    const auto r = engine.run();
    const auto& t = *r.totals;
    BOOST_TEST(good_acks.load() == users * per_user);
    BOOST_TEST(with_sid.load() == users);
    const auto* req = named(t, "request");
    BOOST_REQUIRE(req);
    BOOST_TEST(req->sent == users * per_user);
    BOOST_TEST(req->answered == users * per_user);
    BOOST_TEST(req->round_trip.count() == users * per_user);  // every ack's latency recorded
    // The server's 2 ms delay is in it (Node's timers may fire up to 1 ms early: libuv starts
    // them from the loop's cached time).
    BOOST_TEST(req->round_trip.min() >= 1'000'000u);
    const auto* connect = named(t, "connect /");
    BOOST_REQUIRE(connect);
    BOOST_TEST(connect->answered == users);
    BOOST_TEST(t[stats::counter_id::unmatched_replies] == 0u);
    BOOST_TEST(t.disconnects[static_cast<std::size_t>(stats::disconnect_reason::client_close)] == users);
    check_request_accounting(t);
    // The server saw the same: one connection per user, every request acked once.
    BOOST_REQUIRE(server.stop() == 0);
    const auto& line = server.process().stderr_text();
    BOOST_TEST(server_count(line, "connections") == users);
    BOOST_TEST(server_count(line, "requests") == users * per_user);
    BOOST_TEST(server_count(line, "acks") == users * per_user);
}

BOOST_AUTO_TEST_CASE(a_connect_error_is_a_rejected_connect_with_its_message, *boost::unit_test::timeout(60))
{
    server_process server(WSLOAD_SOCKETIO_SERVER, {"--token", "secret"});
    std::atomic<int> connected{0}, refused{0};
    wsload::runtime::engine engine(sio_config(url_of(server), 4), [&](wsload::user& u) -> wsload::task<> {
        const auto token = u.index() % 2 == 0 ? std::string("secret") : std::string("wrong");
        auto io = co_await sio::connect(u, sio::options().auth(R"({"token":")" + token + R"("})"));
        ++(io ? connected : refused);
        if (io) co_await io.disconnect();
    });
    const auto r = engine.run();
    const auto& t = *r.totals;
    BOOST_TEST(connected.load() == 2);
    BOOST_TEST(refused.load() == 2);
    const auto* connect = named(t, "connect /");
    BOOST_REQUIRE(connect);
    BOOST_TEST(connect->answered == 2u);
    BOOST_TEST(connect->rejected == 2u);
    BOOST_TEST(errors_with(t, "socket.io connect_error /: unauthorized") == 2u);
    // The WebSockets themselves opened: the refusal is the Socket.IO connect's, not theirs.
    BOOST_TEST(t[stats::counter_id::connect_successes] == 4u);
    check_request_accounting(t);
}

BOOST_AUTO_TEST_CASE(events_arrive_awaited_or_by_handler_and_server_acks_are_answered, *boost::unit_test::timeout(60))
{
    server_process server(WSLOAD_SOCKETIO_SERVER, {});
    std::mutex lock;
    std::vector<std::string> seen;
    wsload::runtime::engine engine(sio_config(url_of(server, "/chat"), 1), [&](wsload::user& u) -> wsload::task<> {
        auto io = co_await sio::connect(u);
        BOOST_REQUIRE(io);
        // Awaited: the echo of an emit, its arguments as sent.
        co_await io.emit("echo", R"({"n":1},"two")");
        auto e = co_await io.receive(5s);
        BOOST_REQUIRE(e);
        BOOST_TEST(e->name == "echo");
        const auto args = e->args();
        BOOST_REQUIRE(args.size() == 2u);
        BOOST_TEST(args[0].at("n").as_int64() == 1);
        BOOST_TEST(args[1].as_string() == "two");
        // A server emit with an ack callback: answered with client::ack, which the server sends back.
        co_await io.emit("ask", R"("how are you?")");
        auto q = co_await io.receive(5s);
        BOOST_REQUIRE(q);
        BOOST_TEST(q->name == "question");
        BOOST_REQUIRE(q->id.has_value());
        BOOST_TEST(co_await io.ack(*q, R"("fine")"));
        // By handler: the answer comes as an event no receive() takes.
        io.on("answered", [&](const sio::event& a) {
            std::lock_guard g(lock);
            seen.push_back(a.name + ":" + std::string(a.args().at(0).as_string()));
        });
        for (int i = 0; i < 100 && seen.empty(); ++i) co_await u.think(20ms);
        // A binary attachment in an ack.
        auto bin = co_await io.emit_with_ack("binary", "5", {.timeout = 5s, .intended_at = {}, .name = {}, .key = {}});
        BOOST_REQUIRE(bin);
        BOOST_REQUIRE(bin->attachments.size() == 1u);
        BOOST_TEST(bin->attachments[0] == "aaaaa");
        BOOST_TEST(bin->json().as_array().at(0).at("_placeholder").as_bool());
        co_await io.disconnect();
    });
    const auto r = engine.run();
    BOOST_TEST(seen == std::vector<std::string>{"answered:fine"});
    const auto& t = *r.totals;
    BOOST_TEST(named(t, "connect /chat")->answered == 1u);
    BOOST_TEST(named(t, "binary")->answered == 1u);
    // Every event the server emitted is a push, counted by its name (acks are not).
    BOOST_TEST(t.pushes.at("echo") == 1u);
    BOOST_TEST(t.pushes.at("question") == 1u);
    BOOST_TEST(t.pushes.at("answered") == 1u);
    BOOST_TEST(t.pushes.size() == 3u);
    BOOST_TEST(t[stats::counter_id::behaviour_errors] == 0u);
    check_request_accounting(t);
}

// What the upgrade carries reaches the server's handshake: the URL's query and the options'
// query parameters, headers, Origin and cookies, and the namespace connect's auth payload.
BOOST_AUTO_TEST_CASE(the_handshake_carries_query_headers_cookies_and_auth, *boost::unit_test::timeout(60))
{
    server_process server(WSLOAD_SOCKETIO_SERVER, {});
    std::mutex lock;
    boost::json::object seen;
    wsload::runtime::engine engine(sio_config(url_of(server, "/chat?room=r1"), 1), [&](wsload::user& u) -> wsload::task<> {
        auto io = co_await sio::connect(u, sio::options()
                                               .auth(R"({"token":"t0k"})")
                                               .query("lang", "zh cn")
                                               .header("X-Client", "wsload-test")
                                               .origin("http://app.example")
                                               .cookie("session", "s1"));
        BOOST_REQUIRE(io);
        auto who = co_await io.emit_with_ack("whoami", {}, {.timeout = 5s, .intended_at = {}, .name = {}, .key = {}});
        BOOST_REQUIRE(who);
        std::lock_guard g(lock);
        seen = who->json().as_array().at(0).as_object();
    });
    engine.run();
    BOOST_REQUIRE(!seen.empty());
    BOOST_TEST(seen.at("nsp").as_string() == "/chat");
    BOOST_TEST(seen.at("query").at("room").as_string() == "r1");
    BOOST_TEST(seen.at("query").at("lang").as_string() == "zh cn");
    BOOST_TEST(seen.at("query").at("EIO").as_string() == "4");
    BOOST_TEST(seen.at("headers").at("x-client").as_string() == "wsload-test");
    BOOST_TEST(seen.at("headers").at("origin").as_string() == "http://app.example");
    BOOST_TEST(seen.at("headers").at("cookie").as_string() == "session=s1");
    BOOST_TEST(seen.at("auth").at("token").as_string() == "t0k");
}

BOOST_AUTO_TEST_CASE(the_runs_compression_applies_unless_a_client_says_otherwise, *boost::unit_test::timeout(60))
{
    // --compression reaches Socket.IO's WebSocket as it reaches a plain one; a client's own
    // .compression(false) wins. The server compresses every message it may: the acks of the
    // compressed connection come back deflated and are read.
    server_process server(WSLOAD_SOCKETIO_SERVER, {"--compression", "1"});
    auto config = sio_config(url_of(server), 2);
    config.compression = wsload::deflate_options();
    std::mutex lock;
    std::array<std::string, 2> offered;  // the Sec-WebSocket-Extensions the server saw, per user
    std::array<bool, 2> echoed{};
    wsload::runtime::engine engine(config, [&](wsload::user& u) -> wsload::task<> {
        auto o = sio::options();
        if (u.index() == 1) o.compression(false);
        auto io = co_await sio::connect(u, o);
        if (!io) co_return;
        auto who = co_await io.emit_with_ack("whoami", {}, {.timeout = 5s, .intended_at = {}, .name = {}, .key = {}});
        const std::string payload(4000, 'z');  // compresses well: a broken inflate would not echo it
        const auto request = boost::json::serialize(boost::json::object{{"id", 7}, {"data", payload}});
        auto ack = co_await io.emit_with_ack("request", request, {.timeout = 5s, .intended_at = {}, .name = {}, .key = {}});
        std::lock_guard g(lock);
        if (who) {
            const auto doc = who->json();  // a value: the reference below must not outlive it
            const auto& headers = doc.as_array().at(0).as_object().at("headers").as_object();
            if (const auto* e = headers.if_contains("sec-websocket-extensions")) offered[u.index()] = e->as_string().c_str();
        }
        echoed[u.index()] = ack && ack->json().as_array().at(0).at("echo").at("data").as_string() == payload;
    });
    const auto r = engine.run();
    BOOST_TEST(offered[0].find("permessage-deflate") != std::string::npos);
    BOOST_TEST(offered[1].empty());
    BOOST_TEST(echoed[0]);
    BOOST_TEST(echoed[1]);
    BOOST_TEST((*r.totals)[stats::counter_id::requests_answered] == 6u);  // 2 connects, 4 emits
    check_request_accounting(*r.totals);
}

BOOST_AUTO_TEST_CASE(the_heartbeat_is_answered_and_a_server_disconnect_is_a_peer_close, *boost::unit_test::timeout(60))
{
    server_process server(WSLOAD_SOCKETIO_SERVER, {"--ping-interval", "100", "--ping-timeout", "200"});
    std::atomic<bool> was_open_after_pings{false};
    wsload::runtime::engine engine(sio_config(url_of(server), 1), [&](wsload::user& u) -> wsload::task<> {
        auto io = co_await sio::connect(u);
        BOOST_REQUIRE(io);
        co_await u.think(700ms);  // ~6 server pings: unanswered, the server would drop us after 300 ms
        was_open_after_pings = io.is_open();
        co_await io.emit("bye");
        co_await io.wait_closed();
        BOOST_TEST((io.end_reason() == stats::disconnect_reason::peer_close));
    });
    const auto r = engine.run();
    const auto& t = *r.totals;
    BOOST_TEST(was_open_after_pings.load());
    BOOST_TEST(t[stats::counter_id::server_pings_answered] >= 4u);
    BOOST_TEST(t.disconnects[static_cast<std::size_t>(stats::disconnect_reason::peer_close)] == 1u);
    check_request_accounting(t);
}

/// `n` bytes in which every byte value occurs, shifted by `seed`: an attachment whose
/// content, order and length a test can check.
std::string pattern(std::size_t n, unsigned seed)
{
    std::string bytes(n, '\0');
    for (std::size_t i = 0; i < n; ++i) bytes[i] = static_cast<char>((i * 7 + seed) & 0xFF);
    return bytes;
}

// emit_binary against the real server: attachments of 0 B, 1 B and 64 KiB, then several in one
// emit (one inside an object). The server acks with the same arguments, its Buffers sent back as
// attachments: each ack must bring back every byte in order. A fire-and-forget binary emit of
// "echo" comes back as an event with its attachments. Every WebSocket message written is
// counted once: the packet and each attachment.
BOOST_AUTO_TEST_CASE(binary_emits_send_their_attachments_and_acks_bring_them_back, *boost::unit_test::timeout(60))
{
    server_process server(WSLOAD_SOCKETIO_SERVER, {});
    const std::vector<std::vector<std::string>> cases = {
        {""}, {"z"}, {pattern(64 * 1024, 1)}, {pattern(10, 2), "", pattern(1000, 3), pattern(64 * 1024, 4)}};
    const auto arguments_of = [](std::size_t i, const std::vector<std::string>& parts) {
        sio::arguments a;
        a.json(R"({"case":)" + std::to_string(i) + "}");
        for (std::size_t j = 0; j < parts.size(); ++j) {
            if (parts.size() > 1 && j + 1 == parts.size()) a.json(R"({"inner":)" + a.attach(parts[j]) + "}");
            else a.binary(parts[j]);
        }
        return a;
    };
    const std::vector<std::string> echoed = {pattern(300, 5), pattern(1, 6)};
    // Recorded on the behaviour's thread, asserted here (Boost.Test is not thread-safe).
    std::mutex lock;
    std::vector<std::vector<std::string>> acked(cases.size());
    std::vector<std::int64_t> acked_case(cases.size(), -1);
    std::vector<std::string> echo_back;
    std::string echo_name;
    wsload::runtime::engine engine(sio_config(url_of(server), 1), [&](wsload::user& u) -> wsload::task<> {
        auto io = co_await sio::connect(u);
        if (!io) co_return;
        for (std::size_t i = 0; i < cases.size(); ++i) {
            const auto a = arguments_of(i, cases[i]);
            wsload::request_options o;  // named: an aggregate temporary must not be made in a co_await (g++ 12)
            o.timeout = 5s;
            auto ack = co_await io.emit_binary_with_ack("binary", a, o);
            if (!ack) continue;
            const auto args = ack->json().as_array();
            std::lock_guard g(lock);
            acked[i] = ack->attachments;
            acked_case[i] = args.at(0).at("case").as_int64();
        }
        sio::arguments e;
        e.binary(echoed[0]).json("2").binary(echoed[1]);
        const bool sent = co_await io.emit_binary("echo", e);
        auto back = co_await io.receive(5s);
        if (sent && back) {
            std::lock_guard g(lock);
            echo_back = back->attachments;
            echo_name = back->name;
        }
        co_await io.disconnect();
    });
    const auto r = engine.run();
    const auto& t = *r.totals;
    std::uint64_t parts = 0, part_bytes = 0, text_bytes = 0;
    for (std::size_t i = 0; i < cases.size(); ++i) {
        BOOST_TEST_CONTEXT("case " << i)
        {
            BOOST_TEST(acked_case[i] == static_cast<std::int64_t>(i));
            BOOST_TEST(acked[i] == cases[i]);
        }
        parts += cases[i].size();
        for (const auto& b : cases[i]) part_bytes += b.size();
        text_bytes += sio::encode_emit("/", i, "binary", arguments_of(i, cases[i])).size();
    }
    BOOST_TEST(echo_name == "echo");
    BOOST_TEST(echo_back == echoed);
    const auto* binary = named(t, "binary");
    BOOST_REQUIRE(binary);
    BOOST_TEST(binary->sent == cases.size());  // one request per emit, whatever its attachments
    BOOST_TEST(binary->answered == cases.size());
    BOOST_TEST(binary->round_trip.count() == cases.size());
    // Sent: "40", each packet and its attachments, the echo's packet and its two, "41".
    sio::arguments e;
    e.binary(echoed[0]).json("2").binary(echoed[1]);
    text_bytes += 2 + sio::encode_emit("/", std::nullopt, "echo", e).size() + 2;
    part_bytes += echoed[0].size() + echoed[1].size();
    BOOST_TEST(t[stats::counter_id::messages_sent] == 1 + cases.size() + parts + 1 + echoed.size() + 1);
    BOOST_TEST(t[stats::counter_id::bytes_sent] == text_bytes + part_bytes);
    BOOST_TEST(t[stats::counter_id::unmatched_replies] == 0u);
    BOOST_TEST(t.disconnects[static_cast<std::size_t>(stats::disconnect_reason::client_close)] == 1u);
    check_request_accounting(t);
    // The server took every packet whole: the Buffers it rebuilt, and no parse error.
    BOOST_REQUIRE(server.stop() == 0);
    const auto& line = server.process().stderr_text();
    BOOST_TEST(server_count(line, "binaries") == cases.size());
    BOOST_TEST(server_count(line, "buffers") == parts);
    BOOST_TEST(server_count(line, "parse errors") == 0u);
}

// Several coroutines of one user send at once on one connection while binary emits are under
// way: 256 KiB attachments (more than the socket takes at once, so each write waits for room
// and the others try to send meanwhile), text emits with acks, fire-and-forget binary emits, and
// Engine.IO pongs to the server's pings every 20 ms. socket.io-parser refuses a message that
// comes between a binary packet and its attachments (a parse error that drops the connection):
// the server counts none, every Buffer arrives, every ack comes back with its bytes.
BOOST_AUTO_TEST_CASE(concurrent_emits_never_come_between_a_binary_packet_and_its_attachments, *boost::unit_test::timeout(90))
{
    using namespace boost::asio::experimental::awaitable_operators;
    server_process server(WSLOAD_SOCKETIO_SERVER, {"--ping-interval", "20"});
    constexpr std::uint64_t users = 2, big_emits = 6, big_parts = 3, texts = 40, small_emits = 20;
    constexpr std::size_t big = 256 * 1024;
    std::atomic<std::uint64_t> good_big{0}, good_text{0}, small_sent{0};
    wsload::runtime::engine engine(sio_config(url_of(server), users), [&](wsload::user& u) -> wsload::task<> {
        auto io = co_await sio::connect(u);
        if (!io) co_return;
        auto bigs = [&]() -> wsload::task<> {
            for (std::uint64_t i = 0; i < big_emits; ++i) {
                sio::arguments a;
                std::vector<std::string> sent;
                a.json(std::to_string(i));
                for (std::uint64_t j = 0; j < big_parts; ++j) {
                    sent.push_back(pattern(big, static_cast<unsigned>(u.index() * 31 + i * 7 + j)));
                    a.binary(sent.back());
                }
                wsload::request_options o;
                o.timeout = 20s;
                auto ack = co_await io.emit_binary_with_ack("binary", a, o);
                if (ack && ack->attachments == sent) ++good_big;
            }
        };
        auto asks = [&](std::uint64_t from) -> wsload::task<> {
            for (std::uint64_t i = from; i < from + texts; ++i) {
                const auto body = R"({"id":)" + std::to_string(i) + "}";
                wsload::request_options o;
                o.timeout = 20s;
                auto ack = co_await io.emit_with_ack("request", body, o);
                if (ack && ack->json().as_array().at(0).at("id").to_number<std::uint64_t>() == i) ++good_text;
            }
        };
        auto smalls = [&]() -> wsload::task<> {
            for (std::uint64_t i = 0; i < small_emits; ++i) {
                sio::arguments a;
                a.binary(pattern(100, static_cast<unsigned>(i))).json(std::to_string(i)).binary("");
                if (co_await io.emit_binary("binary", a)) ++small_sent;
            }
        };
        co_await (bigs() && asks(0) && smalls() && asks(1000));
        co_await io.disconnect();
    });
    const auto r = engine.run();
    const auto& t = *r.totals;
    BOOST_TEST(good_big.load() == users * big_emits);
    BOOST_TEST(good_text.load() == users * 2 * texts);
    BOOST_TEST(small_sent.load() == users * small_emits);
    BOOST_TEST(named(t, "binary")->answered == users * big_emits);
    BOOST_TEST(named(t, "request")->answered == users * 2 * texts);
    BOOST_TEST(t[stats::counter_id::unmatched_replies] == 0u);
    BOOST_TEST(t.disconnects[static_cast<std::size_t>(stats::disconnect_reason::client_close)] == users);
    BOOST_TEST(t[stats::counter_id::server_pings_answered] > 0u);  // pongs took turns too
    // Every message: "40", the big emits and their parts, the text emits, the small emits and
    // their two parts each, "41", and the pongs (one answered at the very end may not get out).
    const auto written = users * (2 + big_emits * (1 + big_parts) + 2 * texts + small_emits * 3);
    const auto pongs = t[stats::counter_id::server_pings_answered];
    BOOST_TEST(t[stats::counter_id::messages_sent] <= written + pongs);
    BOOST_TEST(t[stats::counter_id::messages_sent] + users >= written + pongs);
    check_request_accounting(t);
    BOOST_REQUIRE(server.stop() == 0);
    const auto& line = server.process().stderr_text();
    BOOST_TEST(server_count(line, "parse errors") == 0u);
    BOOST_TEST(server_count(line, "connections") == users);
    BOOST_TEST(server_count(line, "binaries") == users * (big_emits + small_emits));
    BOOST_TEST(server_count(line, "buffers") == users * (big_emits * big_parts + small_emits * 2));
    BOOST_TEST(server_count(line, "buffer bytes") == users * (big_emits * big_parts * big + small_emits * 100));
    BOOST_TEST(server_count(line, "acks") == users * 2 * texts);
}

BOOST_AUTO_TEST_CASE(a_closed_port_and_a_wrong_scheme_fail_in_their_classes, *boost::unit_test::timeout(60))
{
    const auto port = wsload::test::free_tcp_port();
    std::atomic<int> connected{0};
    wsload::runtime::engine engine(sio_config("http://127.0.0.1:" + std::to_string(port), 3),
                                   [&](wsload::user& u) -> wsload::task<> {
                                       auto io = co_await sio::connect(u);
                                       if (io) ++connected;
                                   });
    const auto r = engine.run();
    BOOST_TEST(connected.load() == 0);
    BOOST_TEST(r.totals->connect_failures[static_cast<std::size_t>(stats::connect_failure::refused)] == 3u);
    BOOST_TEST(named(*r.totals, "connect /") == nullptr);  // no WebSocket: no Socket.IO connect to count

    wsload::runtime::engine misuse(sio_config("tcp://127.0.0.1:9", 1), [](wsload::user& u) -> wsload::task<> {
        co_await sio::connect(u);
    });
    misuse.run();
    BOOST_TEST(misuse.misuse() ==
               "\"tcp://127.0.0.1:9\" is not a Socket.IO URL (Socket.IO takes http://, https://, ws:// and wss://)");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(socketio_against_misbehaving_servers)

// Acks for an id never used, a duplicate, and one after its request timed out: each counted
// once in unmatched_replies; the requests end answered or timed out, exactly.
BOOST_AUTO_TEST_CASE(unknown_duplicate_and_late_acks_are_unmatched, *boost::unit_test::timeout(60))
{
    frame_server server([](peer& p) -> boost::asio::awaitable<void> {
        if (!co_await accept_session(p)) co_return;
        // emit 0: acked twice, then an ack for id 77 nobody used.
        const auto first = co_await next_text(p);  // 420["request",...]
        co_await p.send(frame(wsload::test::opcode::text, R"(430["ok"])"));
        co_await p.send(frame(wsload::test::opcode::text, R"(430["again"])"));
        co_await p.send(frame(wsload::test::opcode::text, R"(4377["who?"])"));
        // emit 1: acked after its 200 ms timeout.
        const auto second = co_await next_text(p);
        boost::asio::steady_timer wait(co_await boost::asio::this_coro::executor, 400ms);
        co_await wait.async_wait(boost::asio::use_awaitable);
        co_await p.send(frame(wsload::test::opcode::text, R"(431["late"])"));
        co_await next_text(p, 5s);  // until the client goes
        (void)first, (void)second;
    });
    wsload::runtime::engine engine(sio_config("http://127.0.0.1:" + std::to_string(server.port()), 1),
                                   [](wsload::user& u) -> wsload::task<> {
                                       auto io = co_await sio::connect(u);
                                       BOOST_REQUIRE(io);
                                       auto a = co_await io.emit_with_ack("request", "1", {.timeout = 2s, .intended_at = {}, .name = {}, .key = {}});
                                       BOOST_TEST(a.has_value());
                                       auto b = co_await io.emit_with_ack("request", "2", {.timeout = 200ms, .intended_at = {}, .name = {}, .key = {}});
                                       BOOST_TEST(!b.has_value());
                                       co_await u.think(500ms);  // the late ack arrives meanwhile
                                       co_await io.disconnect();
                                   });
    const auto r = engine.run();
    const auto& t = *r.totals;
    BOOST_TEST(named(t, "request")->sent == 2u);
    BOOST_TEST(named(t, "request")->answered == 1u);
    BOOST_TEST(named(t, "request")->timed_out == 1u);
    BOOST_TEST(t[stats::counter_id::unmatched_replies] == 3u);  // the duplicate, id 77, the late one
    check_request_accounting(t);
}

// A namespace connect nobody answers ends as a timed-out "connect /" and the WebSocket is closed.
BOOST_AUTO_TEST_CASE(an_unanswered_namespace_connect_times_out, *boost::unit_test::timeout(60))
{
    frame_server server([](peer& p) -> boost::asio::awaitable<void> {
        co_await send_open(p);
        co_await next_text(p);      // the CONNECT, never answered
        co_await next_text(p, 5s);  // until the client goes
    });
    std::atomic<int> connected{0};
    wsload::runtime::engine engine(sio_config("http://127.0.0.1:" + std::to_string(server.port()), 2),
                                   [&](wsload::user& u) -> wsload::task<> {
                                       auto io = co_await sio::connect(u, sio::options().connect_timeout(300ms));
                                       if (io) ++connected;
                                   });
    const auto r = engine.run();
    BOOST_TEST(connected.load() == 0);
    const auto& t = *r.totals;
    BOOST_TEST(named(t, "connect /")->timed_out == 2u);
    BOOST_TEST(t.disconnects[static_cast<std::size_t>(stats::disconnect_reason::client_close)] == 2u);
    check_request_accounting(t);
}

// No open packet at all: the connect is counted as timed out too (it was never sent).
BOOST_AUTO_TEST_CASE(a_missing_open_packet_times_the_connect_out, *boost::unit_test::timeout(60))
{
    frame_server server([](peer& p) -> boost::asio::awaitable<void> { co_await next_text(p, 5s); });
    wsload::runtime::engine engine(sio_config("http://127.0.0.1:" + std::to_string(server.port()), 1),
                                   [](wsload::user& u) -> wsload::task<> {
                                       auto io = co_await sio::connect(u, sio::options().connect_timeout(300ms));
                                       BOOST_TEST(!io);
                                   });
    const auto r = engine.run();
    BOOST_TEST(named(*r.totals, "connect /")->sent == 1u);
    BOOST_TEST(named(*r.totals, "connect /")->timed_out == 1u);
    check_request_accounting(*r.totals);
}

// Broken packets end the connection as protocol_error, once, whatever the break.
BOOST_AUTO_TEST_CASE(broken_packets_end_the_connection_as_protocol_error, *boost::unit_test::timeout(60))
{
    const std::vector<std::string> broken{
        "9",                         // no such Engine.IO type
        "4",                         // a message without a Socket.IO packet
        "42",                        // an event without its array
        "42{\"a\":1}",               // an event whose data is not an array
        "43[\"x\"]",                 // an ack without its id
        "4x[]",                      // no such Socket.IO type
        "42[1,2]",                   // an event without a name
        "451[\"x\"]",                // an attachment count without its '-'
        "459999-[\"x\"]",            // more attachments than a packet may announce
        "0{\"sid\":\"again\"}",      // a second open packet
        "5",                         // an upgrade on a WebSocket transport
    };
    for (const auto& packet : broken) {
        BOOST_TEST_CONTEXT("packet " << packet)
        {
            frame_server server([packet](peer& p) -> boost::asio::awaitable<void> {
                if (!co_await accept_session(p)) co_return;
                co_await p.send(frame(wsload::test::opcode::text, packet));
                co_await next_text(p, 5s);
            });
            wsload::runtime::engine engine(sio_config("http://127.0.0.1:" + std::to_string(server.port()), 1),
                                           [](wsload::user& u) -> wsload::task<> {
                                               auto io = co_await sio::connect(u);
                                               BOOST_REQUIRE(io);
                                               auto a = co_await io.emit_with_ack("request", "1", {.timeout = 5s, .intended_at = {}, .name = {}, .key = {}});
                                               BOOST_TEST(!a.has_value());
                                               co_await io.wait_closed();
                                               BOOST_TEST((io.end_reason() == stats::disconnect_reason::protocol_error));
                                           });
            const auto r = engine.run();
            const auto& t = *r.totals;
            BOOST_TEST(t.disconnects[static_cast<std::size_t>(stats::disconnect_reason::protocol_error)] == 1u);
            BOOST_TEST(named(t, "request")->failed == 1u);
            check_request_accounting(t);
        }
    }
}

// A server that stops pinging: the connection ends as ping_timeout after pingInterval + pingTimeout.
BOOST_AUTO_TEST_CASE(a_quiet_heartbeat_ends_as_ping_timeout, *boost::unit_test::timeout(60))
{
    // The script runs on the server's thread: it records, the test asserts (Boost.Test is not
    // thread-safe).
    auto pong = std::make_shared<std::string>();
    auto pong_lock = std::make_shared<std::mutex>();
    frame_server server([pong, pong_lock](peer& p) -> boost::asio::awaitable<void> {
        co_await send_open(p, 100, 100);
        const auto connect = co_await next_text(p);
        if (connect.rfind("40", 0) != 0) co_return;
        co_await p.send(frame(wsload::test::opcode::text, R"(40{"sid":"n1"})"));
        co_await p.send(frame(wsload::test::opcode::text, "2"));
        const auto answer = co_await next_text(p);
        {
            std::lock_guard g(*pong_lock);
            *pong = answer;
        }
        co_await next_text(p, 5s);  // then silence, until the client goes
    });
    wsload::runtime::engine engine(sio_config("http://127.0.0.1:" + std::to_string(server.port()), 1),
                                   [](wsload::user& u) -> wsload::task<> {
                                       auto io = co_await sio::connect(u);
                                       BOOST_REQUIRE(io);
                                       const auto start = wsload::clock::now();
                                       co_await io.wait_closed();
                                       BOOST_TEST((io.end_reason() == stats::disconnect_reason::ping_timeout));
                                       BOOST_TEST((wsload::clock::now() - start < 2s));
                                   });
    const auto r = engine.run();
    BOOST_TEST(r.totals->disconnects[static_cast<std::size_t>(stats::disconnect_reason::ping_timeout)] == 1u);
    BOOST_TEST((*r.totals)[stats::counter_id::server_pings_answered] == 1u);
    std::lock_guard g(*pong_lock);
    BOOST_TEST(*pong == "3");
}

// A binary packet whose attachments arrive, and a binary message nobody announced.
BOOST_AUTO_TEST_CASE(attachments_are_gathered_and_a_stray_binary_message_is_broken, *boost::unit_test::timeout(60))
{
    frame_server server([](peer& p) -> boost::asio::awaitable<void> {
        if (!co_await accept_session(p)) co_return;
        co_await p.send(frame(wsload::test::opcode::text, R"(452-["file",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}])"));
        co_await p.send(frame(wsload::test::opcode::binary, "one"));
        co_await p.send(frame(wsload::test::opcode::binary, "two"));
        co_await p.send(frame(wsload::test::opcode::binary, "stray"));
        co_await next_text(p, 5s);
    });
    wsload::runtime::engine engine(sio_config("http://127.0.0.1:" + std::to_string(server.port()), 1),
                                   [](wsload::user& u) -> wsload::task<> {
                                       auto io = co_await sio::connect(u);
                                       BOOST_REQUIRE(io);
                                       auto e = co_await io.receive(5s);
                                       BOOST_REQUIRE(e);
                                       BOOST_TEST(e->name == "file");
                                       BOOST_TEST(e->attachments == (std::vector<std::string>{"one", "two"}));
                                       co_await io.wait_closed();
                                       BOOST_TEST((io.end_reason() == stats::disconnect_reason::protocol_error));
                                   });
    engine.run();
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(socketio_example)

// Seed 003 end to end: socketio_bench's levels against the bundled server, the seed's table
// printed, and the JSON result's figures exact against the server's own counts.
BOOST_AUTO_TEST_CASE(the_seed_levels_run_and_print_the_comparison_table, *boost::unit_test::timeout(90))
{
    server_process server(WSLOAD_SOCKETIO_SERVER, {"--delay", "2"});
    wsload::test::temp_dir dir;
    const auto json = (dir.path() / "result.json").string();
    wsload::test::child_process bench({WSLOAD_SOCKETIO_BENCH, "levels", "--server", url_of(server), "--clients", "3,6",
                                       "--duration", "1", "--quiet", "--json", json});
    const auto status = bench.wait_for_exit(60s);
    BOOST_REQUIRE(status.has_value());
    const auto out = bench.stdout_text();
    BOOST_TEST(*status == 0, out + bench.stderr_text());
    for (const char* line : {"===== Socket.IO stress test (seed 003) =====", "| scenario     | concurrency | total requests",
                             "| level 3      |           3 |", "| level 6      |           6 |", "SIO  request", "SIO  connect /"})
        BOOST_TEST(out.find(line) != std::string::npos, line);
    std::ifstream in(json);
    std::stringstream text;
    text << in.rdbuf();
    const auto result = boost::json::parse(text.str()).as_object();
    const auto counter = [&](std::string_view name) {
        return result.at("counters").as_object().at(name).to_number<std::uint64_t>();
    };
    BOOST_TEST(counter("requests_sent") == counter("requests_answered"));  // every emit acked, none lost
    BOOST_TEST(counter("requests_sent") > 100u);
    BOOST_REQUIRE(server.stop() == 0);
    const auto& line = server.process().stderr_text();
    BOOST_TEST(server_count(line, "connections") == 6u);
    BOOST_TEST(server_count(line, "acks") + 6 == counter("requests_answered"));  // + the 6 namespace connects
}

BOOST_AUTO_TEST_SUITE_END()
