#ifndef BOOST_TEST_DYN_LINK
#define BOOST_TEST_DYN_LINK
#endif
// Thresholds: what parses, what each observes on known totals, and what fails early.
#include <wsload/report/grades.hpp>
#include <wsload/report/thresholds.hpp>

#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <memory>

namespace report = wsload::report;
namespace stats = wsload::stats;

namespace {

/// 1000 attempts, 990 successes, 10 refused; connect times 1..1000 us; 200 pings, 198 pongs;
/// 4 requests failed (reset x3, closed).
std::unique_ptr<stats::totals> known_totals()
{
    auto s = std::make_unique<stats::shard>();
    (*s)[stats::counter_id::connect_attempts].add(1000);
    (*s)[stats::counter_id::connect_successes].add(990);
    for (int i = 0; i < 10; ++i) s->count_failure(stats::connect_failure::refused);
    for (std::uint64_t us = 1; us <= 1000; ++us) (*s)[stats::histogram_id::connect].record(us * 1000);
    for (std::uint64_t us = 1; us <= 4; ++us) (*s)[stats::histogram_id::connect_upgrade].record(us * 1000);
    // The same name over TCP: thresholds on a name cover every transport.
    auto& tcp_login = s->requests.find("TCP", "log.in");
    tcp_login.sent.add(10);
    tcp_login.rejected.add(10);
    for (int i = 0; i < 3; ++i) s->count_request_failure(stats::request_failure::reset);
    s->count_request_failure(stats::request_failure::closed);
    (*s)[stats::counter_id::pings_sent].add(200);
    (*s)[stats::counter_id::pongs_received].add(198);
    // 110 requests named "log.in" (a dot in the name): 100 answered in 1..100 us, 10 timed out.
    auto& login = s->requests.find("WS", "log.in");
    for (std::uint64_t us = 1; us <= 100; ++us) login.round_trip.record(us * 1000);
    login.sent.add(110);
    login.answered.add(100);
    login.timed_out.add(10);
    const stats::shard* shards[] = {s.get()};
    return stats::collect<stats::totals>(shards);
}

struct case_ {
    const char* expression;
    double observed;
    bool passes;
};
std::ostream& operator<<(std::ostream& os, const case_& c) { return os << c.expression; }

const case_ cases[] = {
    {"connect.p50 < 1ms", 0.5, true},
    {"connect.p99 <= 991us", 0.99, true},  // 990 us within 3 significant digits
    {"connect.p99.9 < 999us", 0.999, false},
    {"connect.max == 1ms", 1.0, true},
    {"connect.min > 0", 0.001, true},
    {"connect.count == 1000", 1000, true},
    {"connect.avg < 500us", 0.5005, false},
    {"connect.success >= 99%", 99.0, true},
    {"connect.success > 99%", 99.0, false},
    {"pong.rate >= 99.5%", 99.0, false},
    {"failures.refused == 10", 10, true},
    {"failures.timeout == 0", 0, true},
    {"disconnects.network != 0", 0, false},
    {"request_failures.reset == 3", 3, true},
    {"request_failures.closed < 1", 1, false},
    {"request_failures.not_connected == 0", 0, true},
    {"requests_failed == 4", 4, true},
    {"connect_attempts >= 1000", 1000, true},
    {"counters.pongs_received == 198", 198, true},
    {"round_trip{log.in}.max == 100us", 0.1, true},
    {"rtt{log.in}.count == 100", 100, true},
    {"round_trip{log.in}.p50 < 50us", 0.05, false},
    {"requests{log.in}.success >= 90%", 100.0 * 100 / 120, false},  // 110 over WS + 10 rejected over TCP
    {"connect_upgrade.count == 4", 4, true},
    {"connect_handshake.max == 4us", 0.004, true},  // the catalogue's general name of the same histogram
    {"round_trip{nobody}.count == 0", 0, true},  // a name the run never used: nothing timed
};

}  // namespace

BOOST_AUTO_TEST_SUITE(thresholds)

BOOST_DATA_TEST_CASE(each_metric_observes_the_right_figure, boost::unit_test::data::make(cases), c)
{
    const auto t = known_totals();
    const auto rule = report::parse_threshold(c.expression);
    BOOST_TEST(rule.observe(*t) == c.observed, boost::test_tools::tolerance(1e-3));  // histogram precision
    BOOST_TEST(rule.passes(rule.observe(*t)) == c.passes);
}

const char* const bad[] = {
    "connect.p99 100ms",     // no comparison
    "connect.p99 < 3x",      // not a duration
    "connect.p0 < 1ms",      // percentile out of range
    "connect.p101 < 1ms",
    "connect.fastest < 1ms", // unknown statistic
    "nothing.p99 < 1ms",     // unknown metric
    "connect.success >= 99", // a rate needs %
    "failures.bogus == 0",   // unknown class
    "request_failures.timeout == 0",  // timeouts are requests_timed_out, not a failure class
    "request_failures.refused == 0",  // a connect failure class, not a request one
    "messages_sent > many",  // not a number
    " < 5",
    "round_trip{log.in.p99 < 1ms",   // unclosed name
    "connect{log.in}.p99 < 1ms",     // only round trips and requests have names
    "round_trip{}.p99 < 1ms",        // empty name
    "requests{log.in}.p99 < 1ms",    // requests{name} has a success rate only
    "round_trip{log.in} < 1ms",      // no statistic
};

BOOST_DATA_TEST_CASE(bad_expressions_are_usage_errors, boost::unit_test::data::make(bad), text)
{
    BOOST_CHECK_THROW(report::parse_threshold(text), wsload::usage_error);
}

BOOST_AUTO_TEST_CASE(only_growing_counts_fail_early)
{
    const auto t = known_totals();
    BOOST_TEST(report::parse_threshold("failures.refused < 10").failed_for_good(*t));
    BOOST_TEST(report::parse_threshold("failures.refused <= 9").failed_for_good(*t));
    BOOST_TEST(report::parse_threshold("failures.refused == 5").failed_for_good(*t));
    BOOST_TEST(!report::parse_threshold("failures.refused < 11").failed_for_good(*t));
    BOOST_TEST(!report::parse_threshold("failures.refused > 20").failed_for_good(*t));  // may still grow
    BOOST_TEST(!report::parse_threshold("connect.p50 < 1us").failed_for_good(*t));      // may still recover
    BOOST_TEST(!report::parse_threshold("connect.success >= 100%").failed_for_good(*t));
    BOOST_TEST(report::parse_threshold("request_failures.reset <= 2").failed_for_good(*t));
    BOOST_TEST(!report::parse_threshold("request_failures.reset <= 3").failed_for_good(*t));
    BOOST_TEST(!report::parse_threshold("request_failures.other == 0").failed_for_good(*t));
}

BOOST_AUTO_TEST_CASE(health_grades_follow_seed_002)
{
    const auto t = known_totals();
    const auto g = report::grades(*t);
    BOOST_REQUIRE(g.size() == 4u);
    BOOST_TEST(g[0].indicator == "connection success rate");
    BOOST_TEST((g[0].level == report::grade::good));  // 99.0%: >= 99, < 99.9
    BOOST_TEST((g[1].level == report::grade::excellent));  // P50 0.5 ms < 5 ms
    BOOST_TEST((g[2].level == report::grade::excellent));  // P99 0.99 ms < 50 ms
    BOOST_TEST((g[3].level == report::grade::good));  // pong rate 99%
}

BOOST_AUTO_TEST_SUITE_END()
