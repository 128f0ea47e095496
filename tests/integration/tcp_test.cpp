// Raw TCP (tcp://) on the shared connection core, against real servers on loopback: Debian's
// socat as a third-party echo, and a byte-scripted server for the bad input of issue 15 (a
// length over the limit, a frame cut by a close, bytes that stall one at a time). Every attempt,
// message and request is counted exactly once, and the classes sum to the totals.

#include <support/child_process.hpp>
#include <wsload/net/tcp/connection.hpp>
#include <wsload/runtime/engine.hpp>

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/read_until.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/test/unit_test.hpp>

#include <optional>
#include <atomic>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
namespace stats = wsload::stats;

namespace {

/// A TCP server on 127.0.0.1 (port 0) with its own thread and io_context: serve() runs as a
/// coroutine per accepted connection.
class threaded_tcp_server {
public:
    threaded_tcp_server(const threaded_tcp_server&) = delete;
    threaded_tcp_server& operator=(const threaded_tcp_server&) = delete;
    virtual ~threaded_tcp_server() { stop(); }
    std::string url() const { return "tcp://127.0.0.1:" + std::to_string(port_); }

protected:
    threaded_tcp_server()
    {
        acceptor_.open(boost::asio::ip::tcp::v4());
        acceptor_.set_option(boost::asio::socket_base::reuse_address(true));
        acceptor_.bind({boost::asio::ip::make_address("127.0.0.1"), 0});
        acceptor_.listen();
        port_ = acceptor_.local_endpoint().port();
    }
    /// Called by the derived constructor, once it can serve.
    void start()
    {
        boost::asio::co_spawn(io_, accept(), boost::asio::detached);
        thread_ = std::thread([this] { io_.run(); });
    }
    /// Called by the derived destructor, before its members go.
    void stop()
    {
        io_.stop();
        if (thread_.joinable()) thread_.join();
    }
    virtual boost::asio::awaitable<void> serve(boost::asio::ip::tcp::socket socket) = 0;
    boost::asio::io_context io_{1};

private:
    boost::asio::awaitable<void> accept()
    {
        for (;;) {
            auto socket = co_await acceptor_.async_accept(boost::asio::use_awaitable);
            boost::asio::co_spawn(io_, serve(std::move(socket)), boost::asio::detached);
        }
    }

    boost::asio::ip::tcp::acceptor acceptor_{io_};
    std::uint16_t port_ = 0;
    std::thread thread_;
};

/// Writes `chunks` to every connection, `gap` apart, then ends it with a FIN (or keeps it open
/// until the client goes when `hold` is set). Runs on its own thread.
class tcp_script_server final : public threaded_tcp_server {
public:
    tcp_script_server(std::vector<std::string> chunks, std::chrono::milliseconds gap, bool hold)
        : chunks_(std::move(chunks)), gap_(gap), hold_(hold)
    {
        start();
    }
    ~tcp_script_server() override { stop(); }

private:
    boost::asio::awaitable<void> serve(boost::asio::ip::tcp::socket socket) override
    {
        boost::asio::steady_timer wait(io_);
        for (const auto& chunk : chunks_) {
            co_await boost::asio::async_write(socket, boost::asio::buffer(chunk), boost::asio::use_awaitable);
            wait.expires_after(gap_);
            co_await wait.async_wait(boost::asio::use_awaitable);
        }
        if (!hold_) {
            socket.shutdown(boost::asio::ip::tcp::socket::shutdown_send);
        }
        char sink[256];
        for (;;) {  // until the client goes
            auto [ec, n] = co_await socket.async_read_some(boost::asio::buffer(sink),
                                                           boost::asio::as_tuple(boost::asio::use_awaitable));
            if (ec) break;
        }
    }

