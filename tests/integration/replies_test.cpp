// The application-level helpers every real-time protocol needs, on the shared correlation path,
// against scripted WebSocket servers on loopback: replies keyed by a JSON field, in any order and
// streamed in several parts (time to first and last part); pushes counted by type; the
// scenario's own heartbeat, answered, missed, and ending the connection after too many misses.

#include <support/child_process.hpp>
#include <support/frame_server.hpp>
#include <support/layer_under_test.hpp>
#include <support/quiet_run.hpp>
#include <wsload/runtime/engine.hpp>
#include <wsload/runtime/reconnect.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <atomic>
#include <memory>
#include <string>
#include <vector>

using namespace std::chrono_literals;
namespace stats = wsload::stats;
using wsload::test::frame;
using wsload::test::frame_server;
using wsload::test::peer;
namespace opcode = wsload::test::opcode;

namespace {

wsload::run_config replies_run(const frame_server& server, std::uint64_t users)
{
    auto c = wsload::test::quiet_run("replies", "ws://127.0.0.1:" + std::to_string(server.port()) + "/", users);
    c.ws_layer = wsload::test::layer_under_test();
    return c;
}

/// The client's next text message; empty when it went.
boost::asio::awaitable<std::string> client_text(peer& p, std::chrono::nanoseconds bound = 5s)
{
    for (;;) {
        auto f = co_await p.read_frame(bound);
        if (!f || f->opcode == opcode::close) co_return std::string();
        if (f->opcode == opcode::text) co_return f->payload;
    }
}

boost::asio::awaitable<bool> say(peer& p, std::string text) { co_return co_await p.send(frame(opcode::text, std::move(text))); }

std::uint64_t pushes_of(const stats::totals& t, std::string_view type)
{
    const auto it = t.pushes.find(type);
    return it == t.pushes.end() ? 0 : it->second;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(protocol_helpers)

// 100 requests in flight on one connection, each answered in two parts (a chunk, then the last
// one), all in reverse order, with pushes of two types and one without a type between them: every
// request answered once, the time to its first and to its last part recorded, every push counted
// by its type and none taken for a reply.
BOOST_AUTO_TEST_CASE(streamed_replies_by_key_in_any_order_and_pushes_by_type, *boost::unit_test::timeout(60))
{
    constexpr int in_flight = 100;
    frame_server server([](peer& p) -> boost::asio::awaitable<void> {
        std::vector<std::string> ids;
        while (ids.size() < in_flight) {
            const auto request = co_await client_text(p);
            if (request.empty()) co_return;
            ids.push_back(std::string(boost::json::parse(request).at("id").as_string()));
        }
        co_await say(p, R"({"type":"presence","who":"u9"})");
        for (auto it = ids.rbegin(); it != ids.rend(); ++it)
            co_await say(p, R"({"respId":")" + *it + R"(","text":"Hello, "})");
        co_await say(p, R"({"type":"chat","text":"not a reply"})");
        co_await say(p, R"({"no":"type"})");
        for (auto it = ids.rbegin(); it != ids.rend(); ++it)
            co_await say(p, R"({"respId":")" + *it + R"(","text":"world.","done":true})");
        co_await say(p, R"({"type":"chat","text":"again"})");
        co_await client_text(p, 5s);  // until the client goes
    });
    std::atomic<int> complete{0}, finished{0};
    wsload::runtime::engine engine(replies_run(server, 1), [&](wsload::user& u) -> wsload::task<> {
        auto ws = co_await u.websocket(wsload::websocket_options()
                                           .reply_key(wsload::reply_key::json_field("respId"))
                                           .push_type(wsload::reply_key::json_field("type"))
                                           .inbox_limit(0));
        if (!ws) co_return;
        auto one = [&](int i) -> wsload::task<> {
            const auto id = "r" + std::to_string(i);
            std::string text;
            auto parts = [&](std::string_view m) {
                const auto v = boost::json::parse(m);
                text += v.at("text").as_string();
                return v.as_object().contains("done") ? wsload::reply::accept : wsload::reply::more;
            };
            const auto request = R"({"id":")" + id + R"("})";
            auto reply = co_await ws.request(request, parts, {.timeout = 5s, .intended_at = {}, .binary = false, .name = "ask", .key = id});
            if (reply && text == "Hello, world.") ++complete;
            ++finished;
        };
        for (int i = 0; i < in_flight; ++i)
            boost::asio::co_spawn(u.worker().get_executor(), one(i), boost::asio::detached);
        // Every request ends within its 5 s timeout: wait for all (they use this frame's locals).
        while (finished.load() < in_flight) co_await u.think(10ms);
        co_await ws.close();
    });
    const auto r = engine.run();
    const auto& t = *r.totals;
    BOOST_TEST(complete.load() == in_flight);
    BOOST_TEST(t[stats::counter_id::requests_answered] == std::uint64_t(in_flight));
    BOOST_TEST(t[stats::histogram_id::first_reply].count() == std::uint64_t(in_flight));
    BOOST_TEST(t[stats::histogram_id::round_trip].count() == std::uint64_t(in_flight));
    BOOST_TEST(t[stats::histogram_id::first_reply].max() <= t[stats::histogram_id::round_trip].max());
    BOOST_TEST(pushes_of(t, "presence") == 1u);
    BOOST_TEST(pushes_of(t, "chat") == 2u);
    BOOST_TEST(pushes_of(t, "(no type)") == 1u);
    BOOST_TEST(t.pushes.size() == 3u);  // replies and their parts are not pushes
    BOOST_TEST(t[stats::counter_id::messages_received] == std::uint64_t(2 * in_flight + 4));
}

// The scenario's heartbeat: `{"type":"ping"}` every 100 ms, its reply within 50 ms. The server
// answers the first three, then never: two misses in a row end the connection as
// app_heartbeat_timeout. Heartbeat replies never reach receive().
BOOST_AUTO_TEST_CASE(the_app_heartbeat_is_timed_and_ends_the_connection_after_its_misses, *boost::unit_test::timeout(60))
{
    frame_server server([](peer& p) -> boost::asio::awaitable<void> {
        for (int answered = 0;;) {
            const auto m = co_await client_text(p);
            if (m.empty()) co_return;
            if (m == R"({"type":"ping"})" && answered < 3) {
                ++answered;
                co_await say(p, R"({"type":"pong"})");
            }
        }
    });
    std::atomic<bool> saw_pong{false};
    wsload::runtime::engine engine(replies_run(server, 1), [&](wsload::user& u) -> wsload::task<> {
        auto ws = co_await u.websocket(wsload::websocket_options().app_heartbeat(
            wsload::app_heartbeat(R"({"type":"ping"})", 100ms)
                .reply([](std::string_view m) { return m.find(R"("pong")") != std::string_view::npos; })
                .timeout(50ms)
                .max_missed(2)));
        if (!ws) co_return;
        while (ws.is_open())
            if (auto m = co_await ws.receive(100ms); m) saw_pong = true;
        BOOST_TEST((ws.end_reason() == stats::disconnect_reason::app_heartbeat_timeout));
    });
    const auto r = engine.run();
    const auto& t = *r.totals;
    BOOST_TEST(!saw_pong.load());
    BOOST_TEST(t[stats::counter_id::app_pings_sent] == 5u);  // 3 answered, 2 missed, then the end
    BOOST_TEST(t[stats::counter_id::app_pongs_received] == 3u);
    BOOST_TEST(t[stats::counter_id::app_pongs_missed] == 2u);
    BOOST_TEST(t[stats::histogram_id::app_ping_round_trip].count() == 3u);
    BOOST_TEST(t.disconnects[static_cast<std::size_t>(stats::disconnect_reason::app_heartbeat_timeout)] == 1u);
    BOOST_TEST(t[stats::counter_id::pings_sent] == 0u);  // apart from WebSocket pings
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(reconnects)

// The server drops the first two connections right after the upgrade (no close frame: a network
// end) and serves the third: the user reconnects twice, counted under "network", resumes its
// session each time (told how many reconnects came before) and ends when its work is done.
BOOST_AUTO_TEST_CASE(dropped_connections_are_reopened_and_the_session_resumed, *boost::unit_test::timeout(60))
{
    auto accepted = std::make_shared<std::atomic<int>>(0);
    frame_server server([accepted](peer& p) -> boost::asio::awaitable<void> {
        if ((*accepted)++ < 2) co_return;  // dropped
        const auto hello = co_await client_text(p);
        co_await say(p, "welcome " + hello);
        co_await client_text(p, 5s);
    });
    std::vector<unsigned> resumed;
    std::atomic<bool> welcomed{false};
    wsload::runtime::engine engine(replies_run(server, 1), [&](wsload::user& u) -> wsload::task<> {
        co_await wsload::keep_connected(
            u, [&] { return u.websocket(); },
            [&](wsload::websocket& ws, unsigned reconnects) -> wsload::task<> {
                resumed.push_back(reconnects);
                auto reply = co_await ws.request("alice", [](std::string_view m) { return m.starts_with("welcome"); },
                                                 {.timeout = 2s, .intended_at = {}, .binary = false, .name = "login", .key = {}});
                if (reply) welcomed = true;
            },
            wsload::reconnect_policy().backoff(10ms, 40ms).jitter(0));
    });
    const auto r = engine.run();
    const auto& t = *r.totals;
    BOOST_TEST(welcomed.load());
    BOOST_TEST(resumed == (std::vector<unsigned>{0, 1, 2}));
    BOOST_TEST(t.reconnects.size() == 1u);
    BOOST_TEST(t.reconnects.at("network") == 2u);
    BOOST_TEST(t[stats::counter_id::connect_attempts] == 3u);
    BOOST_TEST(t[stats::counter_id::reconnects_given_up] == 0u);
    BOOST_TEST(t.disconnects[static_cast<std::size_t>(stats::disconnect_reason::network)] == 2u);
}

// A server that always drops: max_attempts reconnects, then the user gives up, counted once.
// A port nobody listens on: failed connects are retried too, under "connect_failed".
BOOST_AUTO_TEST_CASE(attempts_run_out_and_failed_connects_are_retried, *boost::unit_test::timeout(60))
{
    frame_server server([](peer&) -> boost::asio::awaitable<void> { co_return; });
    wsload::runtime::engine engine(replies_run(server, 2), [&](wsload::user& u) -> wsload::task<> {
        co_await wsload::keep_connected(
            u, [&] { return u.websocket(); }, [](wsload::websocket& ws) -> wsload::task<> { co_await ws.wait_closed(); },
            wsload::reconnect_policy().max_attempts(3).backoff(5ms, 20ms));
    });
    const auto r = engine.run();
    BOOST_TEST(r.totals->reconnects.at("network") == 6u);  // 3 per user
    BOOST_TEST((*r.totals)[stats::counter_id::reconnects_given_up] == 2u);
    BOOST_TEST((*r.totals)[stats::counter_id::connect_attempts] == 8u);

    const auto port = wsload::test::free_tcp_port();
    auto c = wsload::test::quiet_run("reconnects", "ws://127.0.0.1:" + std::to_string(port) + "/", 1);
    c.ws_layer = wsload::test::layer_under_test();
    wsload::runtime::engine refused(c, [&](wsload::user& u) -> wsload::task<> {
        co_await wsload::keep_connected(
            u, [&] { return u.websocket(); }, [](wsload::websocket&) -> wsload::task<> { co_return; },
            wsload::reconnect_policy().max_attempts(2).backoff(1ms, 1ms));
    });
    const auto rr = refused.run();
    BOOST_TEST(rr.totals->reconnects.at("connect_failed") == 2u);
    BOOST_TEST((*rr.totals)[stats::counter_id::reconnects_given_up] == 1u);
    BOOST_TEST(rr.totals->connect_failures[static_cast<std::size_t>(stats::connect_failure::refused)] == 3u);
}

BOOST_AUTO_TEST_CASE(backoff_grows_to_its_bound_with_jitter_below_it)
{
    wsload::random_generator random(7);
    const auto p = wsload::reconnect_policy().backoff(100ms, 1s, 2.0).jitter(0.5);
    for (unsigned k = 1; k <= 8; ++k) {
        const auto full = std::min<std::chrono::nanoseconds>(100ms * (1 << (k - 1)), 1s);
        for (int i = 0; i < 50; ++i) {
            const auto d = p.delay(k, random);
            BOOST_TEST((d <= full && d >= full / 2));
        }
    }
    BOOST_CHECK_THROW(wsload::reconnect_policy().backoff(2s, 1s), wsload::usage_error);
    BOOST_CHECK_THROW(wsload::reconnect_policy().jitter(1.5), wsload::usage_error);
}

BOOST_AUTO_TEST_SUITE_END()
