// The HTTP/1.1 client (net/http/) in-process, against two kinds of server on loopback:
//  - a byte-scripted server (support/http_script_server.hpp) for every bad input and edge case a
//    server can produce: a reply that is not HTTP, one cut by a FIN or an RST, one that stalls,
//    one over the body limit, a redirect loop, a kept-alive connection closed while idle or at
//    the next request, a 413 before an upload was read, a reset in the middle of an upload, 1xx
//    replies, HEAD, replies that end their connection;
//  - the bundled upload_server (examples/upload/), started as a process, for the client's
//    features end to end: keep-alive, statuses, cookies, redirects, chunked bodies, timeouts,
//    headers, multipart and file uploads (checked byte for byte against what the server stored),
//    and HTTPS with a certificate made at test time.
// Every request ends in exactly one of answered, rejected, timed out or failed (in one class),
// every attempt and every connection's end is counted once, and the tests assert the exact
// figures.

#include <support/child_process.hpp>
#include <support/http_script_server.hpp>
#include <wsload/net/http/client.hpp>
#include <wsload/runtime/engine.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json.hpp>
#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <charconv>
#include <csignal>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <numeric>
#include <optional>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
namespace stats = wsload::stats;
namespace whttp = wsload::http;
using wsload::test::http_script_connection;
using wsload::test::http_script_response;
using wsload::test::http_script_server;

