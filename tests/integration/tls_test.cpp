// TLS (wss:// and tls://) against servers on loopback that fail, end or stall in each way a TLS
// server or the network can (support/tls_script_server.hpp): every attempt and every ending is
// counted exactly once, in one class, and every wait is bounded. The wss:// suite proves
// whichever WebSocket layer runs it (ctest runs it once per layer); tls:// shares the lean
// layer's stream and connect path, and its suite runs once.

#include <support/child_process.hpp>
#include <support/layer_under_test.hpp>
#include <support/tls_script_server.hpp>
#include <wsload/net/tcp/connection.hpp>
#include <wsload/runtime/engine.hpp>

#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <netdb.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <ostream>
#include <string>
#include <vector>

using namespace std::chrono_literals;
namespace stats = wsload::stats;
using wsload::test::tls_misbehaviour;
using wsload::test::tls_script_server;

namespace {

constexpr std::uint64_t tls_users = 20;

/// A run against `url` with `tls_users` users, none of them waiting on the others; `duration`
/// bounds it (it ends when every user has). The certificate in `ca_file` is trusted.
wsload::run_config tls_config(const std::string& url, const std::string& ca_file, std::chrono::nanoseconds duration = 20s)
{
    wsload::run_config c;
    c.name = "tls";
    c.target = wsload::net::parse_url(url);
    c.users = tls_users;
    c.duration = duration;
    c.threads = 2;
    c.quiet = true;
    c.ca_file = ca_file;
    c.ws_layer = wsload::test::layer_under_test();
    return c;
}

/// Each user connects once (WebSocket or raw TCP by the URL's scheme) and, if it got in,
/// closes at once.
wsload::runtime::behavior connect_and_close()
{
    return [](wsload::user& u) -> wsload::task<> {
        if (u.config().target->scheme == "tls") {
            if (auto c = co_await wsload::tcp::connect(u)) co_await c.close();
            co_return;
        }
        if (auto ws = co_await u.websocket()) co_await ws.close(1000);
    };
}

/// A run and how long it took, start to the last user's end.
struct timed_run {
    wsload::runtime::run_result result;
    std::chrono::steady_clock::duration took;
    const stats::totals& totals() const { return *result.totals; }
};

timed_run run_timed(wsload::run_config c, wsload::runtime::behavior b)
{
    const auto start = std::chrono::steady_clock::now();
    wsload::runtime::engine engine(std::move(c), std::move(b));
    auto r = engine.run();
    return {std::move(r), std::chrono::steady_clock::now() - start};
}

/// Every attempt counted once, as a success or in one failure class; every success ended once;
/// every user finished; nothing threw.
void check_tls_accounting(const stats::totals& t)
{
    BOOST_TEST(t[stats::counter_id::connect_attempts] == tls_users);
    BOOST_TEST(t[stats::counter_id::connect_successes] + t.failures() == tls_users);
    BOOST_TEST(t.disconnect_total() == t[stats::counter_id::connect_successes]);
    BOOST_TEST(t[stats::counter_id::active_connections] == 0u);
    BOOST_TEST(t[stats::counter_id::users_finished] == tls_users);
    BOOST_TEST(t[stats::counter_id::behaviour_errors] == 0u);
}

/// Every attempt failed, all of them as `f`.
void check_every_attempt_failed_as(const stats::totals& t, stats::connect_failure f)
{
    check_tls_accounting(t);
    BOOST_TEST(t.failed(f) == tls_users);
    BOOST_TEST(t.failures() == tls_users);
    BOOST_TEST(t[stats::counter_id::connect_successes] == 0u);
}

/// A self-signed certificate in its own directory, made by the openssl CLI.
struct certificate {
    wsload::test::temp_dir dir{"wsload-tls-test"};
    explicit certificate(const std::string& subject_alt_name = "IP:127.0.0.1,DNS:localhost",
                         const std::string& common_name = "localhost")
    {
        wsload::test::make_self_signed_certificate(dir.path(), subject_alt_name, common_name);
    }
    std::string ca_file() const { return (dir.path() / "cert.pem").string(); }
};

/// What an HTTP server says to a ClientHello, and what an SSH server says to anyone.
const std::vector<std::string> plain_text_replies{
    "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: 11\r\nConnection: close\r\n\r\n"
    "Bad Request",
    "SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n",
};

/// The test's ends of a TLS session: a server that does one of these after the upgrade, and the
/// class each connection must end in (a server's FIN, close_notify or RST without a close
/// frame is the network's end, not a server's close).
struct tls_ending {
    tls_misbehaviour behaviour;
    const char* name;
};
std::ostream& operator<<(std::ostream& os, const tls_ending& e) { return os << e.name; }

const std::vector<tls_ending> endings_without_a_close_frame{
    {tls_misbehaviour::fin_after_upgrade, "a FIN without close_notify"},
    {tls_misbehaviour::close_notify_after_upgrade, "close_notify and a FIN"},
    {tls_misbehaviour::reset_after_upgrade, "an RST"},
};

/// Host name verification: a certificate for these names, reached by this host, with
/// verification on: opens or fails as `tls`; the server name (SNI) the server then saw.
struct verification_case {
    const char* subject_alt_name;
    const char* common_name;  ///< never a host name here, so that only the SAN can match
    const char* host;
    bool opens;
    const char* sni;  ///< when it opens: sent for names, never for IP literals (RFC 6066)
};
std::ostream& operator<<(std::ostream& os, const verification_case& v)
{
    return os << v.subject_alt_name << " reached as " << v.host;
}

const std::vector<verification_case> verification_cases{
    {"IP:127.0.0.1", "wsload test, IP only", "127.0.0.1", true, ""},
    {"IP:127.0.0.1", "wsload test, IP only", "localhost", false, nullptr},
    {"DNS:localhost", "wsload test, DNS only", "localhost", true, "localhost"},
    {"DNS:localhost", "wsload test, DNS only", "127.0.0.1", false, nullptr},
};

/// True if `name` resolves to 127.0.0.1 here (the servers listen there only).
bool resolves_to_loopback(const char* name)
{
    addrinfo hints{};
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    if (::getaddrinfo(name, nullptr, &hints, &found) != 0) return false;
    bool loopback = false;
    for (auto* a = found; a; a = a->ai_next)
        loopback = loopback || reinterpret_cast<const sockaddr_in*>(a->ai_addr)->sin_addr.s_addr == htonl(INADDR_LOOPBACK);
    ::freeaddrinfo(found);
    return loopback;
}

/// The cases every TLS transport shares, for `scheme` (wss or tls).

void check_no_server_hello_is_timeout(const std::string& scheme)
{
    certificate cert;
    tls_script_server server(tls_misbehaviour::no_server_hello, cert.dir.path());
    auto c = tls_config(server.url(scheme), cert.ca_file());
    c.connect_timeout = 1s;
    const auto r = run_timed(c, connect_and_close());
    check_every_attempt_failed_as(r.totals(), stats::connect_failure::timeout);
    BOOST_TEST(server.accepted() == tls_users);  // TCP went through: it was the TLS step that waited
    // Each attempt ended at its bound, not before and not much after.
    BOOST_TEST(r.took >= 900ms);
    BOOST_TEST(r.took < 4s);
}

/// `reply` may be empty: a FIN and nothing else.
void check_plain_text_reply_is_tls(const std::string& scheme, const std::string& reply,
                                   stats::connect_failure expected = stats::connect_failure::tls)
{
    certificate cert;
    tls_script_server server(tls_misbehaviour::plain_text_reply, cert.dir.path(), reply);
    const auto r = run_timed(tls_config(server.url(scheme), cert.ca_file()), connect_and_close());
    check_every_attempt_failed_as(r.totals(), expected);
    BOOST_TEST(server.accepted() == tls_users);
    BOOST_TEST(r.took < 5s);
}

void check_host_verification(const std::string& scheme, const verification_case& v)
{
    BOOST_REQUIRE_MESSAGE(resolves_to_loopback("localhost"), "localhost does not resolve to 127.0.0.1 here");
    certificate cert(v.subject_alt_name, v.common_name);
    tls_script_server server(tls_misbehaviour::echo, cert.dir.path());
    const auto r = run_timed(tls_config(server.url(scheme, v.host), cert.ca_file()), connect_and_close());
    const auto& t = r.totals();
    check_tls_accounting(t);
    BOOST_TEST(server.accepted() == tls_users);
    if (v.opens) {
        BOOST_TEST(t[stats::counter_id::connect_successes] == tls_users);
        BOOST_TEST(t[stats::histogram_id::connect_tls].count() == tls_users);
        BOOST_TEST(t.ended(stats::disconnect_reason::client_close) == tls_users);
        // The server finished each handshake and saw the name the client sent, or none.
        const auto names = server.server_names();
        BOOST_TEST(names.size() == tls_users);
        BOOST_TEST(std::count(names.begin(), names.end(), v.sni) == static_cast<std::ptrdiff_t>(tls_users));
    } else {
        check_every_attempt_failed_as(t, stats::connect_failure::tls);
        BOOST_TEST(server.server_names().empty());  // the client refused the certificate: no handshake ended
    }
}

}  // namespace