    std::vector<std::string> chunks_;
    std::chrono::milliseconds gap_;
    bool hold_;
};

/// Reads lines and, every `batch` of them, first pushes one line no request asked for
/// (`{"id":"push"}`) and then sends the batch back in reverse order: replies that arrive out of
/// order, as keyed protocols allow. Runs on its own thread.
class tcp_reversing_server final : public threaded_tcp_server {
public:
    explicit tcp_reversing_server(std::size_t batch) : batch_(batch) { start(); }
    ~tcp_reversing_server() override { stop(); }

private:
    boost::asio::awaitable<void> serve(boost::asio::ip::tcp::socket socket) override
    {
        std::string buffer;
        std::vector<std::string> lines;
        for (;;) {
            auto [ec, n] = co_await boost::asio::async_read_until(socket, boost::asio::dynamic_buffer(buffer), '\n',
                                                                   boost::asio::as_tuple(boost::asio::use_awaitable));
            if (ec) co_return;
            lines.push_back(buffer.substr(0, n));
            buffer.erase(0, n);
            if (lines.size() < batch_) continue;
            std::string out = "{\"id\":\"push\"}\n";
            for (auto line = lines.rbegin(); line != lines.rend(); ++line) out += *line;
            lines.clear();
            auto [wec, written] = co_await boost::asio::async_write(socket, boost::asio::buffer(out),
                                                                     boost::asio::as_tuple(boost::asio::use_awaitable));
            if (wec) co_return;
        }
    }