namespace {

using http_awaitable = boost::asio::awaitable<void>;

/// A run against `url` with `users` users that start at once; `duration` is a bound (the run
/// ends when every user has).
wsload::run_config http_run_config(const std::string& url, std::uint64_t users, std::chrono::nanoseconds duration = 20s)
{
    wsload::run_config c;
    c.name = "http";
    c.target = wsload::net::parse_url(url);
    c.users = users;
    c.duration = duration;
    c.threads = 2;
    c.quiet = true;
    return c;
}

/// A run and how long it took, start to the last user's end.
struct http_timed_run {
    wsload::runtime::run_result result;
    std::chrono::steady_clock::duration took;
    const stats::totals& totals() const { return *result.totals; }
};

http_timed_run http_run(wsload::run_config c, wsload::runtime::behavior b)
{
    const auto start = std::chrono::steady_clock::now();
    wsload::runtime::engine engine(std::move(c), std::move(b));
    auto r = engine.run();
    BOOST_TEST(engine.misuse().empty(), "the run ended on a usage error: " << engine.misuse());
    return {std::move(r), std::chrono::steady_clock::now() - start};
}

template <std::size_t N>
std::uint64_t http_sum(const std::array<std::uint64_t, N>& a)
{
    return std::accumulate(a.begin(), a.end(), std::uint64_t{0});
}

/// The promises every run keeps, whatever the server did: every attempt counted once (a success
/// or one failure class), every established connection ended once, every request in exactly one
/// outcome and every failed one in one class, every response's status counted once (each
/// answered or rejected request had one), the named rows summing to the totals, every user
/// finished.
void http_check_accounting(const stats::totals& t, std::uint64_t users, std::uint64_t behaviour_errors = 0)
{
    using stats::counter_id;
    BOOST_TEST(t[counter_id::connect_attempts] == t[counter_id::connect_successes] + t.failures());
    BOOST_TEST(t.disconnect_total() == t[counter_id::connect_successes]);
    BOOST_TEST(t[counter_id::active_connections] == 0u);
    BOOST_TEST(t[counter_id::users_finished] == users);
    BOOST_TEST(t[counter_id::behaviour_errors] == behaviour_errors);
    BOOST_TEST(t[counter_id::requests_sent] == t[counter_id::requests_answered] + t[counter_id::requests_rejected] +
                                                   t[counter_id::requests_timed_out] + t[counter_id::requests_failed]);
    BOOST_TEST(http_sum(t.request_failures) == t[counter_id::requests_failed]);
    BOOST_TEST(http_sum(t.http_responses) == t[counter_id::requests_answered] + t[counter_id::requests_rejected]);
    stats::named_totals rows;
    for (const auto& [key, figures] : t.requests) rows.add(figures);
    BOOST_TEST(rows.sent == t[counter_id::requests_sent]);
    BOOST_TEST(rows.answered == t[counter_id::requests_answered]);
    BOOST_TEST(rows.rejected == t[counter_id::requests_rejected]);
    BOOST_TEST(rows.timed_out == t[counter_id::requests_timed_out]);
    BOOST_TEST(rows.failed == t[counter_id::requests_failed]);
}

/// The figures of the row (method, name); the test stops there when there is none.
stats::named_totals http_row(const stats::totals& t, const std::string& method, const std::string& name)
{
    const auto it = t.requests.find({method, name});
    BOOST_TEST_REQUIRE((it != t.requests.end()), "no row " << method << " " << name);
    return it->second;
}

/// Every request failed, all of them as `failure`, each on its own fresh connection that ended as `end`.
void http_check_each_failed_as(const stats::totals& t, std::uint64_t users, stats::request_failure failure,
                               stats::disconnect_reason end)
{
    using stats::counter_id;
    http_check_accounting(t, users);
    BOOST_TEST(t[counter_id::requests_sent] == users);
    BOOST_TEST(t[counter_id::requests_failed] == users);
    BOOST_TEST(t.failed(failure) == users);
    BOOST_TEST(t[counter_id::connect_attempts] == users);
    BOOST_TEST(t[counter_id::connect_successes] == users);
    BOOST_TEST(t.ended(end) == users);
    BOOST_TEST(http_sum(t.http_responses) == 0u);
}

/// Each user sends one GET to `path` and nothing else.
wsload::runtime::behavior http_one_get(std::string path, whttp::options o = {})
{
    return [path, o](wsload::user& u) -> wsload::task<> {
        whttp::client api(u, o);
        co_await api.get(path);
    };
}

// ---- the scripted server's cases ---------------------------------------------------------

/// How a server ends a connection before or in the middle of its response, and the classes the
/// request and the connection must end in.
struct http_cut_case {
    const char* name;
    const char* sent_first;  ///< the bytes the server writes before it ends the connection
    bool reset;              ///< an RST (else a FIN)
    stats::request_failure failure;
    stats::disconnect_reason end;
};
std::ostream& operator<<(std::ostream& os, const http_cut_case& c) { return os << c.name; }

const std::vector<http_cut_case> http_cut_cases{
    // Only a fresh connection's "nothing came back" is final: a kept-alive one goes again
    // (http_idempotent_requests_go_again_once below).
    {"a FIN before any byte", "", false, stats::request_failure::closed, stats::disconnect_reason::peer_close},
    {"an RST before any byte", "", true, stats::request_failure::reset, stats::disconnect_reason::network},
    {"a FIN in the header", "HTTP/1.1 200 OK\r\nContent-Len", false, stats::request_failure::reset,
     stats::disconnect_reason::peer_close},
    {"a FIN in a Content-Length body", "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789", false,
     stats::request_failure::reset, stats::disconnect_reason::peer_close},
    {"a FIN in a chunked body", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n0123", false,
     stats::request_failure::reset, stats::disconnect_reason::peer_close},
    {"an RST in a body", "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789", true,
     stats::request_failure::reset, stats::disconnect_reason::network},
};

/// Replies no HTTP parser can take.
const std::vector<std::string> http_not_http_replies{
    "SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n",
    "HTTP/1.1 200 OK\r\nContent-Length: ten\r\n\r\n",
    "HTTP/1.1 2000 OK\r\nContent-Length: 0\r\n\r\n",
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
};

/// Replies over a client's max_body_bytes(4096) (or its 64 KiB header limit), each its own way.
struct http_too_large_case {
    const char* name;
    std::string reply;
    bool fin_after;
};
std::ostream& operator<<(std::ostream& os, const http_too_large_case& c) { return os << c.name; }

std::string http_chunked(unsigned chunks, std::size_t size)
{
    std::string r = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    char hex[16];
    for (unsigned i = 0; i < chunks; ++i) {
        const auto end = std::to_chars(hex, hex + sizeof hex, size, 16).ptr;
        r += std::string(hex, end) + "\r\n" + std::string(size, 'c') + "\r\n";
    }
    return r + "0\r\n\r\n";
}

const std::vector<http_too_large_case> http_too_large_cases{
    {"a Content-Length over the limit", http_script_response(200, std::string(100'000, 'x')), false},
    {"chunks that pass the limit together", http_chunked(3, 2000), false},
    {"a body ended by the close that passes the limit", "HTTP/1.1 200 OK\r\n\r\n" + std::string(10'000, 'x'), true},
    {"a header over 64 KiB", http_script_response(200, "ok", "X-Pad: " + std::string(70'000, 'p') + "\r\n"), false},
};

/// Answers every request on a connection with `reply`, until the client goes.
http_script_server::script http_answer_all(std::string reply)
{
    return [reply](http_script_connection& c) -> http_awaitable {
        while (auto r = co_await c.read_request()) {
            if (!co_await c.read_body(*r)) co_return;
            if (!co_await c.write(reply)) co_return;
        }
    };
}

}  // namespace

BOOST_AUTO_TEST_SUITE(http_client_against_scripted_servers)

// The server ends the connection before or during its reply: one failure in one class each,
// the connection's end in one class; nothing waits for a bound.
BOOST_TEST_DECORATOR(*boost::unit_test::timeout(30))
BOOST_DATA_TEST_CASE(a_reply_cut_by_the_server_fails_in_one_class, boost::unit_test::data::make(http_cut_cases), cut)
{
    http_script_server server([&cut](http_script_connection& c) -> http_awaitable {
        if (!co_await c.read_request()) co_return;
        if (!co_await c.write(cut.sent_first)) co_return;
        if (cut.reset) co_return c.reset();
        c.fin();
        co_await c.drain();
    });
    constexpr std::uint64_t users = 10;
    const auto r = http_run(http_run_config(server.url(), users), http_one_get("/cut"));
    http_check_each_failed_as(r.totals(), users, cut.failure, cut.end);
    BOOST_TEST(server.accepted() == users);
    BOOST_TEST(server.requests() == users);  // the request was not sent again
    BOOST_TEST(http_row(r.totals(), "GET", "/cut").failed == users);
    BOOST_TEST(r.took < 5s);
}

// Bytes that are not an HTTP response (an SSH banner, a bad length, status or chunk): the
// request is failed/unparsable, the connection ends as a protocol error, at once.
BOOST_TEST_DECORATOR(*boost::unit_test::timeout(30))
BOOST_DATA_TEST_CASE(a_reply_that_is_not_http_is_unparsable, boost::unit_test::data::make(http_not_http_replies), reply)
{
    http_script_server server([&reply](http_script_connection& c) -> http_awaitable {
        if (!co_await c.read_request()) co_return;
        if (co_await c.write(reply)) co_await c.drain();  // holds the connection: the client must end it
    });
    constexpr std::uint64_t users = 10;
    const auto r = http_run(http_run_config(server.url(), users), http_one_get("/x"));
    http_check_each_failed_as(r.totals(), users, stats::request_failure::unparsable,
                              stats::disconnect_reason::protocol_error);
    BOOST_TEST(r.took < 5s);
}

// A reply that trickles in one byte every 50 ms: timed out at the request's bound (not at the
// reply's end, 3 s later), its connection closed by the client; the next request opens a new one.
BOOST_AUTO_TEST_CASE(a_reply_that_stalls_byte_by_byte_times_out_and_the_next_request_reconnects,
                     *boost::unit_test::timeout(30))
{
    http_script_server server([](http_script_connection& c) -> http_awaitable {
        while (auto r = co_await c.read_request()) {
            if (r->target == "/stall") {
                co_await c.write_slowly(http_script_response(200, "twenty bytes of body"), 50ms);
                co_return;
            }
            if (!co_await c.write(http_script_response(200, "ok"))) co_return;
        }
    });
    constexpr std::uint64_t users = 10;
    std::atomic<int> timed_out{0}, answered{0};
    const auto r = http_run(http_run_config(server.url(), users), [&](wsload::user& u) -> wsload::task<> {
        whttp::client api(u);
        const auto stalled = co_await api.get("/stall", {.timeout = 400ms});
        if (stalled.timed_out && !stalled && !stalled.failure) ++timed_out;
        for (int i = 0; i < 2; ++i)
            if (const auto ok = co_await api.get("/ok"); ok.ok && ok.body == "ok") ++answered;
    });
    const auto& t = r.totals();
    http_check_accounting(t, users);
    BOOST_TEST(timed_out.load() == static_cast<int>(users));
    BOOST_TEST(answered.load() == static_cast<int>(2 * users));
    BOOST_TEST(t[stats::counter_id::requests_sent] == 3 * users);
    BOOST_TEST(t[stats::counter_id::requests_timed_out] == users);
    BOOST_TEST(t[stats::counter_id::requests_answered] == 2 * users);
    BOOST_TEST(t.http_responses[200] == 2 * users);
    // One connection for the stalled request, one for both later ones; both the client's end.
    BOOST_TEST(t[stats::counter_id::connect_attempts] == 2 * users);
    BOOST_TEST(server.accepted() == 2 * users);
    BOOST_TEST(t.ended(stats::disconnect_reason::client_close) == 2 * users);
    BOOST_TEST(http_row(t, "GET", "/stall").timed_out == users);
    BOOST_TEST(r.took >= 400ms);
    BOOST_TEST(r.took < 2500ms);
}

// A body over max_body_bytes (4096), or a header over 64 KiB: failed/too_large before it is
// held, the connection ended as message_too_big.
BOOST_TEST_DECORATOR(*boost::unit_test::timeout(30))
BOOST_DATA_TEST_CASE(a_reply_over_the_limit_is_too_large, boost::unit_test::data::make(http_too_large_cases), big)
{
    http_script_server server([&big](http_script_connection& c) -> http_awaitable {
        if (!co_await c.read_request()) co_return;
        if (!co_await c.write(big.reply)) co_return;
        if (big.fin_after) c.fin();
        co_await c.drain();
    });
    constexpr std::uint64_t users = 10;
    const auto r = http_run(http_run_config(server.url(), users), http_one_get("/big", whttp::options().max_body_bytes(4096)));
    http_check_each_failed_as(r.totals(), users, stats::request_failure::too_large,
                              stats::disconnect_reason::message_too_big);
    BOOST_TEST(r.took < 5s);
}

// A redirect to itself with follow_redirects(3): the request and its 3 hops are 4 requests on
// one kept-alive connection, the hops answered, the last one rejected (still redirected).
BOOST_AUTO_TEST_CASE(a_redirect_loop_ends_after_the_hops_allowed_as_rejected, *boost::unit_test::timeout(30))
{
    http_script_server server(http_answer_all(http_script_response(302, "", "Location: /loop\r\n")));
    constexpr std::uint64_t users = 10;
    std::atomic<int> last_was_302{0};
    const auto r = http_run(http_run_config(server.url(), users), [&](wsload::user& u) -> wsload::task<> {
        whttp::client api(u, whttp::options().follow_redirects(3));
        if (const auto loop = co_await api.get("/loop"); loop.status == 302 && !loop.ok) ++last_was_302;
    });
    const auto& t = r.totals();
    http_check_accounting(t, users);
    BOOST_TEST(last_was_302.load() == static_cast<int>(users));
    BOOST_TEST(t[stats::counter_id::requests_sent] == 4 * users);
    BOOST_TEST(t[stats::counter_id::requests_answered] == 3 * users);
    BOOST_TEST(t[stats::counter_id::requests_rejected] == users);
    BOOST_TEST(t.http_responses[302] == 4 * users);
    const auto row = http_row(t, "GET", "/loop");  // every hop under the request's name
    BOOST_TEST(row.sent == 4 * users);
    BOOST_TEST(row.answered == 3 * users);
    BOOST_TEST(row.rejected == users);
    BOOST_TEST(t[stats::counter_id::connect_attempts] == users);
    BOOST_TEST(server.accepted() == users);
    BOOST_TEST(t.ended(stats::disconnect_reason::client_close) == users);
}

// A redirect to what is no http(s) URL (another scheme, a Location with a space) is the server's
// fault: not followed, the request rejected with its 3xx; the run goes on (no usage error).
BOOST_TEST_DECORATOR(*boost::unit_test::timeout(30))
BOOST_DATA_TEST_CASE(a_redirect_to_no_http_url_is_not_followed,
                     boost::unit_test::data::make({"ftp://127.0.0.1/file", "ws://127.0.0.1/chat", "/a b"}), location)
{
    http_script_server server(http_answer_all(http_script_response(302, "", "Location: " + std::string(location) + "\r\n")));
    constexpr std::uint64_t users = 10;
    std::atomic<int> rejected{0};
    const auto r = http_run(http_run_config(server.url(), users), [&](wsload::user& u) -> wsload::task<> {
        whttp::client api(u, whttp::options().follow_redirects(3));
        if (const auto x = co_await api.get("/moved"); x.status == 302 && !x.ok) ++rejected;
        const auto again = co_await api.get("/moved");
        if (again.status == 302) ++rejected;
    });
    const auto& t = r.totals();
    http_check_accounting(t, users);
    BOOST_TEST(rejected.load() == static_cast<int>(2 * users));
    BOOST_TEST(t[stats::counter_id::requests_sent] == 2 * users);
    BOOST_TEST(t[stats::counter_id::requests_rejected] == 2 * users);
    BOOST_TEST(t.http_responses[302] == 2 * users);
    BOOST_TEST(server.requests() == 2 * users);
    BOOST_TEST(t[stats::counter_id::connect_attempts] == users);
}

// The server closes a kept-alive connection while it is idle, with a FIN or with a 408 and a FIN
// (as nginx and Apache do at their keep-alive timeout). The client finds out before it reuses
// the connection (peer_close, the 408 not counted as a response to anything), opens a new one
// (a counted attempt), and its request is answered: a POST, which would not be sent again had
// it gone out on the closed connection.
BOOST_TEST_DECORATOR(*boost::unit_test::timeout(30))
BOOST_DATA_TEST_CASE(a_kept_alive_connection_closed_while_idle_is_replaced_before_reuse,
                     boost::unit_test::data::make({false, true}), with_408)
{
    http_script_server server([with_408](http_script_connection& c) -> http_awaitable {
        auto request = co_await c.read_request();
        if (!request || !co_await c.read_body(*request)) co_return;
        if (!co_await c.write(http_script_response(200, "ok"))) co_return;
        co_await c.pause(50ms);  // idle: a 408 right behind the reply would be bytes after it, unasked
        if (with_408 && !co_await c.write("HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"))
            co_return;
        c.fin();
        co_await c.drain();
    });
    constexpr std::uint64_t users = 10;
    std::atomic<int> answered{0};
    const auto r = http_run(http_run_config(server.url(), users), [&](wsload::user& u) -> wsload::task<> {
        whttp::client api(u);
        const auto first = co_await api.get("/first");
        co_await u.think(300ms);  // idle: the server's close arrives meanwhile
        const auto second = co_await api.post("/second", "after a pause");
        answered += first.ok + second.ok;
    });
    const auto& t = r.totals();
    http_check_accounting(t, users);
    BOOST_TEST(answered.load() == static_cast<int>(2 * users));
    BOOST_TEST(t[stats::counter_id::requests_sent] == 2 * users);
    BOOST_TEST(t[stats::counter_id::requests_answered] == 2 * users);
    BOOST_TEST(t.http_responses[200] == 2 * users);
    BOOST_TEST(t.http_responses[408] == 0u);
    BOOST_TEST(t[stats::counter_id::connect_attempts] == 2 * users);
    BOOST_TEST(t[stats::counter_id::connect_successes] == 2 * users);
    BOOST_TEST(server.accepted() == 2 * users);
    BOOST_TEST(server.requests() == 2 * users);  // the second went on the new connection only
    BOOST_TEST(t.ended(stats::disconnect_reason::peer_close) == users);
    BOOST_TEST(t.ended(stats::disconnect_reason::client_close) == users);
}

// A kept-alive connection the server ends (FIN or RST) when the next request arrives, without a
// byte of reply: a GET goes again, once, on a new connection and counts once (answered); a POST
// is not repeated (it may have been acted on) and fails, closed or reset.
BOOST_TEST_DECORATOR(*boost::unit_test::timeout(30))
BOOST_DATA_TEST_CASE(http_idempotent_requests_go_again_once, boost::unit_test::data::make({false, true}), reset)
{
    http_script_server server([reset](http_script_connection& c) -> http_awaitable {
        auto first = co_await c.read_request();
        if (!first || !co_await c.read_body(*first)) co_return;
        if (!co_await c.write(http_script_response(200, "ok"))) co_return;
        if (!co_await c.read_request()) co_return;
        if (reset) co_return c.reset();
        c.fin();
        co_await c.drain();
    });
    constexpr std::uint64_t users = 10;
    std::atomic<int> gets{0}, posts_failed{0};
    const auto failure = reset ? stats::request_failure::reset : stats::request_failure::closed;
    const auto r = http_run(http_run_config(server.url(), users), [&](wsload::user& u) -> wsload::task<> {
        whttp::client api(u);
        const auto a = co_await api.get("/a");              // connection 1
        const auto b = co_await api.get("/b");              // connection 1 ends under it: again on 2
        const auto post = co_await api.post("/c", "data");  // connection 2 ends under it
        gets += a.ok + b.ok;
        if (!post && post.failure == failure) ++posts_failed;
    });
    const auto& t = r.totals();
    http_check_accounting(t, users);
    BOOST_TEST(gets.load() == static_cast<int>(2 * users));
    BOOST_TEST(posts_failed.load() == static_cast<int>(users));
    BOOST_TEST(t[stats::counter_id::requests_sent] == 3 * users);
    BOOST_TEST(t[stats::counter_id::requests_answered] == 2 * users);
    BOOST_TEST(t[stats::counter_id::requests_failed] == users);
    BOOST_TEST(t.failed(failure) == users);
    BOOST_TEST(t[stats::counter_id::connect_attempts] == 2 * users);
    BOOST_TEST(server.accepted() == 2 * users);
    BOOST_TEST(server.requests() == 4 * users);  // /b twice, /c once
    BOOST_TEST(t.ended(reset ? stats::disconnect_reason::network : stats::disconnect_reason::peer_close) == 2 * users);
    BOOST_TEST(http_row(t, "GET", "/b").sent == users);
    BOOST_TEST(http_row(t, "POST", "/c").failed == users);
}

// A server that refuses an upload from its header (413, Connection: close) and then reads and
// drops what still comes until the client goes (nginx's lingering close): the upload stops
// early, the request is rejected with its 413 counted, nothing waits for a bound.
BOOST_AUTO_TEST_CASE(a_413_before_the_upload_was_read_stops_the_upload_early, *boost::unit_test::timeout(30))
{
    std::atomic<std::uint64_t> dropped{0};
    http_script_server server([&dropped](http_script_connection& c) -> http_awaitable {
        if (!co_await c.read_request()) co_return;
        if (!co_await c.write(http_script_response(413, "too big", "Connection: close\r\n"))) co_return;
        c.fin();
        dropped += co_await c.drain();
    });
    // 64 MiB: at most the sockets' buffers (a few MB) go before the server reads the header.
    constexpr std::uint64_t users = 4, size = 64u << 20;
    std::atomic<int> rejected{0}, stopped_early{0};
    std::atomic<std::uint64_t> uploaded{0};
    const auto r = http_run(http_run_config(server.url(), users), [&](wsload::user& u) -> wsload::task<> {
        whttp::client api(u);
        const auto refused = co_await api.post("/upload", whttp::body::generated(size, u.index() + 1));
        if (refused.status == 413 && !refused.ok && refused.body == "too big") ++rejected;
        if (refused.uploaded_bytes < size) ++stopped_early;
        uploaded += refused.uploaded_bytes;
    });
    const auto& t = r.totals();
    http_check_accounting(t, users);
    BOOST_TEST(rejected.load() == static_cast<int>(users));
    BOOST_TEST(t[stats::counter_id::requests_sent] == users);
    BOOST_TEST(t[stats::counter_id::requests_rejected] == users);
    BOOST_TEST(t.http_responses[413] == users);
    BOOST_TEST_MESSAGE("bytes uploaded before the 413 stopped the uploads: " << uploaded.load());
    BOOST_TEST(stopped_early.load() == static_cast<int>(users));
    BOOST_TEST(t[stats::counter_id::upload_bytes] == uploaded.load());
    BOOST_TEST(t[stats::histogram_id::upload].count() == 0u);  // no upload completed
    BOOST_TEST(dropped.load() <= uploaded.load());
    BOOST_TEST(t[stats::counter_id::connect_attempts] == users);
    BOOST_TEST(t.ended(stats::disconnect_reason::peer_close) == users);
    BOOST_TEST(r.took < 5s);
}

// A server that resets the connection after 1 MiB of a 20 MiB upload: failed/reset, the
// connection lost (network), the upload not counted as one.
BOOST_AUTO_TEST_CASE(a_reset_in_the_middle_of_an_upload_is_reset, *boost::unit_test::timeout(30))
{
    http_script_server server([](http_script_connection& c) -> http_awaitable {
        if (!co_await c.read_request()) co_return;
        if (co_await c.read_body_part(1u << 20)) c.reset();
    });
    constexpr std::uint64_t users = 4, size = 20u << 20;
    std::atomic<int> reset{0};
    const auto r = http_run(http_run_config(server.url(), users), [&](wsload::user& u) -> wsload::task<> {
        whttp::client api(u);
        const auto lost = co_await api.put("/upload", whttp::body::generated(size, u.index() + 1));
        if (!lost && lost.failure == stats::request_failure::reset && lost.uploaded_bytes < size) ++reset;
    });
    const auto& t = r.totals();
    http_check_each_failed_as(t, users, stats::request_failure::reset, stats::disconnect_reason::network);
    BOOST_TEST(reset.load() == static_cast<int>(users));
    BOOST_TEST(server.accepted() == users);  // a fresh connection's PUT is not sent again
    BOOST_TEST(t[stats::histogram_id::upload].count() == 0u);
    BOOST_TEST(r.took < 5s);
}

// 100 Continue and 103 Early Hints before the response, in separate reads: skipped, not counted
// as responses; the 200 after them is the answer, and the connection carries the next request.
BOOST_AUTO_TEST_CASE(informational_replies_before_the_response_are_skipped, *boost::unit_test::timeout(30))
{
    http_script_server server([](http_script_connection& c) -> http_awaitable {
        while (auto r = co_await c.read_request()) {
            if (!co_await c.write("HTTP/1.1 100 Continue\r\n\r\n")) co_return;
            co_await c.pause(5ms);
            if (!co_await c.write("HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n")) co_return;
            co_await c.pause(5ms);
            if (!co_await c.write(http_script_response(200, "final"))) co_return;
        }
    });
    constexpr std::uint64_t users = 10, per_user = 3;
    std::atomic<int> finals{0};
    const auto r = http_run(http_run_config(server.url(), users), [&](wsload::user& u) -> wsload::task<> {
        whttp::client api(u);
        for (std::uint64_t i = 0; i < per_user; ++i)
            if (const auto x = co_await api.get("/info"); x.status == 200 && x.body == "final") ++finals;
    });
    const auto& t = r.totals();
    http_check_accounting(t, users);
    BOOST_TEST(finals.load() == static_cast<int>(users * per_user));
    BOOST_TEST(t[stats::counter_id::requests_answered] == users * per_user);
    BOOST_TEST(t.http_responses[200] == users * per_user);
    BOOST_TEST(t.http_responses[100] == 0u);
    BOOST_TEST(t.http_responses[103] == 0u);
    BOOST_TEST(t[stats::counter_id::connect_attempts] == users);
    BOOST_TEST(t.ended(stats::disconnect_reason::client_close) == users);
}

// HEAD is answered with the GET's Content-Length and no body: answered, no body read, and the
// connection carries the GET that follows (which has the body).
BOOST_AUTO_TEST_CASE(head_with_a_content_length_and_no_body_keeps_the_connection, *boost::unit_test::timeout(30))
{
    http_script_server server([](http_script_connection& c) -> http_awaitable {
        const std::string body(1000, 'b');
        while (auto r = co_await c.read_request()) {
            auto reply = http_script_response(200, body);
            if (r->method == "HEAD") reply.resize(reply.size() - body.size());
            if (!co_await c.write(reply)) co_return;
        }
    });
    constexpr std::uint64_t users = 10;
    std::atomic<int> heads{0}, gets{0};
    const auto r = http_run(http_run_config(server.url(), users), [&](wsload::user& u) -> wsload::task<> {
        whttp::client api(u);
        for (int i = 0; i < 2; ++i)
            if (const auto h = co_await api.head("/doc"); h.ok && h.body.empty() && h.header("Content-Length") == "1000")
                ++heads;
        if (const auto g = co_await api.get("/doc"); g.ok && g.body == std::string(1000, 'b')) ++gets;
        if (const auto h = co_await api.head("/doc"); h.ok && h.body.empty()) ++heads;
    });
    const auto& t = r.totals();
    http_check_accounting(t, users);
    BOOST_TEST(heads.load() == static_cast<int>(3 * users));
    BOOST_TEST(gets.load() == static_cast<int>(users));
    BOOST_TEST(t[stats::counter_id::requests_answered] == 4 * users);
    BOOST_TEST(t[stats::counter_id::bytes_received] == 1000 * users);  // the GETs' bodies only
    BOOST_TEST(t[stats::counter_id::connect_attempts] == users);
    BOOST_TEST(server.accepted() == users);
    BOOST_TEST(http_row(t, "HEAD", "/doc").answered == 3 * users);
    BOOST_TEST(http_row(t, "GET", "/doc").answered == users);
    BOOST_TEST(t.ended(stats::disconnect_reason::client_close) == users);
}

/// A response after which its connection cannot carry another request.
struct http_closing_reply {
    const char* name;
    std::string reply;
};
std::ostream& operator<<(std::ostream& os, const http_closing_reply& c) { return os << c.name; }

const std::vector<http_closing_reply> http_closing_replies{
    {"no length: the body ends with the connection", "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end\n"},
    {"HTTP/1.0 without keep-alive", "HTTP/1.0 200 OK\r\nContent-Length: 14\r\n\r\nuntil the end\n"},
    {"Connection: close", http_script_response(200, "until the end\n", "Connection: close\r\n")},
};

// Each reply is answered whole and ends its connection (peer_close): the next request opens a
// new one, counted.
BOOST_TEST_DECORATOR(*boost::unit_test::timeout(30))
BOOST_DATA_TEST_CASE(a_reply_that_ends_its_connection_is_answered_and_the_next_request_reconnects,
                     boost::unit_test::data::make(http_closing_replies), closing)
{
    http_script_server server([&closing](http_script_connection& c) -> http_awaitable {
        if (!co_await c.read_request()) co_return;
        if (!co_await c.write(closing.reply)) co_return;
        c.fin();
        co_await c.drain();
    });
    constexpr std::uint64_t users = 10, per_user = 3;
    std::atomic<int> whole{0};
    const auto r = http_run(http_run_config(server.url(), users), [&](wsload::user& u) -> wsload::task<> {
        whttp::client api(u);
        for (std::uint64_t i = 0; i < per_user; ++i)
            if (const auto x = co_await api.get("/once"); x.ok && x.body == "until the end\n") ++whole;
    });
    const auto& t = r.totals();
    http_check_accounting(t, users);
    BOOST_TEST(whole.load() == static_cast<int>(users * per_user));
    BOOST_TEST(t[stats::counter_id::requests_answered] == users * per_user);
    BOOST_TEST(t[stats::counter_id::connect_attempts] == users * per_user);
    BOOST_TEST(server.accepted() == users * per_user);
    BOOST_TEST(t.ended(stats::disconnect_reason::peer_close) == users * per_user);
}

// A file body whose file shrinks after it was opened (its size promised in Content-Length):
// the behaviour's error, the request failed (other), the connection closed by the client, the
// request never completed on the wire.
BOOST_AUTO_TEST_CASE(a_file_that_shrinks_before_it_is_sent_is_the_behaviours_error, *boost::unit_test::timeout(30))
{
    std::atomic<std::uint64_t> dropped{0};
    http_script_server server([&dropped](http_script_connection& c) -> http_awaitable {
        if (co_await c.read_request()) dropped += co_await c.drain();
    });
    wsload::test::temp_dir dir("wsload-http-test");
    constexpr std::uint64_t users = 4;
    const auto r = http_run(http_run_config(server.url(), users), [&](wsload::user& u) -> wsload::task<> {
        const auto path = (dir.path() / (u.id() + ".bin")).string();
        std::ofstream(path, std::ios::binary) << std::string(1u << 20, 'f');
        auto b = whttp::body::file(path);  // 1 MiB promised
        std::filesystem::resize_file(path, 100'000);
        whttp::client api(u);
        co_await api.post("/upload", std::move(b));
    });
    const auto& t = r.totals();
    http_check_accounting(t, users, users);
    BOOST_TEST(t[stats::counter_id::requests_sent] == users);
    BOOST_TEST(t.failed(stats::request_failure::other) == users);
    BOOST_TEST(t[stats::counter_id::connect_attempts] == users);
    BOOST_TEST(t.ended(stats::disconnect_reason::client_close) == users);
    BOOST_TEST(t[stats::histogram_id::upload].count() == 0u);
}

// Nothing listening: each attempt fails as refused, once, and its request as not_connected
// (never sent on a connection); the next request tries again (another counted attempt).
BOOST_AUTO_TEST_CASE(a_refused_connection_fails_each_request_as_not_connected, *boost::unit_test::timeout(30))
{
    const auto port = wsload::test::free_tcp_port();
    constexpr std::uint64_t users = 10;
    std::atomic<int> not_connected{0};
    const auto r = http_run(http_run_config("http://127.0.0.1:" + std::to_string(port), users),
                            [&](wsload::user& u) -> wsload::task<> {
                                whttp::client api(u);
                                for (int i = 0; i < 2; ++i) {
                                    const auto x = co_await api.get("/nobody");
                                    if (!x && x.failure == stats::request_failure::not_connected) ++not_connected;
                                }
                            });
    const auto& t = r.totals();
    http_check_accounting(t, users);
    BOOST_TEST(not_connected.load() == static_cast<int>(2 * users));
    BOOST_TEST(t[stats::counter_id::connect_attempts] == 2 * users);
    BOOST_TEST(t.failed(stats::connect_failure::refused) == 2 * users);
    BOOST_TEST(t[stats::counter_id::requests_sent] == 2 * users);
    BOOST_TEST(t.failed(stats::request_failure::not_connected) == 2 * users);
    BOOST_TEST(t.disconnect_total() == 0u);
}

// A URL the client cannot use (a ws:// target, a request to ws://) is the run's usage error,
// named once in one line; not a failure of each user.
BOOST_AUTO_TEST_CASE(a_url_of_another_scheme_ends_the_run_as_a_usage_error, *boost::unit_test::timeout(30))
{
    {
        wsload::runtime::engine engine(http_run_config("ws://127.0.0.1:9/chat", 20), [](wsload::user& u) -> wsload::task<> {
            whttp::client api(u);
            co_await api.get("/");
        });
        const auto r = engine.run();
        BOOST_TEST(engine.misuse() == "\"ws://127.0.0.1:9/chat\" is not a HTTP URL (HTTP takes http:// and https://)");
        BOOST_TEST((*r.totals)[stats::counter_id::connect_attempts] == 0u);
    }
    {
        wsload::runtime::engine engine(http_run_config("http://127.0.0.1:9", 20), [](wsload::user& u) -> wsload::task<> {
            whttp::client api(u);
            co_await api.get("wss://127.0.0.1:9/chat");
        });
        const auto r = engine.run();
        BOOST_TEST(engine.misuse() == "\"wss://127.0.0.1:9/chat\" is not a HTTP URL (HTTP takes http:// and https://)");
        BOOST_TEST((*r.totals)[stats::counter_id::connect_attempts] == 0u);
        BOOST_TEST((*r.totals)[stats::counter_id::requests_sent] == 0u);
    }
}

BOOST_AUTO_TEST_SUITE_END()

// ---- the bundled upload_server -----------------------------------------------------------

namespace {

/// upload_server on 127.0.0.1 (port 0, read back from its readiness line), stopped by the destructor.
struct http_upload_server {
    wsload::test::server_process process;
    std::string scheme = "http";

    explicit http_upload_server(std::vector<std::string> args = {}) : process(WSLOAD_UPLOAD_SERVER, std::move(args)) {}
    std::string url(std::string_view path = {}) const
    {
        return scheme + "://127.0.0.1:" + std::to_string(process.port()) + std::string(path);
    }
    /// GET `target` (plain HTTP) with a blocking Beast client, its body as JSON: the server's
    /// figures, read apart from the client under test.
    boost::json::value fetch_json(const std::string& target) const
    {
        namespace bhttp = boost::beast::http;
        boost::asio::io_context io;
        boost::asio::ip::tcp::socket socket(io);
        socket.connect({boost::asio::ip::make_address("127.0.0.1"), process.port()});
        bhttp::request<bhttp::empty_body> request{bhttp::verb::get, target, 11};
        request.set(bhttp::field::host, "127.0.0.1");
        bhttp::write(socket, request);
        boost::beast::flat_buffer buffer;
        bhttp::response<bhttp::string_body> response;
        bhttp::read(socket, buffer, response);
        return boost::json::parse(response.body());
    }
};

/// The student id of user `i`, and the file name upload_server expects for its `seq`-th upload.
std::string http_student(const wsload::user& u) { return "test_" + std::to_string(10000 + u.index()); }
std::string http_video_name(const std::string& student, unsigned seq)
{
    std::string digits = std::to_string(seq);
    digits.insert(0, 4 - std::min<std::size_t>(4, digits.size()), '0');
    return student + "_20260105_093000_seq_" + digits + ".mp4";
}

/// Logs `api`'s user in and keeps its token as the client's bearer; true when it worked.
wsload::task<bool> http_login(whttp::client& api, const std::string& student)
{
    const boost::json::value credentials = {{"student_id", student}, {"password", "secret"}};
    const auto r = co_await api.post_json("/api/login", credentials, {.name = "login"});
    if (!r.ok) co_return false;
    api.bearer(std::string(r.json().at("token").as_string()));
    co_return true;
}

/// `o[key]` is the string `want`.
bool http_is(const boost::json::object& o, std::string_view key, std::string_view want)
{
    const auto* v = o.if_contains(key);
    return v && v->is_string() && v->get_string() == want;
}

std::string http_read_file(const std::filesystem::path& p)
{
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

/// What whttp::body::generated(size, seed) sends, read in 64 KiB pieces as an upload reads it.
std::string http_generated_bytes(std::uint64_t size, std::uint64_t seed)
{
    auto b = whttp::body::generated(size, seed);
    std::string out(size, '\0');
    std::size_t at = 0;
    while (const auto n = b.source()->read(out.data() + at, std::min<std::size_t>(64 * 1024, out.size() - at))) at += n;
    out.resize(at);
    return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(http_client_against_upload_server)

// Many GETs per user on one kept-alive connection each: every one answered, each status counted,
// the named row and the path row exact.
BOOST_AUTO_TEST_CASE(keep_alive_gets_use_one_connection_per_user, *boost::unit_test::timeout(60))
{
    http_upload_server server;
    constexpr std::uint64_t users = 10, per_user = 50;
    std::atomic<int> hello{0};
    const auto r = http_run(http_run_config(server.url(), users), [&](wsload::user& u) -> wsload::task<> {
        whttp::client api(u);
        for (std::uint64_t i = 0; i < per_user; ++i)
            if (const auto x = co_await api.get("/hello", {.name = "hello"}); x.ok && x.body == "hello\n") ++hello;
        const auto with_query = "/hello?from=" + u.id();
        co_await api.get(with_query);  // unnamed: its row is the path without the query
    });
    const auto& t = r.totals();
    http_check_accounting(t, users);
    BOOST_TEST(hello.load() == static_cast<int>(users * per_user));
    BOOST_TEST(t[stats::counter_id::requests_sent] == users * (per_user + 1));
    BOOST_TEST(t[stats::counter_id::requests_answered] == users * (per_user + 1));
    BOOST_TEST(t.http_responses[200] == users * (per_user + 1));
    BOOST_TEST(t[stats::counter_id::connect_attempts] == users);
    BOOST_TEST(t[stats::counter_id::connect_successes] == users);
    BOOST_TEST(t.ended(stats::disconnect_reason::client_close) == users);
    const auto named = http_row(t, "GET", "hello");
    BOOST_TEST(named.sent == users * per_user);
    BOOST_TEST(named.answered == users * per_user);
    BOOST_TEST(named.round_trip.count() == users * per_user);
    BOOST_TEST(http_row(t, "GET", "/hello").answered == users);
    BOOST_TEST(t.requests.size() == 2u);
    BOOST_TEST(t[stats::histogram_id::round_trip].count() == users * (per_user + 1));
}

// Statuses: 4xx and 5xx rejected, below 400 answered; `.expect = N` makes only N a success (a
// 200 is then rejected). Each counted per code; the connection kept throughout.
BOOST_AUTO_TEST_CASE(statuses_are_counted_per_code_and_judged_by_expect, *boost::unit_test::timeout(60))
{
    http_upload_server server;
    constexpr std::uint64_t users = 10;
    std::atomic<int> right{0};
    const auto r = http_run(http_run_config(server.url(), users), [&](wsload::user& u) -> wsload::task<> {
        whttp::client api(u);
        int ok = 0;
        if (const auto x = co_await api.get("/status/404"); x.status == 404 && !x.ok) ++ok;
        if (const auto x = co_await api.get("/status/503"); x.status == 503 && !x.ok) ++ok;
        if (const auto x = co_await api.get("/status/201", {.expect = 201}); x.status == 201 && x.ok) ++ok;
        if (const auto x = co_await api.get("/status/200", {.expect = 201}); x.status == 200 && !x.ok) ++ok;
        if (const auto x = co_await api.get("/status/204"); x.status == 204 && x.ok && x.body.empty()) ++ok;
        if (const auto x = co_await api.get("/status/404", {.expect = 404}); x.status == 404 && x.ok) ++ok;
        if (ok == 6) ++right;
    });
    const auto& t = r.totals();
    http_check_accounting(t, users);
    BOOST_TEST(right.load() == static_cast<int>(users));
    BOOST_TEST(t[stats::counter_id::requests_sent] == 6 * users);
    BOOST_TEST(t[stats::counter_id::requests_answered] == 3 * users);
    BOOST_TEST(t[stats::counter_id::requests_rejected] == 3 * users);
    BOOST_TEST(t.http_responses[404] == 2 * users);
    BOOST_TEST(t.http_responses[503] == users);
    BOOST_TEST(t.http_responses[201] == users);
    BOOST_TEST(t.http_responses[200] == users);
    BOOST_TEST(t.http_responses[204] == users);
    BOOST_TEST(http_row(t, "GET", "/status/404").rejected == users);
    BOOST_TEST(http_row(t, "GET", "/status/404").answered == users);
    BOOST_TEST(t[stats::counter_id::connect_attempts] == users);
}

// Cookies the server sets are kept per user and sent back: each user sees its own.
BOOST_AUTO_TEST_CASE(cookies_set_by_the_server_are_sent_back, *boost::unit_test::timeout(60))
{
    http_upload_server server;
    constexpr std::uint64_t users = 10;
    std::atomic<int> echoed{0};
    const auto r = http_run(http_run_config(server.url(), users), [&](wsload::user& u) -> wsload::task<> {
        whttp::client api(u);
        const auto setting = "/cookies/set?user=" + u.id() + "&theme=dark";
        const auto set = co_await api.get(setting, {.name = "set cookies"});
        if (!set.ok || api.cookies().get("user") != u.id()) co_return;
        const auto back = co_await api.get("/cookies");
        const boost::json::value expected = {{"user", u.id()}, {"theme", "dark"}};
        if (back.ok && back.json() == expected) ++echoed;
    });
    const auto& t = r.totals();
    http_check_accounting(t, users);
    BOOST_TEST(echoed.load() == static_cast<int>(users));
    BOOST_TEST(t[stats::counter_id::requests_answered] == 2 * users);
    BOOST_TEST(http_row(t, "GET", "set cookies").answered == users);
}

// /redirect/3 is 4 redirects and /hello: with follow_redirects(5), 5 requests answered and the
// body of /hello; with follow_redirects(2), 3 requests, the last rejected (still redirected).
BOOST_AUTO_TEST_CASE(redirects_are_followed_and_each_hop_counted, *boost::unit_test::timeout(60))
{
    http_upload_server server;
    constexpr std::uint64_t users = 10;
    std::atomic<int> followed{0}, cut_short{0};
    const auto r = http_run(http_run_config(server.url(), users), [&](wsload::user& u) -> wsload::task<> {
        whttp::client far(u, whttp::options().follow_redirects(5));
        if (const auto x = co_await far.get("/redirect/3", {.name = "far"}); x.status == 200 && x.body == "hello\n") ++followed;
        whttp::client near(u, whttp::options().follow_redirects(2));
        if (const auto x = co_await near.get("/redirect/3", {.name = "near"}); x.status == 302 && !x.ok) ++cut_short;
    });
    const auto& t = r.totals();
    http_check_accounting(t, users);
    BOOST_TEST(followed.load() == static_cast<int>(users));
    BOOST_TEST(cut_short.load() == static_cast<int>(users));
    const auto far = http_row(t, "GET", "far");
    BOOST_TEST(far.sent == 5 * users);
    BOOST_TEST(far.answered == 5 * users);
    const auto near = http_row(t, "GET", "near");
    BOOST_TEST(near.sent == 3 * users);
    BOOST_TEST(near.answered == 2 * users);
    BOOST_TEST(near.rejected == users);
    BOOST_TEST(t.http_responses[302] == 7 * users);
    BOOST_TEST(t.http_responses[200] == users);
    BOOST_TEST(t[stats::counter_id::connect_attempts] == 2 * users);  // one per client
}

// Chunked bodies arrive whole and in order; so does a large Content-Length body.
BOOST_AUTO_TEST_CASE(chunked_and_large_bodies_arrive_whole, *boost::unit_test::timeout(60))
{
    http_upload_server server;
    constexpr std::uint64_t users = 5;
    std::string chunks;
    for (int i = 0; i < 2000; ++i) chunks += "chunk " + std::to_string(i) + "\n";
    std::atomic<int> whole{0};
    const auto r = http_run(http_run_config(server.url(), users), [&](wsload::user& u) -> wsload::task<> {
        whttp::client api(u);
        for (int i = 0; i < 3; ++i)
            if (const auto x = co_await api.get("/chunked/2000"); x.ok && x.body == chunks) ++whole;
        if (const auto x = co_await api.get("/bytes/3000000"); x.ok && x.body == std::string(3'000'000, 'x')) ++whole;
    });
    const auto& t = r.totals();
    http_check_accounting(t, users);
    BOOST_TEST(whole.load() == static_cast<int>(4 * users));
    BOOST_TEST(t[stats::counter_id::bytes_received] == users * (3 * chunks.size() + 3'000'000));
    BOOST_TEST(t[stats::counter_id::connect_attempts] == users);
}

// A request's own timeout on a slow reply (/delay/3000 against 300 ms): timed out at its bound,
// its connection closed by the client; the next request reconnects and is answered.
BOOST_AUTO_TEST_CASE(a_request_timeout_closes_the_connection_and_the_next_reconnects, *boost::unit_test::timeout(60))
{
    http_upload_server server;
    constexpr std::uint64_t users = 10;
    std::atomic<int> right{0};
    const auto r = http_run(http_run_config(server.url(), users), [&](wsload::user& u) -> wsload::task<> {
        whttp::client api(u);
        const auto slow = co_await api.get("/delay/3000", {.name = "slow", .timeout = 300ms});
        const auto next = co_await api.get("/hello");
        if (slow.timed_out && next.ok) ++right;
    });
    const auto& t = r.totals();
    http_check_accounting(t, users);
    BOOST_TEST(right.load() == static_cast<int>(users));
    BOOST_TEST(t[stats::counter_id::requests_timed_out] == users);
    BOOST_TEST(http_row(t, "GET", "slow").timed_out == users);
    BOOST_TEST(t[stats::counter_id::requests_answered] == users);
    BOOST_TEST(t[stats::counter_id::connect_attempts] == 2 * users);
    BOOST_TEST(t.ended(stats::disconnect_reason::client_close) == 2 * users);
    BOOST_TEST(r.took >= 300ms);
    BOOST_TEST(r.took < 2500ms);
}

// /close answers with Connection: close and closes: answered, the connection the server's end
// (peer_close), the next request on a new one.
BOOST_AUTO_TEST_CASE(a_connection_close_reply_then_a_reconnect, *boost::unit_test::timeout(60))
{
    http_upload_server server;
    constexpr std::uint64_t users = 10;
    std::atomic<int> right{0};
    const auto r = http_run(http_run_config(server.url(), users), [&](wsload::user& u) -> wsload::task<> {
        whttp::client api(u);
        const auto closing = co_await api.get("/close");
        const auto next = co_await api.get("/hello");
        if (closing.ok && closing.body == "closing\n" && next.ok) ++right;
    });
    const auto& t = r.totals();
    http_check_accounting(t, users);
    BOOST_TEST(right.load() == static_cast<int>(users));
    BOOST_TEST(t[stats::counter_id::requests_answered] == 2 * users);
    BOOST_TEST(t[stats::counter_id::connect_attempts] == 2 * users);
    BOOST_TEST(t.ended(stats::disconnect_reason::peer_close) == users);
    BOOST_TEST(t.ended(stats::disconnect_reason::client_close) == users);
}

// Headers reach the server as set: the client's own (options().header, set_header replacing
// one), its bearer, a request's header (which wins over the client's of the same name), Host and
// the User-Agent.
BOOST_AUTO_TEST_CASE(headers_and_the_bearer_reach_the_server, *boost::unit_test::timeout(60))
{
    http_upload_server server;
    constexpr std::uint64_t users = 5;
    std::atomic<int> right{0};
    const auto host = "127.0.0.1:" + std::to_string(server.process.port());
    const auto r = http_run(http_run_config(server.url(), users), [&](wsload::user& u) -> wsload::task<> {
        whttp::client api(u, whttp::options().header("X-Client", "one").bearer("token-" + u.id()));
        const auto first = co_await api.get("/headers");
        if (!first.ok) co_return;
        const auto h1 = first.json().as_object();
        api.set_header("x-client", "two");  // replaces X-Client, whatever its case
        const whttp::header mine[] = {{"X-Client", "mine"}, {"X-Request", "r2"}};
        const auto second = co_await api.get("/headers", {.headers = mine});
        if (!second.ok) co_return;
        const auto h2 = second.json().as_object();
        const auto third = co_await api.get("/headers");
        if (!third.ok) co_return;
        const auto h3 = third.json().as_object();
        const auto bearer = "Bearer token-" + u.id();
        const bool ok = http_is(h1, "x-client", "one") && http_is(h1, "authorization", bearer) &&
                        http_is(h1, "host", host) && http_is(h1, "user-agent", "wsload") && !h1.contains("x-request") &&
                        http_is(h2, "x-client", "mine") && http_is(h2, "x-request", "r2") &&
                        http_is(h2, "authorization", bearer) && http_is(h3, "x-client", "two") &&
                        !h3.contains("x-request");
        if (ok) ++right;
    });
    http_check_accounting(r.totals(), users);
    BOOST_TEST(right.load() == static_cast<int>(users));
    BOOST_TEST(r.totals()[stats::counter_id::requests_answered] == 3 * users);
}

// Bodies go out exactly: /echo returns what it was sent, whether held (text, JSON, 1 MB that is
// sent in pieces) or generated while it is sent, with any method that has a body.
BOOST_AUTO_TEST_CASE(request_bodies_are_sent_exactly, *boost::unit_test::timeout(60))
{
    http_upload_server server;
    constexpr std::uint64_t users = 4, generated = 5'000'003;
    std::string big(1'000'000, '\0');
    for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + i % 26);
    std::atomic<int> right{0};
    const auto r = http_run(http_run_config(server.url(), users), [&](wsload::user& u) -> wsload::task<> {
        whttp::client api(u);
        int ok = 0;
        if (const auto x = co_await api.post("/echo", "plain text"); x.ok && x.body == "plain text" &&
                                                                      x.header("X-Method") == "POST" &&
                                                                      x.header("Content-Type") == "text/plain; charset=utf-8")
            ++ok;
        const boost::json::value who = {{"user", u.id()}};
        if (const auto x = co_await api.post_json("/echo", who);
            x.ok && x.json() == who && x.header("Content-Type") == "application/json")
            ++ok;
        if (const auto x = co_await api.put("/echo", big); x.ok && x.body == big && x.header("X-Method") == "PUT") ++ok;
        if (const auto x = co_await api.patch("/echo", whttp::body::generated(generated, u.index() + 7));
            x.ok && x.body == http_generated_bytes(generated, u.index() + 7))
            ++ok;
        if (const auto x = co_await api.del("/echo"); x.ok && x.body.empty() && x.header("X-Method") == "DELETE") ++ok;
        if (ok == 5) ++right;
    });
    const auto& t = r.totals();
    http_check_accounting(t, users);
    BOOST_TEST(right.load() == static_cast<int>(users));
    // Bodies over 64 KiB go in pieces and are timed as uploads; smaller ones go with the header.
    BOOST_TEST(t[stats::histogram_id::upload].count() == 2 * users);
    BOOST_TEST(t[stats::counter_id::upload_bytes] == users * (big.size() + generated));
    BOOST_TEST(t[stats::counter_id::connect_attempts] == users);
}

// The seed's upload: a login, then a multipart form with a 20 MB generated video. The server's
// /stats counts exactly the file parts' bytes, and the files it stored are the bytes the client
// generated; the client timed one upload per user and counted the forms' bytes exactly.
BOOST_AUTO_TEST_CASE(a_multipart_upload_of_generated_bytes_arrives_exactly, *boost::unit_test::timeout(60))
{
    wsload::test::temp_dir store("wsload-http-store");
    http_upload_server server({"--store", store.path().string()});
    constexpr std::uint64_t users = 4, size = 20'000'000;
    std::atomic<int> created{0};
    std::atomic<std::uint64_t> form_bytes{0};
    const auto r = http_run(http_run_config(server.url(), users), [&](wsload::user& u) -> wsload::task<> {
        whttp::client api(u);
        const auto student = http_student(u);
        if (!co_await http_login(api, student)) co_return;
        whttp::body form = whttp::multipart()
                              .field("student_id", student)
                              .field("seq", "1")
                              .file("file", http_video_name(student, 1), whttp::body::generated(size, u.index() + 1, "video/mp4"))
                              .build();
        const auto this_form = form.size();
        form_bytes += this_form;
        const auto x = co_await api.post("/api/upload", std::move(form), {.name = "upload", .expect = 201});
        if (x.ok && x.json().at("bytes") == size && x.uploaded_bytes == this_form) ++created;
    });
    const auto& t = r.totals();
    http_check_accounting(t, users);
    BOOST_TEST(created.load() == static_cast<int>(users));
    BOOST_TEST(t.http_responses[201] == users);
    BOOST_TEST(http_row(t, "POST", "login").answered == users);
    BOOST_TEST(http_row(t, "POST", "upload").answered == users);
    BOOST_TEST(t[stats::histogram_id::upload].count() == users);  // the logins' bodies went with their headers
    BOOST_TEST(t[stats::counter_id::upload_bytes] == form_bytes.load());
    const auto figures = server.fetch_json("/stats");
    BOOST_TEST(figures.at("uploads") == users);
    BOOST_TEST(figures.at("bytes") == users * size);
    BOOST_TEST(figures.at("students") == users);
    BOOST_TEST(figures.at("rejected") == 0);
    // The stored files are the generated bytes, each user's from its own seed.
    for (std::uint64_t i = 0; i < users; ++i) {
        const auto student = "test_" + std::to_string(10000 + i);
        const auto stored = http_read_file(store.path() / student / http_video_name(student, 1));
        BOOST_TEST(stored.size() == size);
        BOOST_TEST((stored == http_generated_bytes(size, i + 1)), "the file stored for " << student << " differs");
    }
}

// A raw upload from a file (whttp::body::file, read while it is sent): the server stores the
// file's exact bytes; /stats and the client's upload figures agree to the byte.
BOOST_AUTO_TEST_CASE(a_raw_upload_from_a_file_arrives_exactly, *boost::unit_test::timeout(60))
{
    wsload::test::temp_dir store("wsload-http-store");
    wsload::test::temp_dir source("wsload-http-source");
    constexpr std::uint64_t users = 4, size = 3 * 1024 * 1024 + 7;
    std::string content(size, '\0');
    for (std::size_t i = 0; i < size; ++i) content[i] = static_cast<char>((i * 7919) >> 3);
    const auto file = source.path() / "video.mp4";
    std::ofstream(file, std::ios::binary) << content;
    http_upload_server server({"--store", store.path().string()});
    std::atomic<int> created{0};
    const auto r = http_run(http_run_config(server.url(), users), [&](wsload::user& u) -> wsload::task<> {
        whttp::client api(u);
        const auto student = http_student(u);
        if (!co_await http_login(api, student)) co_return;
        const auto target = "/api/upload?student_id=" + student + "&seq=1&filename=" + http_video_name(student, 1);
        const auto x = co_await api.post(target, whttp::body::file(file.string(), "video/mp4"), {.name = "upload"});
        if (x.status == 201 && x.json().at("bytes") == size && x.uploaded_bytes == size) ++created;
    });
    const auto& t = r.totals();
    http_check_accounting(t, users);
    BOOST_TEST(created.load() == static_cast<int>(users));
    BOOST_TEST(t[stats::histogram_id::upload].count() == users);
    BOOST_TEST(t[stats::counter_id::upload_bytes] == users * size);
    const auto figures = server.fetch_json("/stats");
    BOOST_TEST(figures.at("uploads") == users);
    BOOST_TEST(figures.at("bytes") == users * size);
    for (std::uint64_t i = 0; i < users; ++i) {
        const auto student = "test_" + std::to_string(10000 + i);
        BOOST_TEST((http_read_file(store.path() / student / http_video_name(student, 1)) == content));
    }
}

BOOST_AUTO_TEST_SUITE_END()

// ---- HTTPS -------------------------------------------------------------------------------

namespace {

/// upload_server over TLS with a certificate for 127.0.0.1 made now by the openssl CLI.
struct http_tls_upload_server {
    wsload::test::temp_dir dir{"wsload-https-test"};
    std::optional<http_upload_server> server;
    http_tls_upload_server()
    {
        wsload::test::make_self_signed_certificate(dir.path());
        server.emplace(std::vector<std::string>{"--tls-cert", (dir.path() / "cert.pem").string(), "--tls-key",
                                                (dir.path() / "key.pem").string()});
        server->scheme = "https";
    }
    std::string ca_file() const { return (dir.path() / "cert.pem").string(); }
};

wsload::runtime::behavior http_gets_hello(std::atomic<int>& answered, int per_user)
{
    return [&answered, per_user](wsload::user& u) -> wsload::task<> {
        whttp::client api(u);
        for (int i = 0; i < per_user; ++i)
            if (const auto x = co_await api.get("/hello"); x.ok && x.body == "hello\n") ++answered;
    };
}

}  // namespace

BOOST_AUTO_TEST_SUITE(https_client_against_upload_server)

// Verified against the certificate given as the run's CA file: answered on one TLS connection
// per user, the TLS phase timed once per connection.
BOOST_AUTO_TEST_CASE(https_verified_with_the_ca_file_is_answered, *boost::unit_test::timeout(60))
{
    http_tls_upload_server tls;
    constexpr std::uint64_t users = 10;
    auto c = http_run_config(tls.server->url(), users);
    c.ca_file = tls.ca_file();
    std::atomic<int> answered{0};
    const auto r = http_run(c, http_gets_hello(answered, 5));
    const auto& t = r.totals();
    http_check_accounting(t, users);
    BOOST_TEST(answered.load() == static_cast<int>(5 * users));
    BOOST_TEST(t[stats::counter_id::requests_answered] == 5 * users);
    BOOST_TEST(t[stats::counter_id::connect_attempts] == users);
    BOOST_TEST(t[stats::histogram_id::connect_tls].count() == users);
    BOOST_TEST(t.ended(stats::disconnect_reason::client_close) == users);
}

// Without the CA the self-signed certificate cannot be verified: each attempt fails as tls, and
// its request as not_connected (it was never sent).
BOOST_AUTO_TEST_CASE(https_with_an_unknown_certificate_fails_as_tls, *boost::unit_test::timeout(60))
{
    http_tls_upload_server tls;
    constexpr std::uint64_t users = 10;
    std::atomic<int> answered{0};
    const auto r = http_run(http_run_config(tls.server->url(), users), http_gets_hello(answered, 1));
    const auto& t = r.totals();
    http_check_accounting(t, users);
    BOOST_TEST(answered.load() == 0);
    BOOST_TEST(t[stats::counter_id::connect_attempts] == users);
    BOOST_TEST(t.failed(stats::connect_failure::tls) == users);
    BOOST_TEST(t.failures() == users);
    BOOST_TEST(t[stats::counter_id::requests_sent] == users);
    BOOST_TEST(t.failed(stats::request_failure::not_connected) == users);
    BOOST_TEST(t[stats::counter_id::requests_failed] == users);
}

// --insecure: the certificate is not checked, the requests are answered.
BOOST_AUTO_TEST_CASE(https_insecure_is_answered_without_the_ca, *boost::unit_test::timeout(60))
{
    http_tls_upload_server tls;
    constexpr std::uint64_t users = 10;
    auto c = http_run_config(tls.server->url(), users);
    c.insecure = true;
    std::atomic<int> answered{0};
    const auto r = http_run(c, http_gets_hello(answered, 5));
    const auto& t = r.totals();
    http_check_accounting(t, users);
    BOOST_TEST(answered.load() == static_cast<int>(5 * users));
    BOOST_TEST(t[stats::counter_id::connect_attempts] == users);
    BOOST_TEST(t[stats::counter_id::connect_successes] == users);
}

BOOST_AUTO_TEST_SUITE_END()

// ---- nginx (Debian's nginx-light), a third-party server ------------------------------------

namespace {

/// nginx on 127.0.0.1 with a configuration of the test's own (a temp dir holds it, its files,
/// its logs and pid): one process, no daemon, ended by its PID. Plain HTTP on one port, HTTPS
/// on another (a certificate for 127.0.0.1 made by the openssl CLI), keepalive_requests 5 on a
/// third, so that nginx itself closes a kept-alive connection every fifth request.
struct http_nginx {
    wsload::test::temp_dir dir{"wsload-nginx-test"};
    std::uint16_t port = 0, tls_port = 0, short_port = 0;
    std::optional<wsload::test::child_process> process;

    http_nginx()
    {
        const auto root = dir.path() / "www";
        std::filesystem::create_directories(root / "sub");
        std::ofstream(root / "small.txt") << "small file\n";
        std::ofstream(root / "sub" / "index.html") << "<p>index</p>\n";
        std::ofstream(root / "large.bin") << std::string(1'000'000, 'z');
        wsload::test::make_self_signed_certificate(dir.path());
        port = wsload::test::free_tcp_port();
        tls_port = wsload::test::free_tcp_port();
        short_port = wsload::test::free_tcp_port();
        const auto d = dir.path().string();
        std::ofstream(dir.path() / "nginx.conf")
            << "daemon off;\nmaster_process off;\nworker_processes 1;\nerror_log " << d << "/error.log warn;\npid " << d
            << "/nginx.pid;\nevents { worker_connections 1024; }\nhttp {\n  access_log off;\n"
            << "  client_body_temp_path " << d << "/body;\n  proxy_temp_path " << d << "/proxy;\n"
            << "  fastcgi_temp_path " << d << "/fastcgi;\n  uwsgi_temp_path " << d << "/uwsgi;\n"
            << "  scgi_temp_path " << d << "/scgi;\n  keepalive_requests 100000;\n  root " << root.string() << ";\n"
            << "  server {\n    listen 127.0.0.1:" << port << ";\n"
            << "    location = /teapot { return 418; }\n    location = /moved { return 302 /small.txt; }\n  }\n"
            << "  server {\n    listen 127.0.0.1:" << tls_port << " ssl;\n    ssl_certificate " << d
            << "/cert.pem;\n    ssl_certificate_key " << d << "/key.pem;\n  }\n"
            << "  server {\n    listen 127.0.0.1:" << short_port << ";\n    keepalive_requests 5;\n  }\n}\n";
        process.emplace(std::vector<std::string>{"/usr/sbin/nginx", "-p", d, "-c", d + "/nginx.conf", "-e",
                                                 d + "/error.log"});
        // nginx says nothing when it listens: ready once all three ports accept.
        for (const auto p : {port, tls_port, short_port}) {
            bool up = false;
            for (int i = 0; i < 200 && !up; ++i) {
                boost::asio::io_context io;
                boost::asio::ip::tcp::socket s(io);
                boost::system::error_code ec;
                s.connect({boost::asio::ip::make_address("127.0.0.1"), p}, ec);
                up = !ec;
                if (!up) std::this_thread::sleep_for(25ms);
            }
            BOOST_REQUIRE_MESSAGE(up, "nginx did not listen on " << p << ": " << process->stderr_text());
        }
    }
    ~http_nginx()
    {
        // nginx's quit is SIGQUIT (graceful) or SIGTERM (fast); child_process SIGKILLs it after.
        if (!process) return;
        process->send_signal(SIGTERM);
        process->wait_for_exit(5s);
    }
    std::string url(std::uint16_t p, const char* scheme = "http") const
    {
        return std::string(scheme) + "://127.0.0.1:" + std::to_string(p);
    }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(http_client_against_nginx)

// Keep-alive GETs of a static file, a directory index, a 1 MB file, a HEAD, a missing file, a
// status of nginx's own and a redirect followed: each status counted per code, one connection
// per user throughout.
BOOST_AUTO_TEST_CASE(static_files_statuses_and_a_redirect_are_counted_exactly, *boost::unit_test::timeout(60))
{
    http_nginx nginx;
    constexpr std::uint64_t users = 8, rounds = 10;
    std::atomic<int> wrong{0};
    const auto r = http_run(http_run_config(nginx.url(nginx.port), users), [&](wsload::user& u) -> wsload::task<> {
        whttp::client api(u, whttp::options().follow_redirects(2));
        for (std::uint64_t i = 0; i < rounds; ++i) {
            const auto small = co_await api.get("/small.txt", {.name = "small"});
            if (small.body != "small file\n" || small.header("Content-Type") != "text/plain") ++wrong;
        }
        if ((co_await api.get("/sub/")).body != "<p>index</p>\n") ++wrong;
        if ((co_await api.get("/large.bin")).body.size() != 1'000'000) ++wrong;
        const auto head = co_await api.head("/large.bin");
        if (head.status != 200 || !head.body.empty() || head.header("Content-Length") != "1000000") ++wrong;
        if ((co_await api.get("/missing")).status != 404) ++wrong;
        if ((co_await api.get("/teapot")).status != 418) ++wrong;
        if ((co_await api.get("/moved")).body != "small file\n") ++wrong;
    });
    const auto& t = r.totals();
    http_check_accounting(t, users);
    BOOST_TEST(wrong.load() == 0);
    BOOST_TEST(t[stats::counter_id::connect_attempts] == users);
    BOOST_TEST(t.ended(stats::disconnect_reason::client_close) == users);
    // rounds small + index + large + HEAD + the moved file, then 302 (a hop, answered), 404, 418.
    BOOST_TEST(t.http_responses[200] == users * (rounds + 4));
    BOOST_TEST(t.http_responses[302] == users);
    BOOST_TEST(t.http_responses[404] == users);
    BOOST_TEST(t.http_responses[418] == users);
    BOOST_TEST(t[stats::counter_id::requests_rejected] == 2 * users);
    BOOST_TEST(t[stats::counter_id::requests_answered] == users * (rounds + 5));
    BOOST_TEST(http_row(t, "GET", "small").answered == users * rounds);
    BOOST_TEST(http_row(t, "HEAD", "/large.bin").answered == users);
    BOOST_TEST(http_row(t, "GET", "/moved").answered == 2 * users);  // the hop and the file, one row
}

// nginx closes a kept-alive connection after its fifth request (keepalive_requests 5, with
// "Connection: close" on the fifth reply): every request answered, a new connection counted
// for each five, each ended as peer_close.
BOOST_AUTO_TEST_CASE(nginx_closing_every_fifth_request_costs_a_counted_reconnect, *boost::unit_test::timeout(60))
{
    http_nginx nginx;
    constexpr std::uint64_t users = 4, requests = 20;
    const auto r = http_run(http_run_config(nginx.url(nginx.short_port), users), [&](wsload::user& u) -> wsload::task<> {
        whttp::client api(u);
        for (std::uint64_t i = 0; i < requests; ++i) co_await api.get("/small.txt");
    });
    const auto& t = r.totals();
    http_check_accounting(t, users);
    BOOST_TEST(t[stats::counter_id::requests_answered] == users * requests);
    BOOST_TEST(t[stats::counter_id::connect_attempts] == users * requests / 5);
    BOOST_TEST(t.ended(stats::disconnect_reason::peer_close) == users * requests / 5);
}

// HTTPS to nginx, verified against the certificate given as the run's CA file.
BOOST_AUTO_TEST_CASE(https_to_nginx_is_verified_and_counted, *boost::unit_test::timeout(60))
{
    http_nginx nginx;
    constexpr std::uint64_t users = 6, requests = 10;
    auto c = http_run_config(nginx.url(nginx.tls_port, "https"), users);
    c.ca_file = (nginx.dir.path() / "cert.pem").string();
    std::atomic<int> wrong{0};
    const auto r = http_run(c, [&](wsload::user& u) -> wsload::task<> {
        whttp::client api(u);
        for (std::uint64_t i = 0; i < requests; ++i)
            if ((co_await api.get("/small.txt")).body != "small file\n") ++wrong;
    });
    const auto& t = r.totals();
    http_check_accounting(t, users);
    BOOST_TEST(wrong.load() == 0);
    BOOST_TEST(t[stats::counter_id::requests_answered] == users * requests);
    BOOST_TEST(t[stats::histogram_id::connect_tls].count() == users);
    BOOST_TEST(t.http_responses[200] == users * requests);
}

BOOST_AUTO_TEST_SUITE_END()
