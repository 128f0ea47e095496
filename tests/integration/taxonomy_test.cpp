// Each way a server can fail, against a real misbehaving server on loopback: every attempt
// and every ending lands in exactly one class, and the classes sum to the events.

#include <support/scripted_server.hpp>
#include <support/layer_under_test.hpp>
#include <wsload/runtime/engine.hpp>

#include <boost/test/unit_test.hpp>

using namespace std::chrono_literals;
namespace stats = wsload::stats;
using wsload::test::misbehaviour;
using wsload::test::scripted_server;

namespace {

constexpr std::uint64_t users = 40;

/// Every user connects once and, if it got in, waits for the end of the connection.
wsload::runtime::run_result run_against(const scripted_server& server, std::chrono::nanoseconds connect_timeout = 5s)
{
    wsload::run_config c;
    c.name = "taxonomy";
    c.target = wsload::net::parse_url(server.url());
    c.users = users;
    c.duration = 20s;  // a bound: the run ends when every user has
    c.connect_timeout = connect_timeout;
    c.threads = 2;
    c.ws_layer = wsload::test::layer_under_test();
    wsload::runtime::engine engine(c, [](wsload::user& u) -> wsload::task<> {
        auto ws = co_await u.websocket();
        if (ws) co_await ws.wait_closed();
    });
    return engine.run();
}

void check_every_attempt_once(const stats::totals& t)
{
    BOOST_TEST(t[stats::counter_id::connect_attempts] == users);
    BOOST_TEST(t[stats::counter_id::connect_successes] + t.failures() == users);
    BOOST_TEST(t.disconnect_total() == t[stats::counter_id::connect_successes]);
    BOOST_TEST(t[stats::counter_id::active_connections] == 0u);
    std::uint64_t statuses = 0, codes = 0;
    for (auto n : t.http_statuses) statuses += n;
    for (auto n : t.close_codes) codes += n;
    BOOST_TEST(statuses == t.failed(stats::connect_failure::http_status));
    BOOST_TEST(codes == t.ended(stats::disconnect_reason::server_close));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(failure_taxonomy_against_misbehaving_servers)

BOOST_AUTO_TEST_CASE(upgrade_answered_403_is_http_status_403, *boost::unit_test::timeout(60))
{
    scripted_server server(misbehaviour::http_status, 403);
    const auto r = run_against(server);
    BOOST_TEST(r.totals->failed(stats::connect_failure::http_status) == users);
    BOOST_TEST(r.totals->http_statuses[403] == users);
    check_every_attempt_once(*r.totals);
}

BOOST_AUTO_TEST_CASE(upgrade_answered_503_is_http_status_503, *boost::unit_test::timeout(60))
{
    scripted_server server(misbehaviour::http_status, 503);
    const auto r = run_against(server);
    BOOST_TEST(r.totals->http_statuses[503] == users);
    BOOST_TEST(r.totals->failures() == users);
    check_every_attempt_once(*r.totals);
}

BOOST_AUTO_TEST_CASE(upgrade_never_answered_is_timeout, *boost::unit_test::timeout(60))
{
    scripted_server server(misbehaviour::silent);
    const auto started = wsload::clock::now();
    const auto r = run_against(server, 1s);
    BOOST_TEST(r.totals->failed(stats::connect_failure::timeout) == users);
    BOOST_TEST((wsload::clock::now() - started < 10s));  // bounded by --connect-timeout, no hang
    check_every_attempt_once(*r.totals);
}

BOOST_AUTO_TEST_CASE(a_101_with_a_wrong_accept_key_is_handshake, *boost::unit_test::timeout(60))
{
    scripted_server server(misbehaviour::bad_accept_key);
    const auto r = run_against(server);
    BOOST_TEST(r.totals->failed(stats::connect_failure::handshake) == users);
    check_every_attempt_once(*r.totals);
}

BOOST_AUTO_TEST_CASE(a_reset_during_the_upgrade_is_reset, *boost::unit_test::timeout(60))
{
    scripted_server server(misbehaviour::reset_during_upgrade);
    const auto r = run_against(server);
    BOOST_TEST(r.totals->failed(stats::connect_failure::reset) == users);
    check_every_attempt_once(*r.totals);
}

BOOST_AUTO_TEST_CASE(a_close_with_1011_is_server_close_1011, *boost::unit_test::timeout(60))
{
    scripted_server server(misbehaviour::close_after_upgrade, 1011);
    const auto r = run_against(server);
    BOOST_TEST(r.totals->failures() == 0u);
    BOOST_TEST(r.totals->ended(stats::disconnect_reason::server_close) == users);
    BOOST_TEST(r.totals->close_codes[1011] == users);
    check_every_attempt_once(*r.totals);
}

BOOST_AUTO_TEST_CASE(a_close_with_1000_is_normal, *boost::unit_test::timeout(60))
{
    scripted_server server(misbehaviour::close_after_upgrade, 1000);
    const auto r = run_against(server);
    BOOST_TEST(r.totals->ended(stats::disconnect_reason::normal) == users);
    check_every_attempt_once(*r.totals);
}

BOOST_AUTO_TEST_CASE(a_reset_after_the_upgrade_is_network, *boost::unit_test::timeout(60))
{
    scripted_server server(misbehaviour::reset_after_upgrade);
    const auto r = run_against(server);
    BOOST_TEST(r.totals->failures() == 0u);
    BOOST_TEST(r.totals->ended(stats::disconnect_reason::network) == users);
    check_every_attempt_once(*r.totals);
}

BOOST_AUTO_TEST_SUITE_END()
