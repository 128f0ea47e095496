// permessage-deflate (RFC 7692), the client's side, against frame_server: the server's answer
// to the offer checked as section 7 says, RSV1 where it may and may not be, compressed messages
// both ways (with and without context takeover), and a decompression bomb. Independent of the
// frame layer (ctest runs the suite against Beast's too); the client's frames are inflated here
// with a stream of the test's own.

#include <support/frame_server.hpp>
#include <support/layer_under_test.hpp>
#include <wsload/runtime/engine.hpp>

#include <boost/beast/zlib/deflate_stream.hpp>
#include <boost/beast/zlib/inflate_stream.hpp>
#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

using namespace std::chrono_literals;

namespace {

namespace pmd_stats = wsload::stats;
namespace pmd_zlib = boost::beast::zlib;
namespace pmd_op = wsload::test::opcode;
using pmd_script_task = boost::asio::awaitable<void>;
using wsload::test::frame;
using wsload::test::frame_server;
using wsload::test::peer;
using wsload::test::upgrade_reply;

constexpr std::uint64_t pmd_clients = 4;

wsload::runtime::run_result pmd_run(const frame_server& server, wsload::runtime::behavior b)
{
    wsload::run_config c;
    c.name = "deflate";
    c.target = wsload::net::parse_url(server.url());
    c.users = pmd_clients;
    c.duration = 20s;  // a bound: the run ends when every behaviour has returned
    c.connect_timeout = 5s;
    c.close_timeout = 2s;
    c.threads = 2;
    c.ws_layer = wsload::test::layer_under_test();
    wsload::runtime::engine engine(c, std::move(b));
    return engine.run();
}

void pmd_counted_once(const pmd_stats::totals& t)
{
    BOOST_TEST(t[pmd_stats::counter_id::connect_attempts] == pmd_clients);
    BOOST_TEST(t[pmd_stats::counter_id::connect_successes] + t.failures() == pmd_clients);
    BOOST_TEST(t.disconnect_total() == t[pmd_stats::counter_id::connect_successes]);
    BOOST_TEST(t[pmd_stats::counter_id::active_connections] == 0u);
}

std::vector<wsload::test::connection_record> pmd_seen(const frame_server& server)
{
    BOOST_TEST_REQUIRE(server.wait_until_ended(pmd_clients));
    auto records = server.connections();
    BOOST_TEST_REQUIRE(records.size() == pmd_clients);
    for (const auto& c : records) BOOST_TEST(c.script_error.empty(), c.script_error);
    return records;
}

unsigned pmd_close_sent(const wsload::test::connection_record& c)
{
    const auto* f = c.close_frame();
    return f ? f->close_code() : 0;
}

/// A message compressed as a permessage-deflate sender does (sync flush, 00 00 FF FF removed).
std::string pmd_compress(pmd_zlib::deflate_stream& s, std::string_view in)
{
    std::string out(in.size() + 64, '\0');
    pmd_zlib::z_params zp;
    zp.next_in = in.data();
    zp.avail_in = in.size();
    zp.next_out = out.data();
    zp.avail_out = out.size();
    boost::system::error_code ec;
    s.write(zp, pmd_zlib::Flush::sync, ec);
    out.resize(zp.total_out);
    if (out.size() >= 4) out.resize(out.size() - 4);
    return out;
}

/// A compressed payload inflated (00 00 FF FF appended) by `s`, which keeps its window.
std::string pmd_inflate(pmd_zlib::inflate_stream& s, std::string payload)
{
    payload.append("\0\0\xff\xff", 4);
    std::string out(16 << 20, '\0');
    pmd_zlib::z_params zp;
    zp.next_in = payload.data();
    zp.avail_in = payload.size();
    zp.next_out = out.data();
    zp.avail_out = out.size();
    boost::system::error_code ec;
    s.write(zp, pmd_zlib::Flush::sync, ec);
    out.resize(zp.total_out);
    return out;
}

std::string pmd_text(std::size_t n, int seed)
{
    std::string s;
    while (s.size() < n) s += "{\"user\":\"u" + std::to_string(seed) + "\",\"seq\":" + std::to_string(s.size() % 97) + "}";
    s.resize(n);
    return s;
}

/// The data messages the client sent on `c`, their frames joined, with the RSV bits of each
/// first frame; a continuation frame with an RSV bit is reported as rsv 0xFF.
std::vector<std::pair<std::uint8_t, std::string>> pmd_messages(const wsload::test::connection_record& c)
{
    std::vector<std::pair<std::uint8_t, std::string>> out;
    bool open = false;
    for (const auto& f : c.frames) {
        if (f.opcode == pmd_op::text || f.opcode == pmd_op::binary) {
            out.emplace_back(f.rsv, f.payload);
            open = !f.fin;
        } else if (f.opcode == pmd_op::continuation && open && !out.empty()) {
            if (f.rsv != 0) out.back().first = 0xFF;
            out.back().second += f.payload;
            open = !f.fin;
        }
    }
    return out;
}

/// Echoes each message with its RSV bits: a compressed message comes back compressed. (The
/// client's inflater has seen the same plain text as its deflater, so this holds with context
/// takeover too.)
pmd_script_task pmd_echo(peer& p)
{
    while (auto f = co_await p.read_frame()) {
        if (f->opcode == pmd_op::close) {
            co_await p.send(frame(pmd_op::close, f->payload.substr(0, 2)));
            p.close_tcp();
            co_return;
        }
        if (f->opcode == pmd_op::ping) co_await p.send(frame(pmd_op::pong, f->payload));
        else co_await p.send(frame(f->opcode, f->payload).fin(f->fin).rsv(f->rsv));
    }
}

/// Sends a message and waits for its echo, `n` times; returns how many came back equal.
wsload::runtime::behavior pmd_send_and_check(wsload::websocket_options o, std::vector<std::string> messages,
                                             std::atomic<int>& equal)
{
    return [o, messages, &equal](wsload::user& u) -> wsload::task<> {
        auto ws = co_await u.websocket(o);
        if (!ws) co_return;
        for (const auto& m : messages) {
            auto r = co_await ws.request(m, [&m](std::string_view reply) { return reply == m; });
            if (r) ++equal;
        }
        co_await ws.close(1000);
    };
}

wsload::runtime::behavior pmd_connect_and_wait(wsload::websocket_options o)
{
    return [o](wsload::user& u) -> wsload::task<> {
        auto ws = co_await u.websocket(o);
        co_await ws.wait_closed();
    };
}

}  // namespace

