// The user API, in-process: an engine runs behaviours against a real im_server, and each
// operation's result and its effect on the figures is checked exactly.

#include <support/child_process.hpp>
#include <support/layer_under_test.hpp>
#include <wsload/report/stats_table.hpp>
#include <wsload/runtime/engine.hpp>

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <mutex>

using namespace std::chrono_literals;
namespace stats = wsload::stats;

namespace {

wsload::run_config config_for(const wsload::test::im_server_process& server, std::uint64_t users)
{
    wsload::run_config c;
    c.name = "user-api";
    c.target = wsload::net::parse_url("ws://127.0.0.1:" + std::to_string(server.port()) + "/ws");
    c.users = users;
    c.duration = 20s;  // an upper bound: the run ends when every behaviour has returned
    c.threads = 2;
    c.ws_layer = wsload::test::layer_under_test();
    return c;
}

struct observations {
    std::atomic<int> text{0}, binary{0}, json{0}, quiet_timeout{0}, request{0}, closed{0};
};

}  // namespace

BOOST_AUTO_TEST_SUITE(user_api)

BOOST_AUTO_TEST_CASE(send_receive_request_and_close_each_count_once, *boost::unit_test::timeout(60))
{
    wsload::test::im_server_process server(WSLOAD_IM_SERVER);
    observations seen;
    wsload::runtime::engine engine(config_for(server, 20), [&seen](wsload::user& u) -> wsload::task<> {
        auto ws = co_await u.websocket();
        if (!ws) co_return;

        const std::string text = "hello from " + u.id();
        co_await ws.send(text);
        if (auto m = co_await ws.receive(2s); m && !m->binary && m->data == text) ++seen.text;

        std::string bytes(4, '\0');
        bytes[1] = '\1';
        bytes[3] = '\xff';
        co_await ws.send_binary(bytes);
        if (auto m = co_await ws.receive(2s); m && m->binary && m->data == bytes) ++seen.binary;

        boost::json::object doc;
        doc["user"] = u.index();
        co_await ws.send_json(doc);
        if (auto m = co_await ws.receive(2s); m && m->json().at("user").to_number<std::uint64_t>() == u.index())
            ++seen.json;

        const auto before = wsload::clock::now();
        if (!co_await ws.receive(50ms) && wsload::clock::now() - before >= 50ms) ++seen.quiet_timeout;

        auto reply = co_await ws.request("ping " + u.id(), [&](std::string_view m) { return m == "ping " + u.id(); });
        if (reply) ++seen.request;

        co_await ws.close(1000);
        if (!ws.is_open() && ws.end_reason() == stats::disconnect_reason::client_close) ++seen.closed;
    });
    const auto r = engine.run();
    const auto& t = *r.totals;

    BOOST_TEST(seen.text == 20);
    BOOST_TEST(seen.binary == 20);
    BOOST_TEST(seen.json == 20);
    BOOST_TEST(seen.quiet_timeout == 20);
    BOOST_TEST(seen.request == 20);
    BOOST_TEST(seen.closed == 20);
    BOOST_TEST(t[stats::counter_id::messages_sent] == 80u);
    BOOST_TEST(t[stats::counter_id::messages_received] == 80u);
    BOOST_TEST(t[stats::counter_id::requests_answered] == 20u);
    BOOST_TEST(t[stats::histogram_id::round_trip].count() == 20u);
    BOOST_TEST(t.ended(stats::disconnect_reason::client_close) == 20u);
    BOOST_TEST(t.disconnect_total() == 20u);
    BOOST_TEST(t[stats::counter_id::active_connections] == 0u);
    BOOST_TEST(t[stats::counter_id::users_finished] == 20u);
    BOOST_TEST(r.elapsed < 10s);  // ended when the behaviours did, not at the duration
}