// ------------------------------------------------------------------------------------------

BOOST_AUTO_TEST_SUITE(wss_failure_and_end_classes)

BOOST_AUTO_TEST_CASE(a_server_that_never_answers_the_client_hello_is_timeout_at_the_bound, *boost::unit_test::timeout(60))
{
    check_no_server_hello_is_timeout("wss");
}

BOOST_TEST_DECORATOR(*boost::unit_test::timeout(60))
BOOST_DATA_TEST_CASE(a_plain_text_answer_to_the_client_hello_is_tls, boost::unit_test::data::make(plain_text_replies), reply)
{
    check_plain_text_reply_is_tls("wss", reply);
}

// A FIN in answer to the ClientHello is `reset`, with both layers and over tls://, as a FIN in
// answer to the upgrade request is (the interop suite's an_upgrade_closed_without_a_reply_is_reset):
// the server closed during the attempt without a reply, which is not a bad TLS reply.
BOOST_AUTO_TEST_CASE(a_fin_in_answer_to_the_client_hello_is_reset, *boost::unit_test::timeout(60))
{
    check_plain_text_reply_is_tls("wss", "", stats::connect_failure::reset);
}

BOOST_TEST_DECORATOR(*boost::unit_test::timeout(60))
BOOST_DATA_TEST_CASE(the_certificate_must_name_the_host, boost::unit_test::data::make(verification_cases), v)
{
    check_host_verification("wss", v);
}