BOOST_AUTO_TEST_SUITE(permessage_deflate)

BOOST_AUTO_TEST_CASE(messages_go_compressed_both_ways_and_count_uncompressed_bytes, *boost::unit_test::timeout(60))
{
    frame_server server(pmd_echo, upgrade_reply().extensions("permessage-deflate"));
    const std::vector<std::string> messages{pmd_text(1000, 1), pmd_text(64 * 1024, 2), "short", pmd_text(200 * 1024, 3)};
    std::size_t total = 0;
    for (const auto& m : messages) total += m.size();
    std::atomic<int> equal{0};
    const auto r = pmd_run(server, pmd_send_and_check(wsload::websocket_options().compression(true), messages, equal));
    BOOST_TEST(equal.load() == static_cast<int>(pmd_clients * messages.size()));
    BOOST_TEST((*r.totals)[pmd_stats::counter_id::bytes_sent] == pmd_clients * total);
    BOOST_TEST((*r.totals)[pmd_stats::counter_id::bytes_received] == pmd_clients * total);
    BOOST_TEST(r.totals->ended(pmd_stats::disconnect_reason::client_close) == pmd_clients);
    pmd_counted_once(*r.totals);
    for (const auto& c : pmd_seen(server)) {
        BOOST_TEST(c.header("Sec-WebSocket-Extensions").starts_with("permessage-deflate"));
        pmd_zlib::inflate_stream in;  // one per connection: the client takes its context over
        in.reset(15);
        std::size_t i = 0, wire = 0;
        for (const auto& [rsv, payload] : pmd_messages(c)) {
            BOOST_TEST(rsv == 0b100u);  // RSV1 on the first frame only: compressed
            BOOST_TEST_REQUIRE(i < messages.size());
            BOOST_TEST((pmd_inflate(in, payload) == messages[i]), "message " << i);
            wire += payload.size();
            ++i;
        }
        BOOST_TEST(i == messages.size());
        BOOST_TEST(wire * 10 < total);  // repetitive text: far fewer bytes on the wire
    }
}