    std::size_t batch_;
};

wsload::run_config tcp_config(const std::string& url, std::uint64_t users)
{
    wsload::run_config c;
    c.name = "tcp";
    c.target = wsload::net::parse_url(url);
    c.users = users;
    c.duration = 20s;  // a bound: the run ends when every user has
    c.threads = 2;
    c.quiet = true;
    return c;
}

void check_accounting(const stats::totals& t, std::uint64_t users)
{
    BOOST_TEST(t[stats::counter_id::connect_attempts] == users);
    BOOST_TEST(t[stats::counter_id::connect_successes] + t.failures() == users);
    BOOST_TEST(t.disconnect_total() == t[stats::counter_id::connect_successes]);
    BOOST_TEST(t[stats::counter_id::active_connections] == 0u);
    BOOST_TEST(t[stats::counter_id::requests_sent] ==
               t[stats::counter_id::requests_answered] + t[stats::counter_id::requests_timed_out] +
                   t[stats::counter_id::requests_failed]);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(raw_tcp)

// socat (Debian's) echoes every line back: each request is answered once, nothing else arrives.
BOOST_AUTO_TEST_CASE(line_requests_against_socat_echo_are_counted_exactly, *boost::unit_test::timeout(60))
{
    const auto port = wsload::test::free_tcp_port();
    wsload::test::child_process socat({"/usr/bin/socat", "-d", "-d",
                                       "TCP-LISTEN:" + std::to_string(port) + ",bind=127.0.0.1,reuseaddr,fork",
                                       "EXEC:/bin/cat"});
    // socat -d -d says "listening on ..." once its socket is bound: readiness, not a sleep.
    bool listening = false;
    while (!listening)
        if (auto line = socat.read_stderr_line(10'000ms); !line) break;
        else listening = line->find("listening on") != std::string::npos;
    BOOST_REQUIRE_MESSAGE(listening, "socat did not start listening: " + socat.stderr_text());
    constexpr std::uint64_t users = 20, per_user = 10;
    wsload::runtime::engine engine(tcp_config("tcp://127.0.0.1:" + std::to_string(port), users),
                                   [](wsload::user& u) -> wsload::task<> {
                                       auto c = co_await wsload::tcp::connect(u);
                                       if (!c) co_return;
                                       for (std::uint64_t i = 0; i < per_user; ++i) {
                                           const auto text = u.id() + " says " + std::to_string(i);
                                           co_await c.request(text, [&](std::string_view r) { return r == text; },
                                                              {.timeout = 5s, .intended_at = {}, .name = "echo"});
                                       }
                                       co_await c.close();
                                   });
    const auto r = engine.run();
    const auto& t = *r.totals;
    check_accounting(t, users);
    BOOST_TEST(t[stats::counter_id::connect_successes] == users);
    BOOST_TEST(t[stats::counter_id::requests_answered] == users * per_user);
    BOOST_TEST(t[stats::counter_id::messages_sent] == users * per_user);
    BOOST_TEST(t[stats::counter_id::messages_received] == users * per_user);
    BOOST_TEST(t.ended(stats::disconnect_reason::client_close) == users);
    BOOST_TEST(t[stats::histogram_id::round_trip].count() == users * per_user);
    BOOST_TEST(t[stats::histogram_id::connect_upgrade].count() == 0u);  // raw TCP has no handshake
    const auto named = t.requests.find({"TCP", "echo"});
    BOOST_REQUIRE(named != t.requests.end());
    BOOST_TEST(named->second.answered == users * per_user);
}

// Five requests in flight at once on one connection (five coroutines: their sends queue, none is
// refused), answered in reverse order with a push first: each found by its key, the push counted
// as a message no request claimed.
BOOST_AUTO_TEST_CASE(keyed_requests_in_flight_together_are_matched_by_key_in_any_order, *boost::unit_test::timeout(60))
{
    using namespace boost::asio::experimental::awaitable_operators;
    tcp_reversing_server server(5);
    constexpr std::uint64_t users = 20, rounds = 4;
    std::atomic<std::uint64_t> right{0}, pushes{0};
    wsload::runtime::engine engine(tcp_config(server.url(), users), [&](wsload::user& u) -> wsload::task<> {
        auto o = wsload::tcp::options().reply_key(wsload::reply_key::json_field("id"));
        auto c = co_await wsload::tcp::connect(u, std::move(o));
        if (!c) co_return;
        for (std::uint64_t round = 0; round < rounds; ++round) {
            auto one = [&](int i) -> wsload::task<> {
                const auto key = std::to_string(round * 10 + static_cast<std::uint64_t>(i));
                const auto line = "{\"id\":" + key + ",\"user\":\"" + u.id() + "\"}";
                auto reply = co_await c.request(line, {.timeout = 5s, .intended_at = {}, .name = "keyed", .key = key});
                if (reply && reply->text() == line) ++right;
            };
            co_await (one(0) && one(1) && one(2) && one(3) && one(4));
            if (auto push = co_await c.receive(1s); push && push->text() == "{\"id\":\"push\"}") ++pushes;
        }
        co_await c.close();
    });
    const auto r = engine.run();
    const auto& t = *r.totals;
    check_accounting(t, users);
    BOOST_TEST(right.load() == users * rounds * 5);
    BOOST_TEST(pushes.load() == users * rounds);
    BOOST_TEST(t[stats::counter_id::requests_answered] == users * rounds * 5);
    BOOST_TEST(t[stats::counter_id::messages_sent] == users * rounds * 5);
    BOOST_TEST(t[stats::counter_id::messages_received] == users * rounds * 6);
    BOOST_TEST(t[stats::histogram_id::round_trip].count() == users * rounds * 5);
    BOOST_TEST(t[stats::counter_id::behaviour_errors] == 0u);
    BOOST_TEST(t.ended(stats::disconnect_reason::client_close) == users);
}

// Two requests in flight with one key could not be told apart: the second is the behaviour's
// error (counted, never sent) and the first, cancelled with it by `&&` before any reply (the
// server answers pairs), ends as timed out. A key on a connection without reply_key is the
// behaviour's error too, before anything is sent.
BOOST_AUTO_TEST_CASE(a_duplicate_key_or_a_key_without_reply_key_is_a_behaviour_error, *boost::unit_test::timeout(60))
{
    using namespace boost::asio::experimental::awaitable_operators;
    tcp_reversing_server server(2);
    constexpr std::uint64_t users = 4;
    std::atomic<std::uint64_t> answered{0};
    wsload::runtime::engine engine(tcp_config(server.url(), users), [&](wsload::user& u) -> wsload::task<> {
        if (u.index() % 2 == 0) {
            auto c = co_await wsload::tcp::connect(u);  // no reply_key
            if (!c) co_return;
            co_await c.request("{\"id\":1}", {.timeout = 2s, .intended_at = {}, .name = {}, .key = "1"});
            co_return;
        }
        auto c = co_await wsload::tcp::connect(u, wsload::tcp::options().reply_key(wsload::reply_key::json_field("id")));
        if (!c) co_return;
        auto first = [&]() -> wsload::task<> {
            if (co_await c.request("{\"id\":7}", {.timeout = 2s, .intended_at = {}, .name = {}, .key = "7"})) ++answered;
        };
        auto second = [&]() -> wsload::task<> {
            co_await c.request("{\"id\":7}", {.timeout = 2s, .intended_at = {}, .name = {}, .key = "7"});
        };
        co_await (first() && second());
    });
    const auto r = engine.run();
    const auto& t = *r.totals;
    check_accounting(t, users);
    BOOST_TEST(t[stats::counter_id::behaviour_errors] == users);
    BOOST_TEST(t[stats::counter_id::requests_sent] == users / 2);
    BOOST_TEST(t[stats::counter_id::requests_timed_out] == users / 2);
    BOOST_TEST(answered.load() == 0u);
}

// A 4-byte length header announcing 10 MB against a 1 MiB limit: message_too_big at once, before
// any of it is buffered, counted once per connection.
BOOST_AUTO_TEST_CASE(a_length_over_the_limit_ends_as_message_too_big, *boost::unit_test::timeout(60))
{
    tcp_script_server server({std::string("\x00\x98\x96\x80", 4) + "abc"}, 10ms, true);
    constexpr std::uint64_t users = 10;
    wsload::runtime::engine engine(tcp_config(server.url(), users), [](wsload::user& u) -> wsload::task<> {
        auto c = co_await wsload::tcp::connect(
            u, wsload::tcp::options().framing(wsload::tcp::framing::length_prefixed(4)).max_message_bytes(1 << 20));
        if (c) co_await c.wait_closed();
    });
    const auto r = engine.run();
    check_accounting(*r.totals, users);
    BOOST_TEST(r.totals->ended(stats::disconnect_reason::message_too_big) == users);
    BOOST_TEST((*r.totals)[stats::counter_id::messages_received] == 0u);
}

// "one\ntw" then FIN: one message, the cut frame is not a message, the end is the peer's orderly close.
BOOST_AUTO_TEST_CASE(a_frame_cut_by_a_close_is_dropped_and_the_end_is_peer_close, *boost::unit_test::timeout(60))
{
    tcp_script_server server({"one\ntw"}, 10ms, false);
    constexpr std::uint64_t users = 10;
    wsload::runtime::engine engine(tcp_config(server.url(), users), [](wsload::user& u) -> wsload::task<> {
        auto c = co_await wsload::tcp::connect(u);
        if (c) co_await c.wait_closed();
    });
    const auto r = engine.run();
    check_accounting(*r.totals, users);
    BOOST_TEST(r.totals->ended(stats::disconnect_reason::peer_close) == users);
    BOOST_TEST((*r.totals)[stats::counter_id::messages_received] == users);
}

// A reply that trickles in one byte every 20 ms still arrives whole, once.
BOOST_AUTO_TEST_CASE(bytes_that_stall_one_at_a_time_make_one_message, *boost::unit_test::timeout(60))
{
    std::vector<std::string> bytes;
    for (char ch : std::string("slow reply\n")) bytes.emplace_back(1, ch);
    tcp_script_server server(bytes, 20ms, true);
    constexpr std::uint64_t users = 4;
    std::atomic<int> whole{0};
    wsload::runtime::engine engine(tcp_config(server.url(), users), [&](wsload::user& u) -> wsload::task<> {
        auto c = co_await wsload::tcp::connect(u);
        if (!c) co_return;
        if (auto m = co_await c.receive(5s); m && m->text() == "slow reply") ++whole;
        co_await c.close();
    });
    const auto r = engine.run();
    check_accounting(*r.totals, users);
    BOOST_TEST(whole.load() == static_cast<int>(users));
    BOOST_TEST((*r.totals)[stats::counter_id::messages_received] == users);
    BOOST_TEST(r.totals->ended(stats::disconnect_reason::client_close) == users);
}

// A custom framing that never finds a frame: what is buffered for it stays bounded (the limit
// plus room for a header), and the connection ends as message_too_big, counted once.
BOOST_AUTO_TEST_CASE(a_custom_framing_that_never_decides_is_bounded, *boost::unit_test::timeout(60))
{
    std::vector<std::string> chunks(20, std::string(16 * 1024, 'z'));  // 320 KiB, no frame in it
    tcp_script_server server(chunks, 1ms, true);
    constexpr std::uint64_t users = 4;
    const auto never = wsload::tcp::framing::custom([](std::string_view) { return wsload::tcp::decoded{}; });
    wsload::runtime::engine engine(tcp_config(server.url(), users), [&](wsload::user& u) -> wsload::task<> {
        auto c = co_await wsload::tcp::connect(u, wsload::tcp::options().framing(never).max_message_bytes(128 * 1024));
        if (c) co_await c.wait_closed();
    });
    const auto r = engine.run();
    check_accounting(*r.totals, users);
    BOOST_TEST(r.totals->ended(stats::disconnect_reason::message_too_big) == users);
}

// expect_json: a line that is not JSON ends the connection as protocol_error, counted once;
// the JSON line before it is delivered.
BOOST_AUTO_TEST_CASE(invalid_json_where_json_is_expected_is_a_protocol_error, *boost::unit_test::timeout(60))
{
    tcp_script_server server({"{\"ok\":1}\n", "not json\n", "{\"never\":2}\n"}, 10ms, true);
    constexpr std::uint64_t users = 6;
    std::atomic<int> first{0};
    wsload::runtime::engine engine(tcp_config(server.url(), users), [&](wsload::user& u) -> wsload::task<> {
        auto c = co_await wsload::tcp::connect(u, wsload::tcp::options().expect_json());
        if (!c) co_return;
        if (auto m = co_await c.receive(5s); m && m->text() == "{\"ok\":1}") ++first;
        co_await c.wait_closed();
    });
    const auto r = engine.run();
    check_accounting(*r.totals, users);
    BOOST_TEST(first.load() == static_cast<int>(users));
    BOOST_TEST(r.totals->ended(stats::disconnect_reason::protocol_error) == users);
    BOOST_TEST((*r.totals)[stats::counter_id::messages_received] == users);
}

// A payload the framing cannot carry (a line holding the delimiter) is the behaviour's error:
// the request counts as failed, the behaviour as thrown, nothing is sent.
BOOST_AUTO_TEST_CASE(a_payload_the_framing_cannot_carry_is_a_behaviour_error, *boost::unit_test::timeout(60))
{
    tcp_script_server server({}, 10ms, true);
    constexpr std::uint64_t users = 4;
    wsload::runtime::engine engine(tcp_config(server.url(), users), [](wsload::user& u) -> wsload::task<> {
        auto c = co_await wsload::tcp::connect(u);
        if (!c) co_return;
        co_await c.request("two\nlines", [](std::string_view) { return true; });
    });
    const auto r = engine.run();
    const auto& t = *r.totals;
    check_accounting(t, users);
    BOOST_TEST(t[stats::counter_id::behaviour_errors] == users);
    BOOST_TEST(t[stats::counter_id::requests_failed] == users);
    BOOST_TEST(t[stats::counter_id::messages_sent] == 0u);
    BOOST_TEST(t.ended(stats::disconnect_reason::client_close) == users);  // the handle closed it
}

/// socat (Debian's) as a TLS echo on 127.0.0.1 with a fresh self-signed certificate.
struct tls_echo {
    wsload::test::temp_dir dir;
    std::uint16_t port = wsload::test::free_tcp_port();
    std::optional<wsload::test::child_process> socat;

    tls_echo()
    {
        wsload::test::make_self_signed_certificate(dir.path());
        socat.emplace(std::vector<std::string>{
            "/usr/bin/socat", "-d", "-d",
            "OPENSSL-LISTEN:" + std::to_string(port) + ",bind=127.0.0.1,reuseaddr,fork,verify=0,cert=" +
                (dir.path() / "cert.pem").string() + ",key=" + (dir.path() / "key.pem").string(),
            "EXEC:/bin/cat"});
        bool listening = false;
        while (!listening)
            if (auto line = socat->read_stderr_line(10'000ms); !line) break;
            else listening = line->find("listening on") != std::string::npos;
        BOOST_REQUIRE_MESSAGE(listening, "socat did not start listening: " + socat->stderr_text());
    }
    std::string url() const { return "tls://127.0.0.1:" + std::to_string(port); }
    std::string ca_file() const { return (dir.path() / "cert.pem").string(); }
};

wsload::runtime::behavior tls_echo_user(std::uint64_t per_user)
{
    return [per_user](wsload::user& u) -> wsload::task<> {
        auto c = co_await wsload::tcp::connect(u);
        if (!c) co_return;
        for (std::uint64_t i = 0; i < per_user; ++i) {
            const auto text = u.id() + " over TLS " + std::to_string(i);
            co_await c.request(text, [&](std::string_view r) { return r == text; });
        }
        co_await c.close();
    };
}

// tls:// verifies the server against --ca-file, times the TLS phase, and counts as plain TCP does.
BOOST_AUTO_TEST_CASE(tls_line_requests_against_socat_are_verified_and_counted_exactly, *boost::unit_test::timeout(90))
{
    tls_echo server;
    constexpr std::uint64_t users = 10, per_user = 5;
    auto c = tcp_config(server.url(), users);
    c.ca_file = server.ca_file();
    wsload::runtime::engine engine(c, tls_echo_user(per_user));
    const auto r = engine.run();
    const auto& t = *r.totals;
    check_accounting(t, users);
    BOOST_TEST(t[stats::counter_id::connect_successes] == users);
    BOOST_TEST(t[stats::histogram_id::connect_tls].count() == users);
    BOOST_TEST(t[stats::counter_id::requests_answered] == users * per_user);
    BOOST_TEST(t[stats::counter_id::messages_received] == users * per_user);
    BOOST_TEST(t.ended(stats::disconnect_reason::client_close) == users);
}

// Without the CA the certificate cannot be verified: every attempt is a tls failure, once.
BOOST_AUTO_TEST_CASE(tls_with_an_unknown_certificate_fails_each_attempt_as_tls, *boost::unit_test::timeout(90))
{
    tls_echo server;
    constexpr std::uint64_t users = 10;
    wsload::test::temp_dir other;
    wsload::test::make_self_signed_certificate(other.path());  // a CA that did not sign the server's
    auto c = tcp_config(server.url(), users);
    c.ca_file = (other.path() / "cert.pem").string();
    wsload::runtime::engine engine(c, tls_echo_user(1));
    const auto r = engine.run();
    check_accounting(*r.totals, users);
    BOOST_TEST(r.totals->failed(stats::connect_failure::tls) == users);
}

// u.websocket() on a tcp:// target is the run's usage error, named once; not a failure per user.
BOOST_AUTO_TEST_CASE(a_transport_given_a_url_it_cannot_use_ends_the_run_with_one_line, *boost::unit_test::timeout(60))
{
    wsload::runtime::engine engine(tcp_config("tcp://127.0.0.1:9", 50), [](wsload::user& u) -> wsload::task<> {
        auto ws = co_await u.websocket();
        if (ws) co_await ws.wait_closed();
    });
    const auto r = engine.run();
    BOOST_TEST(engine.misuse() == "\"tcp://127.0.0.1:9\" is not a WebSocket URL (WebSocket takes ws:// and wss://)");
    BOOST_TEST((*r.totals)[stats::counter_id::connect_attempts] == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