// TLS 1.3 KeyUpdate, asked for by the server before every echo: the client's reads take the new
// keys and its writes answer with its own update (OpenSSL on the descriptor must let SSL_read
// and SSL_write do this between readiness waits). Messages span records (64 KiB) and fit one.
BOOST_AUTO_TEST_CASE(echo_goes_on_across_key_updates_both_ways, *boost::unit_test::timeout(60))
{
    certificate cert;
    tls_script_server server(tls_misbehaviour::echo_with_key_updates, cert.dir.path());
    constexpr int per_user = 20;
    std::atomic<int> echoed{0};
    const auto r = run_timed(tls_config(server.url("wss"), cert.ca_file()), [&](wsload::user& u) -> wsload::task<> {
        auto ws = co_await u.websocket();
        if (!ws) co_return;
        for (int i = 0; i < per_user; ++i) {
            const std::string data(i % 2 ? 65536 : 100, static_cast<char>('a' + i));
            co_await ws.send(data);
            if (auto m = co_await ws.receive(5s); m && m->data == data) ++echoed;
        }
        co_await ws.close(1000);
    });
    const auto& t = r.totals();
    check_tls_accounting(t);
    BOOST_TEST(echoed == static_cast<int>(tls_users) * per_user);
    BOOST_TEST(t[stats::counter_id::messages_sent] == tls_users * per_user);
    BOOST_TEST(t[stats::counter_id::messages_received] == tls_users * per_user);
    BOOST_TEST(t[stats::counter_id::bytes_received] == tls_users * (per_user / 2) * (65536 + 100));
    BOOST_TEST(t.ended(stats::disconnect_reason::client_close) == tls_users);
}

// --insecure: neither the issuer nor the name is checked.
BOOST_AUTO_TEST_CASE(insecure_skips_the_name_and_the_issuer, *boost::unit_test::timeout(60))
{
    certificate cert("IP:127.0.0.1", "wsload test, IP only");
    tls_script_server server(tls_misbehaviour::echo, cert.dir.path());
    auto c = tls_config(server.url("wss", "localhost"), "");
    c.insecure = true;
    const auto r = run_timed(c, connect_and_close());
    check_tls_accounting(r.totals());
    BOOST_TEST(r.totals()[stats::counter_id::connect_successes] == tls_users);
    BOOST_TEST(r.totals().ended(stats::disconnect_reason::client_close) == tls_users);
}

// After the upgrade and a message the server ends TLS and TCP without a WebSocket close: each
// connection ends once, as network, as soon as it happens (long before the run's bound).
BOOST_TEST_DECORATOR(*boost::unit_test::timeout(60))
BOOST_DATA_TEST_CASE(an_end_without_a_close_frame_is_network_once, boost::unit_test::data::make(endings_without_a_close_frame),
                     ending)
{
    certificate cert;
    tls_script_server server(ending.behaviour, cert.dir.path());
    std::atomic<int> network{0};
    const auto r = run_timed(tls_config(server.url("wss"), cert.ca_file()), [&](wsload::user& u) -> wsload::task<> {
        auto ws = co_await u.websocket();
        if (!ws) co_return;
        co_await ws.send("the server ends the connection after this");
        co_await ws.wait_closed();
        if (ws.end_reason() == stats::disconnect_reason::network) ++network;
    });
    const auto& t = r.totals();
    check_tls_accounting(t);
    BOOST_TEST(server.upgraded() == tls_users);
    BOOST_TEST(t[stats::counter_id::connect_successes] == tls_users);
    BOOST_TEST(t.ended(stats::disconnect_reason::network) == tls_users);
    BOOST_TEST(network == static_cast<int>(tls_users));
    BOOST_TEST(t[stats::counter_id::messages_sent] == tls_users);
    BOOST_TEST(r.took < 5s);
}