BOOST_TEST_DECORATOR(*boost::unit_test::timeout(60))
BOOST_DATA_TEST_CASE(no_context_takeover_compresses_equal_messages_to_equal_bytes, boost::unit_test::data::make({true, false}),
                     no_context)
{
    frame_server server(pmd_echo,
                        upgrade_reply().extensions(no_context ? "permessage-deflate; client_no_context_takeover" : "permessage-deflate"));
    const auto m = pmd_text(4000, 7);
    std::atomic<int> equal{0};
    const auto r = pmd_run(server, pmd_send_and_check(wsload::websocket_options().compression(true), {m, m, m}, equal));
    BOOST_TEST(equal.load() == static_cast<int>(pmd_clients * 3));
    pmd_counted_once(*r.totals);
    for (const auto& c : pmd_seen(server)) {
        const auto sent = pmd_messages(c);
        BOOST_TEST_REQUIRE(sent.size() == 3u);
        for (const auto& m : sent) BOOST_TEST(m.first == 0b100u);
        if (no_context) {
            BOOST_TEST(sent[0].second == sent[1].second);
            BOOST_TEST(sent[1].second == sent[2].second);
        } else {
            BOOST_TEST(sent[1].second.size() < sent[0].second.size() / 2);  // it refers to the first
        }
    }
}

BOOST_TEST_DECORATOR(*boost::unit_test::timeout(60))
BOOST_DATA_TEST_CASE(the_servers_messages_are_inflated_with_and_without_its_context_takeover,
                     boost::unit_test::data::make({true, false}), no_context)
{
    const auto a = pmd_text(3000, 1), b = pmd_text(3000, 1) + "!";
    frame_server server(
        [no_context, a, b](peer& p) -> pmd_script_task {
            pmd_zlib::deflate_stream out;
            out.reset(6, 15, 8, pmd_zlib::Strategy::normal);
            co_await p.send(frame(pmd_op::text, pmd_compress(out, a)).rsv(0b100));
            if (no_context) out.reset();
            co_await p.send(frame(pmd_op::text, pmd_compress(out, b)).rsv(0b100));
            co_await p.send(frame(pmd_op::text, "plain"));  // a message may go uncompressed
            co_await pmd_echo(p);
        },
        upgrade_reply().extensions(no_context ? "permessage-deflate; server_no_context_takeover" : "permessage-deflate"));
    std::atomic<int> right{0};
    const auto r = pmd_run(server, [&](wsload::user& u) -> wsload::task<> {
        auto ws = co_await u.websocket(wsload::websocket_options().compression(true));
        if (!ws) co_return;
        for (const auto* want : {&a, &b}) {
            auto m = co_await ws.receive(5s);
            if (m && m->text() == *want) ++right;
        }
        auto plain = co_await ws.receive(5s);
        if (plain && plain->text() == "plain") ++right;
        co_await ws.close(1000);
    });
    BOOST_TEST(right.load() == static_cast<int>(3 * pmd_clients));
    BOOST_TEST((*r.totals)[pmd_stats::counter_id::bytes_received] == pmd_clients * (a.size() + b.size() + 5));
    pmd_counted_once(*r.totals);
    pmd_seen(server);
}

BOOST_TEST_DECORATOR(*boost::unit_test::timeout(60))
BOOST_DATA_TEST_CASE(answers_rfc_7692_forbids_fail_the_handshake,
                     boost::unit_test::data::make(std::vector<std::string>{
                         "x-webkit-deflate-frame",                                  // not offered
                         "permessage-deflate, permessage-deflate",                  // twice
                         "permessage-deflate\r\nSec-WebSocket-Extensions: permessage-deflate",  // twice, two fields
                         "permessage-deflate; foo",                                 // unknown parameter
                         "permessage-deflate; server_no_context_takeover; server_no_context_takeover",  // duplicate
                         "permessage-deflate; client_no_context_takeover=1",        // a value where none goes
                         "permessage-deflate; server_max_window_bits",              // no value
                         "permessage-deflate; server_max_window_bits=7",            // out of range
                         "permessage-deflate; server_max_window_bits=16",
                         "permessage-deflate; server_max_window_bits=011",          // not as 7.1.2 writes it
                         "permessage-deflate; server_max_window_bits=12",           // more than the 10 asked
                         "permessage-deflate; client_max_window_bits=11",           // more than the 10 offered
                         "permessage-deflate; client_max_window_bits",              // no value in an answer
                         "permessage-deflate;",                                     // a parameter missing
                         "permessage-deflate; client_max_window_bits=9",            // server_max_window_bits=10 not answered
                     }),
                     answer)
{
    frame_server server(pmd_echo, upgrade_reply().extensions(answer));
    const auto offer = wsload::deflate_options().client_max_window_bits(10).server_max_window_bits(10);
    const auto r = pmd_run(server, pmd_connect_and_wait(wsload::websocket_options().compression(offer)));
    BOOST_TEST(r.totals->failed(pmd_stats::connect_failure::handshake) == pmd_clients);
    pmd_counted_once(*r.totals);
    for (const auto& c : pmd_seen(server)) BOOST_TEST(c.frames.empty());
}