BOOST_AUTO_TEST_CASE(named_requests_are_counted_per_name_and_sum_to_the_totals, *boost::unit_test::timeout(60))
{
    wsload::test::im_server_process server(WSLOAD_IM_SERVER);
    constexpr std::uint64_t n = 12;
    wsload::runtime::engine engine(config_for(server, n), [](wsload::user& u) -> wsload::task<> {
        auto ws = co_await u.websocket();
        if (!ws) co_return;
        const auto echo = [](std::string_view expected) {
            return [e = std::string(expected)](std::string_view m) { return m == e; };
        };
        wsload::request_options login;
        login.name = "login";
        for (int i = 0; i < 3; ++i) {
            const auto text = "login " + u.id() + " " + std::to_string(i);
            co_await ws.request(text, echo(text), login);
        }
        // Nothing ever matches: both time out, under their own name.
        wsload::request_options lost;
        lost.name = "lost reply";
        lost.timeout = 100ms;
        for (int i = 0; i < 2; ++i) co_await ws.request("lost", [](std::string_view) { return false; }, lost);
        const auto text = "plain " + u.id();
        co_await ws.request(text, echo(text));  // unnamed
        co_await ws.close(1000);
    });
    const auto r = engine.run();
    const auto& t = *r.totals;

    const auto named = [&](const char* name) -> const stats::named_totals& {
        static const stats::named_totals none;
        const auto it = t.requests.find(stats::request_key{"WS", name});
        return it == t.requests.end() ? none : it->second;
    };
    BOOST_TEST(t.requests.size() == 3u);
    BOOST_TEST(named("login").sent == 3 * n);
    BOOST_TEST(named("login").answered == 3 * n);
    BOOST_TEST(named("login").round_trip.count() == 3 * n);
    BOOST_TEST(named("lost reply").sent == 2 * n);
    BOOST_TEST(named("lost reply").timed_out == 2 * n);
    BOOST_TEST(named("lost reply").round_trip.count() == 0u);
    BOOST_TEST(named(std::string(stats::unnamed_request).c_str()).answered == n);
    std::uint64_t sent = 0, answered = 0, timed_out = 0, failed = 0, timed = 0;
    for (const auto& [key, figures] : t.requests) {
        sent += figures.sent;
        answered += figures.answered;
        timed_out += figures.timed_out;
        failed += figures.failed;
        timed += figures.round_trip.count();
    }
    BOOST_TEST(sent == t[stats::counter_id::requests_sent]);
    BOOST_TEST(answered == t[stats::counter_id::requests_answered]);
    BOOST_TEST(timed_out == t[stats::counter_id::requests_timed_out]);
    BOOST_TEST(failed == t[stats::counter_id::requests_failed]);
    BOOST_TEST(timed == t[stats::histogram_id::round_trip].count());

    // The Locust-style table: a row per name, in (type, name) order, between connect and the aggregate.
    std::vector<std::string> names;
    for (const auto& row : wsload::report::stats_table(r)) names.emplace_back(row.name);
    const std::vector<std::string> expected{"connect", "connect tcp", "connect upgrade", "login", "lost reply",
                                            std::string(stats::unnamed_request), "Aggregated"};
    BOOST_TEST(names == expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(waits_end_on_cancellation_and_behaviours_await_their_own_asio_operations,
                     *boost::unit_test::timeout(60))
{
    using namespace boost::asio::experimental::awaitable_operators;
    wsload::test::im_server_process server(WSLOAD_IM_SERVER);
    const std::uint64_t n = 8;
    struct {
        std::atomic<int> receive_lost{0}, request_lost{0}, own_timer{0}, echoed_after{0};
    } seen;
    wsload::runtime::engine engine(config_for(server, n), [&seen](wsload::user& u) -> wsload::task<> {
        auto ws = co_await u.websocket();
        if (!ws) co_return;
        // The behaviour's own timer, awaited with wsload's tokens (a task is on the io_context
        // executor: boost::asio::use_awaitable would not compile here).
        wsload::timer t(co_await boost::asio::this_coro::executor);
        t.expires_after(5ms);
        auto [ec] = co_await t.async_wait(wsload::use_task);
        t.expires_after(5ms);
        co_await t.async_wait(wsload::use_awaitable);
        if (!ec) ++seen.own_timer;

        // A receive with a 10 s timeout loses a race with a 50 ms think: it is cancelled and
        // returns at once, not after its timeout.
        const auto t0 = wsload::clock::now();
        auto first = co_await (ws.receive(10s) || u.think(50ms));
        if (first.index() == 1 && wsload::clock::now() - t0 < 2s) ++seen.receive_lost;

        // The same for a request nothing answers: it counts as timed out (the behaviour gave up).
        wsload::request_options o;
        o.name = "raced";
        o.timeout = 10s;
        const auto t1 = wsload::clock::now();
        auto second = co_await (ws.request("never answered", [](std::string_view) { return false; }, o) ||
                                u.think(50ms));
        if (second.index() == 1 && wsload::clock::now() - t1 < 2s) ++seen.request_lost;

        // The connection is still usable, and its echo of "never answered" went to the inbox.
        const auto text = "after " + u.id();
        if (auto m = co_await ws.request(text, [&](std::string_view m) { return m == text; }); m) ++seen.echoed_after;
        co_await ws.close(1000);
    });
    const auto r = engine.run();
    const auto& t = *r.totals;
    BOOST_TEST(seen.own_timer == static_cast<int>(n));
    BOOST_TEST(seen.receive_lost == static_cast<int>(n));
    BOOST_TEST(seen.request_lost == static_cast<int>(n));
    BOOST_TEST(seen.echoed_after == static_cast<int>(n));
    BOOST_TEST(t[stats::counter_id::requests_sent] == 2 * n);
    BOOST_TEST(t[stats::counter_id::requests_timed_out] == n);
    BOOST_TEST(t[stats::counter_id::requests_answered] == n);
    BOOST_TEST(t[stats::counter_id::requests_failed] == 0u);
    BOOST_TEST(t[stats::counter_id::behaviour_errors] == 0u);
    BOOST_TEST(t.ended(stats::disconnect_reason::client_close) == n);
}

BOOST_AUTO_TEST_CASE(a_throwing_behaviour_ends_its_user_only_and_is_counted, *boost::unit_test::timeout(60))
{
    wsload::test::im_server_process server(WSLOAD_IM_SERVER);
    wsload::runtime::engine engine(config_for(server, 6), [](wsload::user& u) -> wsload::task<> {
        auto ws = co_await u.websocket();
        if (u.index() % 2) throw std::runtime_error("behaviour bug");
        co_await ws.close();
    });
    const auto r = engine.run();
    const auto& t = *r.totals;
    BOOST_TEST(t[stats::counter_id::behaviour_errors] == 3u);
    BOOST_TEST(t[stats::counter_id::users_finished] == 6u);
    // A dropped handle closes its connection: the three thrown-away ones end as client_close.
    BOOST_TEST(t.ended(stats::disconnect_reason::client_close) == 6u);
    BOOST_TEST(t[stats::counter_id::active_connections] == 0u);
}

BOOST_AUTO_TEST_CASE(server_close_code_is_classified_and_counted_per_code, *boost::unit_test::timeout(60))
{
    wsload::test::im_server_process server(WSLOAD_IM_SERVER, {"--close-after", "200ms"});
    wsload::runtime::engine engine(config_for(server, 10), [](wsload::user& u) -> wsload::task<> {
        auto ws = co_await u.websocket();
        co_await ws.wait_closed();
    });
    const auto r = engine.run();
    const auto& t = *r.totals;
    BOOST_TEST(t.ended(stats::disconnect_reason::going_away) == 10u);  // im_server closes with 1001
    BOOST_TEST(t.disconnect_total() == 10u);
    BOOST_TEST(r.elapsed < 10s);
}

// Sends from several coroutines of one user take turns: four 1 MiB messages (more than the
// socket takes at once, so each write waits for room) and keyed JSON requests, all started
// together, reach the echo server whole and in one piece each. Each keyed echo is found by its
// respId, each large echo by its matcher.
BOOST_AUTO_TEST_CASE(concurrent_sends_take_turns_and_keyed_replies_find_their_request, *boost::unit_test::timeout(60))
{
    using namespace boost::asio::experimental::awaitable_operators;
    wsload::test::im_server_process server(WSLOAD_IM_SERVER);
    const std::uint64_t n = 4;
    std::atomic<std::uint64_t> whole{0}, keyed{0};
    wsload::runtime::engine engine(config_for(server, n), [&](wsload::user& u) -> wsload::task<> {
        auto ws = co_await u.websocket(wsload::websocket_options().reply_key(wsload::reply_key::json_field("respId")));
        if (!ws) co_return;
        auto big = [&](char fill) -> wsload::task<> {
            const std::string payload(1 << 20, fill);
            wsload::request_options o;
            o.name = "big";
            if (co_await ws.request(payload, [&](std::string_view m) { return m == payload; }, o)) ++whole;
        };
        auto ask = [&](int i) -> wsload::task<> {
            const auto key = u.id() + "-" + std::to_string(i);
            const auto text = "{\"respId\":\"" + key + "\"}";
            wsload::request_options o;
            o.name = "keyed";
            o.key = key;
            if (auto m = co_await ws.request(text, o); m && m->text() == text) ++keyed;
        };
        co_await (big('a') && ask(0) && big('b') && ask(1) && big('c') && ask(2) && big('d'));
        co_await ws.close(1000);
    });
    const auto r = engine.run();
    const auto& t = *r.totals;
    BOOST_TEST(whole.load() == 4 * n);
    BOOST_TEST(keyed.load() == 3 * n);
    BOOST_TEST(t[stats::counter_id::requests_answered] == 7 * n);
    BOOST_TEST(t[stats::counter_id::messages_sent] == 7 * n);
    BOOST_TEST(t[stats::counter_id::messages_received] == 7 * n);
    BOOST_TEST(t[stats::counter_id::behaviour_errors] == 0u);
    BOOST_TEST(t.ended(stats::disconnect_reason::client_close) == n);
}

// Sends that find the write turn taken (behind a 4 MiB message the socket cannot take at once)
// wait in line, each as a node in its own frame, and go out in the order they asked for it: the
// echoes come back in that order. When the connection is closed under such a line, every waiting
// send returns false once (none hangs, none is counted as sent).
BOOST_AUTO_TEST_CASE(waiting_sends_go_out_in_order_and_fail_once_when_the_connection_ends, *boost::unit_test::timeout(60))
{
    using namespace boost::asio::experimental::awaitable_operators;
    wsload::test::im_server_process server(WSLOAD_IM_SERVER);
    constexpr int small = 6;
    std::mutex lock;
    std::vector<std::string> echoes;  // the first byte and size of each echo, in arrival order
    std::atomic<int> sent_before{0}, refused_after{0}, sent_after{0};
    wsload::runtime::engine engine(config_for(server, 1), [&](wsload::user& u) -> wsload::task<> {
        auto ws = co_await u.websocket();
        if (!ws) co_return;
        const std::string big(4 << 20, 'B');
        auto send = [&](std::string text, std::atomic<int>& ok, std::atomic<int>* refused) -> wsload::task<> {
            const bool done = co_await ws.send(text);
            if (done) ++ok;
            else if (refused) ++*refused;
        };
        co_await (send(big, sent_before, nullptr) && send("0", sent_before, nullptr) && send("1", sent_before, nullptr) &&
                  send("2", sent_before, nullptr) && send("3", sent_before, nullptr) && send("4", sent_before, nullptr) &&
                  send("5", sent_before, nullptr));
        for (int i = 0; i <= small; ++i) {
            auto m = co_await ws.receive(10s);
            if (!m) break;
            std::lock_guard g(lock);
            echoes.push_back(std::string(m->text().substr(0, 1)) + ":" + std::to_string(m->text().size()));
        }
        // The end under a line: the big send holds the turn, three wait, and the close comes.
        auto closer = [&]() -> wsload::task<> { co_await ws.close(1000); };
        co_await (send(big, sent_after, &refused_after) && send("x", sent_after, &refused_after) &&
                  send("y", sent_after, &refused_after) && send("z", sent_after, &refused_after) && closer());
    });
    const auto r = engine.run();
    const auto& t = *r.totals;
    BOOST_TEST(sent_before.load() == small + 1);
    std::vector<std::string> expected{"B:" + std::to_string(4 << 20)};
    for (int i = 0; i < small; ++i) expected.push_back(std::to_string(i) + ":1");
    BOOST_TEST(echoes == expected);
    // The close was asked while the big message was going out: the three behind it never went.
    BOOST_TEST(refused_after.load() >= 3);
    BOOST_TEST(sent_after.load() + refused_after.load() == 4);
    BOOST_TEST(t[stats::counter_id::messages_sent] == static_cast<std::uint64_t>(small + 1 + sent_after.load()));
    BOOST_TEST(t.ended(stats::disconnect_reason::client_close) == 1u);
}

// --tls-resume over wss:// against im_server (one process, so its tickets are good for every
// later connect): each user's second connect resumes a session offered to an earlier one,
// counted as tls_sessions_resumed; without it every handshake is a full one.
BOOST_AUTO_TEST_CASE(tls_resume_resumes_the_sessions_the_server_offered, *boost::unit_test::timeout(90))
{
    wsload::test::temp_dir certs;
    wsload::test::make_self_signed_certificate(certs.path());
    const auto cert = (certs.path() / "cert.pem").string();
    wsload::test::im_server_process server(WSLOAD_IM_SERVER,
                                           {"--tls-cert", cert, "--tls-key", (certs.path() / "key.pem").string()});
    constexpr std::uint64_t users = 10;
    for (const bool resume : {false, true}) {
        BOOST_TEST_CONTEXT("tls_resume " << resume)
        {
            auto c = config_for(server, users);
            c.target = wsload::net::parse_url("wss://127.0.0.1:" + std::to_string(server.port()) + "/ws");
            c.ca_file = cert;
            c.tls_resume = resume;
            wsload::runtime::engine engine(c, [](wsload::user& u) -> wsload::task<> {
                for (int round = 0; round < 2; ++round) {
                    auto ws = co_await u.websocket();
                    if (!ws) co_return;
                    const auto text = u.id() + " round " + std::to_string(round);
                    co_await ws.request(text, [&](std::string_view r) { return r == text; });
                    co_await ws.close(1000);
                }
            });
            const auto r = engine.run();
            const auto& t = *r.totals;
            BOOST_TEST(t[stats::counter_id::connect_attempts] == 2 * users);
            BOOST_TEST(t[stats::counter_id::connect_successes] == 2 * users);
            BOOST_TEST(t[stats::histogram_id::connect_tls].count() == 2 * users);
            BOOST_TEST(t[stats::counter_id::requests_answered] == 2 * users);
            BOOST_TEST(t.ended(stats::disconnect_reason::client_close) == 2 * users);
            const auto resumed = t[stats::counter_id::tls_sessions_resumed];
            if (!resume) {
                BOOST_TEST(resumed == 0u);
            } else {
                // Each second connect had its own first connect's tickets to use; a first
                // connect may also have found those of another user on its thread.
                BOOST_TEST(resumed >= users);
                BOOST_TEST(resumed < 2 * users);
            }
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()