// The server stops reading: a message of 32 MB fills both sockets' buffers and the client's
// write waits. The run still ends at its duration plus grace, each connection counted once, and
// the message not counted as sent (it never was, whole).
BOOST_AUTO_TEST_CASE(a_write_to_a_stalled_server_ends_with_the_run, *boost::unit_test::timeout(60))
{
    certificate cert;
    tls_script_server server(tls_misbehaviour::stall_after_upgrade, cert.dir.path());
    auto c = tls_config(server.url("wss"), cert.ca_file(), 2s);
    c.users = 4;
    c.grace = 1s;
    c.close_timeout = 1s;
    std::atomic<int> sent{0}, unsent{0};
    const auto r = run_timed(c, [&](wsload::user& u) -> wsload::task<> {
        auto ws = co_await u.websocket();
        if (!ws) co_return;
        const std::string big(32u << 20, 'x');
        if (co_await ws.send_binary(big)) ++sent;
        else ++unsent;
        co_await ws.wait_closed();
    });
    const auto& t = r.totals();
    BOOST_TEST(sent == 0);
    BOOST_TEST(unsent == 4);
    BOOST_TEST(t[stats::counter_id::connect_attempts] == 4u);
    BOOST_TEST(t[stats::counter_id::connect_successes] == 4u);
    BOOST_TEST(t.disconnect_total() == 4u);
    BOOST_TEST(t.ended(stats::disconnect_reason::client_stop) == 4u);
    BOOST_TEST(t[stats::counter_id::active_connections] == 0u);
    BOOST_TEST(t[stats::counter_id::users_finished] == 4u);
    BOOST_TEST(t[stats::counter_id::messages_sent] == 0u);
    BOOST_TEST(t[stats::counter_id::behaviour_errors] == 0u);
    BOOST_TEST(r.took >= 2s);
    BOOST_TEST(r.took < 2s + 1s + 2s);  // duration + grace, and some slack for a loaded machine
}

// A close the server never answers (it reads nothing more): the client gives up at the close
// timeout, and the connection is the client's close, once.
BOOST_AUTO_TEST_CASE(an_unanswered_close_gives_up_at_the_close_timeout, *boost::unit_test::timeout(60))
{
    certificate cert;
    tls_script_server server(tls_misbehaviour::stall_after_upgrade, cert.dir.path());
    auto c = tls_config(server.url("wss"), cert.ca_file());
    c.close_timeout = 1s;
    const auto r = run_timed(c, connect_and_close());
    const auto& t = r.totals();
    check_tls_accounting(t);
    BOOST_TEST(t[stats::counter_id::connect_successes] == tls_users);
    BOOST_TEST(t.ended(stats::disconnect_reason::client_close) == tls_users);
    BOOST_TEST(r.took >= 900ms);
    BOOST_TEST(r.took < 4s);
}

BOOST_AUTO_TEST_SUITE_END()

// ------------------------------------------------------------------------------------------
// tls:// (raw TCP under TLS): the same handshake failures and verification, on its own
// connect path.

BOOST_AUTO_TEST_SUITE(tls_tcp_handshake_classes)

BOOST_AUTO_TEST_CASE(a_server_that_never_answers_the_client_hello_is_timeout_at_the_bound, *boost::unit_test::timeout(60))
{
    check_no_server_hello_is_timeout("tls");
}

BOOST_TEST_DECORATOR(*boost::unit_test::timeout(60))
BOOST_DATA_TEST_CASE(a_plain_text_answer_to_the_client_hello_is_tls, boost::unit_test::data::make(plain_text_replies), reply)
{
    check_plain_text_reply_is_tls("tls", reply);
}

BOOST_AUTO_TEST_CASE(a_fin_in_answer_to_the_client_hello_is_reset, *boost::unit_test::timeout(60))
{
    check_plain_text_reply_is_tls("tls", "", stats::connect_failure::reset);
}

BOOST_TEST_DECORATOR(*boost::unit_test::timeout(60))
BOOST_DATA_TEST_CASE(the_certificate_must_name_the_host, boost::unit_test::data::make(verification_cases), v)
{
    check_host_verification("tls", v);
}

BOOST_AUTO_TEST_SUITE_END()