BOOST_AUTO_TEST_CASE(an_extension_answered_but_not_offered_fails_the_handshake, *boost::unit_test::timeout(60))
{
    frame_server server(pmd_echo, upgrade_reply().extensions("permessage-deflate"));
    const auto r = pmd_run(server, pmd_connect_and_wait(wsload::websocket_options()));
    BOOST_TEST(r.totals->failed(pmd_stats::connect_failure::handshake) == pmd_clients);
    pmd_counted_once(*r.totals);
}

BOOST_AUTO_TEST_CASE(a_declined_offer_leaves_messages_uncompressed, *boost::unit_test::timeout(60))
{
    frame_server server(pmd_echo);  // no Sec-WebSocket-Extensions in its 101
    std::atomic<int> equal{0};
    const auto r = pmd_run(server, pmd_send_and_check(wsload::websocket_options().compression(true), {pmd_text(500, 1)}, equal));
    BOOST_TEST(equal.load() == static_cast<int>(pmd_clients));
    pmd_counted_once(*r.totals);
    for (const auto& c : pmd_seen(server))
        for (const auto& f : c.frames) BOOST_TEST(f.rsv == 0u);
    BOOST_TEST((*r.totals)[pmd_stats::counter_id::bytes_sent] == pmd_clients * 500u);
}

BOOST_TEST_DECORATOR(*boost::unit_test::timeout(60))
BOOST_DATA_TEST_CASE(rsv1_where_it_may_not_be_is_a_protocol_error_with_1002,
                     boost::unit_test::data::make(std::vector<std::string>{"ping", "continuation", "not_agreed"}), where)
{
    const bool agreed = where != "not_agreed";
    frame_server server(
        [where](peer& p) -> pmd_script_task {
            if (where == "ping") {
                co_await p.send(frame(pmd_op::ping, "x").rsv(0b100));
            } else if (where == "continuation") {
                co_await p.send(frame(pmd_op::text, "ab").fin(false));
                co_await p.send(frame(pmd_op::continuation, "cd").rsv(0b100));
            } else {
                co_await p.send(frame(pmd_op::text, "abc").rsv(0b100));
            }
            co_await pmd_echo(p);
        },
        agreed ? upgrade_reply().extensions("permessage-deflate") : upgrade_reply());
    const auto r = pmd_run(server, pmd_connect_and_wait(wsload::websocket_options().compression(true)));
    BOOST_TEST(r.totals->ended(pmd_stats::disconnect_reason::protocol_error) == pmd_clients);
    BOOST_TEST((*r.totals)[pmd_stats::counter_id::messages_received] == 0u);
    pmd_counted_once(*r.totals);
    for (const auto& c : pmd_seen(server)) BOOST_TEST(pmd_close_sent(c) == 1002u);
}

BOOST_AUTO_TEST_CASE(a_decompression_bomb_closes_with_1009_as_message_too_big, *boost::unit_test::timeout(60))
{
    // 10 MB of zeros compress to about 10 KB, under the 64 KiB limit; inflated, far over it.
    pmd_zlib::deflate_stream z;
    z.reset(9, 15, 8, pmd_zlib::Strategy::normal);
    const auto bomb = pmd_compress(z, std::string(10'000'000, '\0'));
    BOOST_TEST_REQUIRE(bomb.size() < 64u * 1024u);
    frame_server server(
        [bomb](peer& p) -> pmd_script_task {
            co_await p.send(frame(pmd_op::binary, bomb).rsv(0b100));
            co_await pmd_echo(p);
        },
        upgrade_reply().extensions("permessage-deflate"));
    const auto r = pmd_run(server, pmd_connect_and_wait(
                                       wsload::websocket_options().compression(true).max_message_bytes(64 * 1024)));
    BOOST_TEST(r.totals->ended(pmd_stats::disconnect_reason::message_too_big) == pmd_clients);
    BOOST_TEST((*r.totals)[pmd_stats::counter_id::messages_received] == 0u);
    pmd_counted_once(*r.totals);
    for (const auto& c : pmd_seen(server)) BOOST_TEST(pmd_close_sent(c) == 1009u);
}

BOOST_AUTO_TEST_SUITE_END()
