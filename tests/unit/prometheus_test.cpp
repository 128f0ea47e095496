#ifndef BOOST_TEST_DYN_LINK
#define BOOST_TEST_DYN_LINK
#endif
// The Prometheus sink: the exact exposition text of known figures, and the metrics endpoint
// (in-process, on 127.0.0.1 port 0 only) with its status codes, limits and shutdown.
#include <wsload/report/prometheus.hpp>
#include <wsload/report/sinks.hpp>
#include <wsload/runtime/engine.hpp>
#include <wsload/runtime/run_config.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

using namespace std::chrono_literals;
namespace asio = boost::asio;
namespace http = boost::beast::http;
namespace report = wsload::report;
namespace stats = wsload::stats;
using asio::ip::tcp;

namespace {

/// 13 attempts: 8 opened, 5 failed (2 refused, 1 timeout, 2 http_status: 403 and 503); 3 of
/// the 8 ended (normal, server_close 4000, network), so 5 open. 100 requests: 97 answered (over
/// HTTP: 200 x96, 204), 2 timed out, 1 failed (reset). Connect times sit around the bucket bounds.
std::unique_ptr<stats::totals> scrape_totals()
{
    using stats::counter_id;
    auto s = std::make_unique<stats::shard>();
    (*s)[counter_id::connect_attempts].add(13);
    (*s)[counter_id::connect_successes].add(8);
    (*s)[counter_id::active_connections].add(5);
    s->count_failure(stats::connect_failure::refused);
    s->count_failure(stats::connect_failure::refused);
    s->count_failure(stats::connect_failure::timeout);
    s->count_failure(stats::connect_failure::http_status, 503);
    s->count_failure(stats::connect_failure::http_status, 403);
    s->count_disconnect(stats::disconnect_reason::normal);
    s->count_disconnect(stats::disconnect_reason::server_close, 4000);
    s->count_disconnect(stats::disconnect_reason::network);
    (*s)[counter_id::messages_sent].add(100);
    (*s)[counter_id::messages_received].add(98);
    (*s)[counter_id::bytes_sent].add(6400);
    (*s)[counter_id::bytes_received].add(6272);
    (*s)[counter_id::pings_sent].add(20);
    (*s)[counter_id::pongs_received].add(19);
    (*s)[counter_id::pongs_missed].add(1);
    (*s)[counter_id::requests_sent].add(100);
    (*s)[counter_id::requests_answered].add(97);
    (*s)[counter_id::requests_timed_out].add(2);
    s->count_request_failure(stats::request_failure::reset);
    for (int i = 0; i < 96; ++i) s->count_http_response(200);
    s->count_http_response(204);
    (*s)[counter_id::behaviour_errors].add(3);
    (*s)[counter_id::users_started].add(50);
    (*s)[counter_id::users_finished].add(45);
    // 99.9 us sits in the HDR bucket [99840, 99903]: under le=0.0001. 100 us sits in
    // [99968, 100031] and 1 ms in [999936, 1000447], so each counts under the next bound up.
    // 2 h is above the histogram's 1 h range: clamped into the top bucket, so +Inf only.
    for (std::uint64_t ns : {50'000ull, 99'900ull, 100'000ull, 1'000'000ull, 3'000'000ull, 2'000'000'000ull,
                             20'000'000'000ull, 7'200'000'000'000ull})
        (*s)[stats::histogram_id::connect].record(ns);
    (*s)[stats::histogram_id::round_trip].record(2'000'000, 90);
    (*s)[stats::histogram_id::round_trip].record(20'000'000, 5);
    (*s)[stats::histogram_id::round_trip].record(200'000'000, 2);
    const stats::shard* shards[] = {s.get()};
    return stats::collect<stats::totals>(shards);
}

wsload::run_config scrape_config()
{
    wsload::run_config c;
    c.name = "a\\b \"c\"\nd";  // backslash, quotes and a line feed: all escaped in the label
    c.target = wsload::net::parse_url("ws://127.0.0.1:9000/ws");
    c.users = 50;
    return c;
}

std::string known_text()
{
    return report::prometheus_text(*scrape_totals(), 12'500ms, wsload::describe(scrape_config()));
}

/// The lines from `# HELP <family> ` up to the next `# HELP` (or the end).
std::string family_block(const std::string& text, const std::string& family)
{
    const auto begin = text.find("# HELP " + family + " ");
    if (begin == std::string::npos) return "(no family " + family + ")";
    const auto end = text.find("# HELP ", begin + 1);
    return text.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
}

std::size_t occurrences_of(const std::string& text, const std::string& what)
{
    std::size_t n = 0;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
}

struct sample {
    std::string name, labels;
    double value;
};

/// Every sample line of the text, checking on the way that each follows the HELP and TYPE of
/// its family (histogram samples being <family>_bucket, _sum and _count).
std::vector<sample> parse_samples(const std::string& text, std::vector<std::string>& families)
{
    std::vector<sample> samples;
    std::istringstream lines(text);
    std::string line, help_of, family, type;
    while (std::getline(lines, line)) {
        BOOST_REQUIRE_MESSAGE(!line.empty(), "no blank lines");
        if (line.rfind("# HELP ", 0) == 0) {
            help_of = line.substr(7, line.find(' ', 7) - 7);
            continue;
        }
        if (line.rfind("# TYPE ", 0) == 0) {
            std::istringstream words(line.substr(7));
            words >> family >> type;
            BOOST_TEST_REQUIRE(family == help_of, "TYPE " << family << " right after its HELP");
            families.push_back(family + " " + type);
            continue;
        }
        const auto name_end = line.find_first_of("{ ");
        sample s{line.substr(0, name_end), "", 0};
        if (line[name_end] == '{') s.labels = line.substr(name_end + 1, line.find("} ") - name_end - 1);
        s.value = std::stod(line.substr(line.rfind(' ') + 1));
        const bool ok = s.name == family ||
                        (type == "histogram" && (s.name == family + "_bucket" || s.name == family + "_sum" ||
                                                 s.name == family + "_count"));
        BOOST_TEST_REQUIRE(ok, s.name << " belongs to the family declared before it (" << family << ")");
        samples.push_back(s);
    }
    return samples;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(prometheus_text)

BOOST_AUTO_TEST_CASE(counters_gauges_and_labels_exactly)
{
    const auto text = known_text();
    const auto head = text.substr(0, text.find("# HELP wsload_connect_seconds "));
    BOOST_TEST(head == R"(# HELP wsload_users_target Simulated users the run starts in all.
# TYPE wsload_users_target gauge
wsload_users_target 50
# HELP wsload_elapsed_seconds Seconds since the run started.
# TYPE wsload_elapsed_seconds gauge
wsload_elapsed_seconds 12.5
# HELP wsload_run_info The run: scenario name and target URL (value 1).
# TYPE wsload_run_info gauge
wsload_run_info{scenario="a\\b \"c\"\nd",target="ws://127.0.0.1:9000/ws"} 1
# HELP wsload_connect_attempts_total Connection attempts started.
# TYPE wsload_connect_attempts_total counter
wsload_connect_attempts_total 13
# HELP wsload_connect_successes_total Connection attempts that opened a connection (its handshake included).
# TYPE wsload_connect_successes_total counter
wsload_connect_successes_total 8
# HELP wsload_active_connections Connections open now (every transport).
# TYPE wsload_active_connections gauge
wsload_active_connections 5
# HELP wsload_messages_sent_total Messages sent (every transport).
# TYPE wsload_messages_sent_total counter
wsload_messages_sent_total 100
# HELP wsload_messages_received_total Messages received (every transport).
# TYPE wsload_messages_received_total counter
wsload_messages_received_total 98
# HELP wsload_bytes_sent_total Payload bytes sent.
# TYPE wsload_bytes_sent_total counter
wsload_bytes_sent_total 6400
# HELP wsload_bytes_received_total Payload bytes received.
# TYPE wsload_bytes_received_total counter
wsload_bytes_received_total 6272
# HELP wsload_pings_sent_total Heartbeat pings sent.
# TYPE wsload_pings_sent_total counter
wsload_pings_sent_total 20
# HELP wsload_pongs_received_total Heartbeat pongs received.
# TYPE wsload_pongs_received_total counter
wsload_pongs_received_total 19
# HELP wsload_pongs_missed_total Pings whose pong had not come back when the next ping was due.
# TYPE wsload_pongs_missed_total counter
wsload_pongs_missed_total 1
# HELP wsload_requests_sent_total Requests sent (messages that wait for a reply).
# TYPE wsload_requests_sent_total counter
wsload_requests_sent_total 100
# HELP wsload_requests_answered_total Requests whose reply came back.
# TYPE wsload_requests_answered_total counter
wsload_requests_answered_total 97
# HELP wsload_requests_timed_out_total Requests with no reply within their timeout.
# TYPE wsload_requests_timed_out_total counter
wsload_requests_timed_out_total 2
# HELP wsload_requests_failed_total Requests that failed without a reply in their time: by class in request_failures.
# TYPE wsload_requests_failed_total counter
wsload_requests_failed_total 1
# HELP wsload_users_started_total Simulated users started.
# TYPE wsload_users_started_total counter
wsload_users_started_total 50
# HELP wsload_users_finished_total Simulated users whose behaviour returned or threw.
# TYPE wsload_users_finished_total counter
wsload_users_finished_total 45
# HELP wsload_behaviour_errors_total Behaviours that threw (the user ended, the run went on).
# TYPE wsload_behaviour_errors_total counter
wsload_behaviour_errors_total 3
# HELP wsload_inbox_dropped_total Received messages nobody took, dropped beyond the inbox limit.
# TYPE wsload_inbox_dropped_total counter
wsload_inbox_dropped_total 0
# HELP wsload_requests_rejected_total Requests answered with a reply that said they failed.
# TYPE wsload_requests_rejected_total counter
wsload_requests_rejected_total 0
# HELP wsload_tls_sessions_resumed_total TLS handshakes that resumed a session the server offered earlier (--tls-resume).
# TYPE wsload_tls_sessions_resumed_total counter
wsload_tls_sessions_resumed_total 0
# HELP wsload_upload_bytes_total Request body bytes sent in pieces (HTTP uploads); bytes_sent counts them too.
# TYPE wsload_upload_bytes_total counter
wsload_upload_bytes_total 0
# HELP wsload_users_stopped_total Users the load shape stopped before the run's end (a ramp-down).
# TYPE wsload_users_stopped_total counter
wsload_users_stopped_total 0
# HELP wsload_users_aborted_total Users the load shape stopped that were still running after the ramp-down timeout (their connections aborted).
# TYPE wsload_users_aborted_total counter
wsload_users_aborted_total 0
# HELP wsload_iterations_total Iterations that ran to their end.
# TYPE wsload_iterations_total counter
wsload_iterations_total 0
# HELP wsload_iteration_errors_total Iterations ended by an exception (the user went on with its next iteration).
# TYPE wsload_iteration_errors_total counter
wsload_iteration_errors_total 0
# HELP wsload_dropped_iterations_total Iterations an arrival-rate shape could not start: no free user, and no more users allowed.
# TYPE wsload_dropped_iterations_total counter
wsload_dropped_iterations_total 0
# HELP wsload_server_pings_answered_total Keep-alive pings the server's protocol sent and the client answered (Engine.IO's heartbeat).
# TYPE wsload_server_pings_answered_total counter
wsload_server_pings_answered_total 0
# HELP wsload_unmatched_replies_total Replies that named no waiting request: an unknown or repeated ack id, or one that came after its request timed out.
# TYPE wsload_unmatched_replies_total counter
wsload_unmatched_replies_total 0
# HELP wsload_app_pings_sent_total Application heartbeats sent (a message of the scenario's, apart from WebSocket pings).
# TYPE wsload_app_pings_sent_total counter
wsload_app_pings_sent_total 0
# HELP wsload_app_pongs_received_total Replies to application heartbeats within their timeout.
# TYPE wsload_app_pongs_received_total counter
wsload_app_pongs_received_total 0
# HELP wsload_app_pongs_missed_total Application heartbeats with no reply within their timeout.
# TYPE wsload_app_pongs_missed_total counter
wsload_app_pongs_missed_total 0
# HELP wsload_reconnects_given_up_total Users that ran out of reconnect attempts (their reconnects are counted by reason).
# TYPE wsload_reconnects_given_up_total counter
wsload_reconnects_given_up_total 0
# HELP wsload_late_sends_total Sends with an intended time, and arrivals, that went out over 1 ms later than intended.
# TYPE wsload_late_sends_total counter
wsload_late_sends_total 0
# HELP wsload_connect_failures_total Failed connection attempts by class; the classes sum to the failures.
# TYPE wsload_connect_failures_total counter
wsload_connect_failures_total{reason="dns"} 0
wsload_connect_failures_total{reason="refused"} 2
wsload_connect_failures_total{reason="timeout"} 1
wsload_connect_failures_total{reason="tls"} 0
wsload_connect_failures_total{reason="http_status"} 2
wsload_connect_failures_total{reason="handshake"} 0
wsload_connect_failures_total{reason="reset"} 0
wsload_connect_failures_total{reason="aborted"} 0
wsload_connect_failures_total{reason="local_limit"} 0
wsload_connect_failures_total{reason="other"} 0
# HELP wsload_connect_http_status_total Upgrades answered with an HTTP status other than 101, by status (non-zero only).
# TYPE wsload_connect_http_status_total counter
wsload_connect_http_status_total{code="403"} 1
wsload_connect_http_status_total{code="503"} 1
# HELP wsload_disconnects_total Established connections that ended, by class.
# TYPE wsload_disconnects_total counter
wsload_disconnects_total{reason="normal"} 1
wsload_disconnects_total{reason="going_away"} 0
wsload_disconnects_total{reason="protocol_error"} 0
wsload_disconnects_total{reason="message_too_big"} 0
wsload_disconnects_total{reason="server_close"} 1
wsload_disconnects_total{reason="network"} 1
wsload_disconnects_total{reason="ping_timeout"} 0
wsload_disconnects_total{reason="client_close"} 0
wsload_disconnects_total{reason="client_stop"} 0
wsload_disconnects_total{reason="peer_close"} 0
wsload_disconnects_total{reason="app_heartbeat_timeout"} 0
# HELP wsload_close_codes_total server_close disconnects by WebSocket close code (non-zero only).
# TYPE wsload_close_codes_total counter
wsload_close_codes_total{code="4000"} 1
# HELP wsload_request_failures_total Failed requests by class; the classes sum to wsload_requests_failed_total.
# TYPE wsload_request_failures_total counter
wsload_request_failures_total{reason="not_connected"} 0
wsload_request_failures_total{reason="closed"} 0
wsload_request_failures_total{reason="reset"} 1
wsload_request_failures_total{reason="too_large"} 0
wsload_request_failures_total{reason="unparsable"} 0
wsload_request_failures_total{reason="stopped"} 0
wsload_request_failures_total{reason="other"} 0
# HELP wsload_http_responses_total HTTP responses to requests, by status (0: a status outside 100..599; non-zero only).
# TYPE wsload_http_responses_total counter
wsload_http_responses_total{code="200"} 96
wsload_http_responses_total{code="204"} 1
)");
}

BOOST_AUTO_TEST_CASE(histograms_exactly_with_cumulative_buckets_in_seconds)
{
    const auto text = known_text();
    BOOST_TEST(family_block(text, "wsload_connect_seconds") == R"(# HELP wsload_connect_seconds Whole connect: DNS, TCP, TLS and the transport's handshake.
# TYPE wsload_connect_seconds histogram
wsload_connect_seconds_bucket{le="0.0001"} 2
wsload_connect_seconds_bucket{le="0.00025"} 3
wsload_connect_seconds_bucket{le="0.0005"} 3
wsload_connect_seconds_bucket{le="0.001"} 3
wsload_connect_seconds_bucket{le="0.0025"} 4
wsload_connect_seconds_bucket{le="0.005"} 5
wsload_connect_seconds_bucket{le="0.01"} 5
wsload_connect_seconds_bucket{le="0.025"} 5
wsload_connect_seconds_bucket{le="0.05"} 5
wsload_connect_seconds_bucket{le="0.1"} 5
wsload_connect_seconds_bucket{le="0.25"} 5
wsload_connect_seconds_bucket{le="0.5"} 5
wsload_connect_seconds_bucket{le="1"} 5
wsload_connect_seconds_bucket{le="2.5"} 6
wsload_connect_seconds_bucket{le="5"} 6
wsload_connect_seconds_bucket{le="10"} 6
wsload_connect_seconds_bucket{le="+Inf"} 8
wsload_connect_seconds_sum 7222.0042499
wsload_connect_seconds_count 8
)");
    BOOST_TEST(family_block(text, "wsload_round_trip_seconds") == R"(# HELP wsload_round_trip_seconds Request to matched reply, from the intended send time.
# TYPE wsload_round_trip_seconds histogram
wsload_round_trip_seconds_bucket{le="0.0001"} 0
wsload_round_trip_seconds_bucket{le="0.00025"} 0
wsload_round_trip_seconds_bucket{le="0.0005"} 0
wsload_round_trip_seconds_bucket{le="0.001"} 0
wsload_round_trip_seconds_bucket{le="0.0025"} 90
wsload_round_trip_seconds_bucket{le="0.005"} 90
wsload_round_trip_seconds_bucket{le="0.01"} 90
wsload_round_trip_seconds_bucket{le="0.025"} 95
wsload_round_trip_seconds_bucket{le="0.05"} 95
wsload_round_trip_seconds_bucket{le="0.1"} 95
wsload_round_trip_seconds_bucket{le="0.25"} 97
wsload_round_trip_seconds_bucket{le="0.5"} 97
wsload_round_trip_seconds_bucket{le="1"} 97
wsload_round_trip_seconds_bucket{le="2.5"} 97
wsload_round_trip_seconds_bucket{le="5"} 97
wsload_round_trip_seconds_bucket{le="10"} 97
wsload_round_trip_seconds_bucket{le="+Inf"} 97
wsload_round_trip_seconds_sum 0.68
wsload_round_trip_seconds_count 97
)");
    // An empty histogram is still a complete family, all zeros.
    const auto tls = family_block(text, "wsload_connect_tls_seconds");
    BOOST_TEST(tls.find("# TYPE wsload_connect_tls_seconds histogram\n") != std::string::npos);
    BOOST_TEST(tls.find("wsload_connect_tls_seconds_bucket{le=\"0.0001\"} 0\n") != std::string::npos);
    BOOST_TEST(tls.find("wsload_connect_tls_seconds_bucket{le=\"+Inf\"} 0\n") != std::string::npos);
    BOOST_TEST(tls.find("wsload_connect_tls_seconds_sum 0\nwsload_connect_tls_seconds_count 0\n") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(every_family_declared_once_in_order_and_every_sample_in_its_family)
{
    const auto text = known_text();
    BOOST_TEST(text.back() == '\n');
    std::vector<std::string> families;
    const auto samples = parse_samples(text, families);
    const std::vector<std::string> expected{
        "wsload_users_target gauge",               "wsload_elapsed_seconds gauge",
        "wsload_run_info gauge",                   "wsload_connect_attempts_total counter",
        "wsload_connect_successes_total counter",  "wsload_active_connections gauge",
        "wsload_messages_sent_total counter",      "wsload_messages_received_total counter",
        "wsload_bytes_sent_total counter",         "wsload_bytes_received_total counter",
        "wsload_pings_sent_total counter",         "wsload_pongs_received_total counter",
        "wsload_pongs_missed_total counter",       "wsload_requests_sent_total counter",
        "wsload_requests_answered_total counter",  "wsload_requests_timed_out_total counter",
        "wsload_requests_failed_total counter",    "wsload_users_started_total counter",
        "wsload_users_finished_total counter",     "wsload_behaviour_errors_total counter",
        "wsload_inbox_dropped_total counter",      "wsload_requests_rejected_total counter",
        "wsload_tls_sessions_resumed_total counter", "wsload_upload_bytes_total counter",
        "wsload_users_stopped_total counter",      "wsload_users_aborted_total counter",
        "wsload_iterations_total counter",         "wsload_iteration_errors_total counter",
        "wsload_dropped_iterations_total counter",
        "wsload_server_pings_answered_total counter",
        "wsload_unmatched_replies_total counter",
        "wsload_app_pings_sent_total counter",
        "wsload_app_pongs_received_total counter",
        "wsload_app_pongs_missed_total counter",
        "wsload_reconnects_given_up_total counter",
        "wsload_late_sends_total counter",
        "wsload_connect_failures_total counter",   "wsload_connect_http_status_total counter",
        "wsload_disconnects_total counter",        "wsload_close_codes_total counter",
        "wsload_request_failures_total counter",   "wsload_http_responses_total counter",
        "wsload_connect_seconds histogram",        "wsload_connect_tcp_seconds histogram",
        "wsload_connect_tls_seconds histogram",    "wsload_connect_upgrade_seconds histogram",
        "wsload_round_trip_seconds histogram",     "wsload_ping_round_trip_seconds histogram",
        "wsload_upload_seconds histogram",         "wsload_iteration_seconds histogram",
        "wsload_first_reply_seconds histogram",    "wsload_app_ping_round_trip_seconds histogram",
        "wsload_event_loop_lag_seconds histogram", "wsload_send_lateness_seconds histogram"};
    BOOST_TEST(families == expected, boost::test_tools::per_element());

    // Failure classes sum to the failures (13 attempts - 8 successes), disconnect classes to
    // the ended connections (8 - 5 open), request failure classes to the failed requests.
    double failures = 0, disconnects = 0, request_failures = 0, requests_failed = -1;
    for (const auto& s : samples) {
        if (s.name == "wsload_connect_failures_total") failures += s.value;
        if (s.name == "wsload_disconnects_total") disconnects += s.value;
        if (s.name == "wsload_request_failures_total") request_failures += s.value;
        if (s.name == "wsload_requests_failed_total") requests_failed = s.value;
    }
    BOOST_TEST(failures == 5);
    BOOST_TEST(disconnects == 3);
    BOOST_TEST(request_failures == 1);
    BOOST_TEST(request_failures == requests_failed);
}

BOOST_AUTO_TEST_CASE(a_run_without_failed_requests_or_http_has_zero_classes_and_no_codes)
{
    const auto none = std::make_unique<stats::totals>();
    const auto text = report::prometheus_text(*none, 1s, wsload::stats::run_info{});
    BOOST_TEST(family_block(text, "wsload_http_responses_total") ==
               "# HELP wsload_http_responses_total HTTP responses to requests, by status (0: a status outside 100..599; "
               "non-zero only).\n# TYPE wsload_http_responses_total counter\n");
    const auto classes = family_block(text, "wsload_request_failures_total");
    BOOST_TEST(occurrences_of(classes, "\nwsload_request_failures_total{reason=\"") == stats::request_failure_count);
    BOOST_TEST(occurrences_of(classes, "\"} 0\n") == stats::request_failure_count);
}

BOOST_AUTO_TEST_CASE(named_requests_get_a_counter_and_a_histogram_family_with_type_and_name_labels)
{
    auto totals = scrape_totals();
    auto& login = totals->requests[stats::request_key{"WS", "log\"in"}];  // a quote: escaped in the label
    login.sent = 3;
    login.answered = 2;
    login.timed_out = 1;
    login.round_trip.record(2'000'000);
    login.round_trip.record(20'000'000);
    totals->requests[stats::request_key{"WS", "round trip"}].sent = 0;
    const auto text = report::prometheus_text(*totals, 12'500ms, wsload::describe(scrape_config()));

    std::vector<std::string> families;
    const auto samples = parse_samples(text, families);  // well formed, each sample in its family
    BOOST_TEST(families.size() == 56u);
    BOOST_TEST(families[54] == "wsload_named_requests_total counter");
    BOOST_TEST(families[55] == "wsload_named_round_trip_seconds histogram");
    const auto block = family_block(text, "wsload_named_requests_total");
    BOOST_TEST(block.find("wsload_named_requests_total{type=\"WS\",name=\"log\\\"in\",outcome=\"sent\"} 3\n") !=
               std::string::npos);
    BOOST_TEST(block.find("wsload_named_requests_total{type=\"WS\",name=\"log\\\"in\",outcome=\"timed_out\"} 1\n") !=
               std::string::npos);
    BOOST_TEST(block.find("wsload_named_requests_total{type=\"WS\",name=\"round trip\",outcome=\"sent\"} 0\n") !=
               std::string::npos);
    const auto histogram = family_block(text, "wsload_named_round_trip_seconds");
    BOOST_TEST(histogram.find("wsload_named_round_trip_seconds_bucket{type=\"WS\",name=\"log\\\"in\",le=\"0.0025\"} 1\n") !=
               std::string::npos);
    BOOST_TEST(histogram.find("wsload_named_round_trip_seconds_bucket{type=\"WS\",name=\"log\\\"in\",le=\"+Inf\"} 2\n") !=
               std::string::npos);
    BOOST_TEST(histogram.find("wsload_named_round_trip_seconds_count{type=\"WS\",name=\"log\\\"in\"} 2\n") !=
               std::string::npos);
    BOOST_TEST(histogram.find("wsload_named_round_trip_seconds_sum{type=\"WS\",name=\"log\\\"in\"} 0.022\n") !=
               std::string::npos);
    (void)samples;
}

BOOST_AUTO_TEST_CASE(buckets_are_cumulative_and_inf_equals_count)
{
    // Many values spread over the whole range, so every bound sees some.
    auto s = std::make_unique<stats::shard>();
    std::uint64_t recorded = 0;
    for (std::uint64_t ns = 1'000; ns < 40'000'000'000ull; ns = ns * 21 / 20 + 1, ++recorded)
        (*s)[stats::histogram_id::ping_round_trip].record(ns);
    const stats::shard* shards[] = {s.get()};
    const auto text = report::prometheus_text(*stats::collect<stats::totals>(shards), 1s, wsload::stats::run_info{});
    std::vector<std::string> families;
    std::map<std::string, std::vector<double>> buckets;
    std::map<std::string, double> counts;
    for (const auto& x : parse_samples(text, families)) {
        if (x.name.ends_with("_bucket")) buckets[x.name.substr(0, x.name.size() - 7)].push_back(x.value);
        if (x.name.ends_with("_seconds_count")) counts[x.name.substr(0, x.name.size() - 6)] = x.value;
    }
    BOOST_TEST(buckets.size() == stats::histogram_count);
    for (const auto& [family, values] : buckets) {
        BOOST_TEST_CONTEXT(family)
        {
            BOOST_TEST(values.size() == 17u);
            for (std::size_t i = 1; i < values.size(); ++i) BOOST_TEST(values[i] >= values[i - 1]);
            BOOST_TEST(values.back() == counts[family]);
        }
    }
    const auto& ping = buckets["wsload_ping_round_trip_seconds"];
    BOOST_TEST(ping.back() == double(recorded));
    BOOST_TEST(ping.front() > 0);             // some below 100 us
    BOOST_TEST(ping[15] < ping.back());       // some above 10 s
    for (std::size_t i = 1; i < 16; ++i) BOOST_TEST(ping[i] > ping[i - 1]);  // every bound gains
}

BOOST_AUTO_TEST_CASE(escaping_per_the_format)
{
    std::string label, help;
    report::detail::append_label_value(label, "a\\b \"c\"\nd\te");
    report::detail::append_help(help, "a\\b \"c\"\nd");
    BOOST_TEST(label == "a\\\\b \\\"c\\\"\\nd\te");
    BOOST_TEST(help == "a\\\\b \"c\"\\nd");  // quotes stay in HELP
}

BOOST_AUTO_TEST_SUITE_END()

namespace {

const char* const good_addresses[] = {"127.0.0.1:9464", "[::1]:0", "localhost:65535", "0.0.0.0:1"};
const char* const bad_addresses[] = {"",  "9464", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536",
                                     "127.0.0.1:x", "::1:9464", ":9464", "127.0.0.1:-1", "[::1:80"};

}  // namespace

BOOST_AUTO_TEST_SUITE(metrics_listen_address)

BOOST_DATA_TEST_CASE(accepted, boost::unit_test::data::make(good_addresses), text)
{
    const auto a = report::listen_address::parse(text);
    BOOST_TEST(a.to_string() == text);
}

BOOST_DATA_TEST_CASE(refused_with_one_line, boost::unit_test::data::make(bad_addresses), text)
{
    BOOST_CHECK_EXCEPTION(report::listen_address::parse(text), wsload::usage_error, [&](const auto& e) {
        return std::string(e.what()) == "--metrics-listen: " + wsload::detail::quoted(text) +
                                            " is not HOST:PORT (use 127.0.0.1:9464; port 0 picks a free port)";
    });
}

BOOST_AUTO_TEST_SUITE_END()

namespace {

struct reply {
    unsigned status = 0;
    std::string content_type, allow, body;
    bool keep_alive = false;
};

http::request<http::string_body> make_request(http::verb verb, std::string target)
{
    http::request<http::string_body> r{verb, target, 11};
    r.set(http::field::host, "127.0.0.1");
    r.prepare_payload();
    return r;
}

/// Runs `body` on a fresh io_context for at most 5 s; fails the test if it did not finish.
template <class Body>
void run_bounded(Body body)
{
    asio::io_context ioc;
    std::exception_ptr error;
    bool done = false;
    asio::co_spawn(ioc, std::move(body), [&](std::exception_ptr e) {
        error = e;
        done = true;
    });
    ioc.run_for(5s);
    BOOST_TEST_REQUIRE(done, "the client finished within 5 s");
    if (error) std::rethrow_exception(error);
}

/// Sends `requests` one after another on one connection and reads each reply.
std::vector<reply> exchange(std::uint16_t port, std::vector<http::request<http::string_body>> requests)
{
    std::vector<reply> replies;
    run_bounded([&]() -> asio::awaitable<void> {
        boost::beast::tcp_stream stream(co_await asio::this_coro::executor);
        const tcp::endpoint to(asio::ip::make_address("127.0.0.1"), port);
        co_await stream.async_connect(to, asio::use_awaitable);
        boost::beast::flat_buffer buffer;
        for (auto& request : requests) {
            co_await http::async_write(stream, request, asio::use_awaitable);
            http::response<http::string_body> response;
            co_await http::async_read(stream, buffer, response, asio::use_awaitable);
            reply r;
            r.status = response.result_int();
            r.content_type = std::string(response[http::field::content_type]);
            r.allow = std::string(response[http::field::allow]);
            r.body = response.body();
            r.keep_alive = response.keep_alive();
            replies.push_back(std::move(r));
        }
    });
    return replies;
}

long long whole_ms(std::chrono::nanoseconds d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); }

reply get(std::uint16_t port, std::string target = "/metrics")
{
    return exchange(port, {make_request(http::verb::get, std::move(target))}).at(0);
}

/// Connects, writes `raw` (maybe nothing), then reads until the server closes: what came back
/// and how long the server took to close.
std::pair<std::string, std::chrono::nanoseconds> until_closed(std::uint16_t port, std::string raw)
{
    std::string received;
    std::chrono::nanoseconds took{};
    run_bounded([&]() -> asio::awaitable<void> {
        tcp::socket socket(co_await asio::this_coro::executor);
        co_await socket.async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), asio::use_awaitable);
        const auto start = std::chrono::steady_clock::now();
        if (!raw.empty()) co_await asio::async_write(socket, asio::buffer(raw), asio::use_awaitable);
        auto [ec, n] = co_await asio::async_read(socket, asio::dynamic_buffer(received),
                                                 asio::as_tuple(asio::use_awaitable));
        took = std::chrono::steady_clock::now() - start;
        BOOST_TEST((ec == asio::error::eof || ec == asio::error::connection_reset), ec.message());
    });
    return {received, took};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(metrics_endpoint)

BOOST_AUTO_TEST_CASE(get_metrics_answers_with_the_rendered_text)
{
    std::atomic<int> renders{0};
    report::metrics_endpoint endpoint("127.0.0.1:0", [&] { return "m " + std::to_string(++renders) + "\n"; });
    BOOST_TEST_REQUIRE(endpoint.port() != 0);
    BOOST_TEST(endpoint.url() == "http://127.0.0.1:" + std::to_string(endpoint.port()) + "/metrics");
    const auto r = get(endpoint.port());
    BOOST_TEST(r.status == 200u);
    BOOST_TEST(r.content_type == "text/plain; version=0.0.4; charset=utf-8");
    BOOST_TEST(r.body == "m 1\n");
    BOOST_TEST(get(endpoint.port(), "/metrics?name[]=x").body == "m 2\n");  // a query is ignored
}

BOOST_AUTO_TEST_CASE(other_paths_404_other_methods_405_and_a_throwing_render_500)
{
    report::metrics_endpoint endpoint("127.0.0.1:0", [] { return std::string("m 1\n"); });
    const auto replies = exchange(endpoint.port(), {make_request(http::verb::get, "/"),
                                                    make_request(http::verb::get, "/metrics/x"),
                                                    make_request(http::verb::post, "/metrics"),
                                                    make_request(http::verb::head, "/metrics"),
                                                    make_request(http::verb::get, "/metrics")});
    BOOST_TEST_REQUIRE(replies.size() == 5u);
    BOOST_TEST(replies[0].status == 404u);
    BOOST_TEST(replies[1].status == 404u);
    BOOST_TEST(replies[2].status == 405u);
    BOOST_TEST(replies[2].allow == "GET");
    BOOST_TEST(replies[3].status == 405u);
    BOOST_TEST(replies[4].status == 200u);  // the connection stayed usable throughout

    report::metrics_endpoint failing("127.0.0.1:0", []() -> std::string { throw std::runtime_error("boom"); });
    const auto r = get(failing.port());
    BOOST_TEST(r.status == 500u);
    BOOST_TEST(r.body == "cannot render the metrics: boom\n");
}

BOOST_AUTO_TEST_CASE(many_scrapes_on_one_connection_and_on_many)
{
    std::atomic<int> renders{0};
    report::metrics_endpoint endpoint("127.0.0.1:0", [&] {
        ++renders;
        return std::string(20'000, 'x');  // larger than one socket write
    });
    std::vector<http::request<http::string_body>> requests(200, make_request(http::verb::get, "/metrics"));
    const auto replies = exchange(endpoint.port(), requests);
    BOOST_TEST_REQUIRE(replies.size() == 200u);
    for (const auto& r : replies) BOOST_TEST_REQUIRE((r.status == 200u && r.body.size() == 20'000u && r.keep_alive));
    for (int i = 0; i < 50; ++i) BOOST_TEST_REQUIRE(get(endpoint.port()).status == 200u);
    BOOST_TEST(renders.load() == 250);
}

BOOST_AUTO_TEST_CASE(routes_answer_their_paths_besides_the_metrics)
{
    std::vector<report::http_route> routes;
    routes.push_back({"GET", "/control", [](const report::http_call&) { return report::http_answer{200, "application/json", "{}"}; }});
    routes.push_back({"POST", "/control/users", [](const report::http_call& c) {
                          return report::http_answer{c.query == "target=1" ? 200u : 400u, "text/plain",
                                                     std::string(c.method) + " " + std::string(c.path) + " " + std::string(c.query)};
                      }});
    routes.push_back({"POST", "/boom", [](const report::http_call&) -> report::http_answer { throw std::runtime_error("no"); }});
    report::metrics_endpoint endpoint("127.0.0.1:0", [] { return std::string("m 1\n"); }, std::move(routes));
    const auto replies = exchange(endpoint.port(), {make_request(http::verb::get, "/control"),
                                                    make_request(http::verb::post, "/control/users?target=1"),
                                                    make_request(http::verb::post, "/control/users?target=x"),
                                                    make_request(http::verb::get, "/control/users"),
                                                    make_request(http::verb::post, "/control/other"),
                                                    make_request(http::verb::post, "/boom"),
                                                    make_request(http::verb::get, "/metrics")});
    BOOST_TEST_REQUIRE(replies.size() == 7u);
    BOOST_TEST(replies[0].status == 200u);
    BOOST_TEST(replies[0].content_type == "application/json");
    BOOST_TEST(replies[0].body == "{}");
    BOOST_TEST(replies[1].status == 200u);
    BOOST_TEST(replies[1].body == "POST /control/users target=1");
    BOOST_TEST(replies[2].status == 400u);
    BOOST_TEST(replies[3].status == 405u);
    BOOST_TEST(replies[3].allow == "POST");
    BOOST_TEST(replies[4].status == 404u);
    BOOST_TEST(replies[5].status == 500u);
    BOOST_TEST(replies[5].body == "cannot answer: no\n");
    BOOST_TEST(replies[6].status == 200u);  // the metrics as before, on the same connection
    BOOST_TEST(replies[6].body == "m 1\n");
}

BOOST_AUTO_TEST_CASE(idle_and_oversized_clients_are_closed)
{
    report::metrics_endpoint_limits limits;
    limits.idle_timeout = 200ms;
    limits.max_request_bytes = 1024;
    report::metrics_endpoint endpoint("127.0.0.1:0", [] { return std::string("m 1\n"); }, limits);

    const auto [nothing, idle_for] = until_closed(endpoint.port(), "");
    BOOST_TEST(nothing.empty());
    BOOST_TEST(whole_ms(idle_for) >= 150);
    BOOST_TEST(whole_ms(idle_for) < 2000);

    // Half a request, then silence: closed by the same bound.
    const auto [half, half_for] = until_closed(endpoint.port(), "GET /metrics HTTP/1.1\r\nHost: x\r\n");
    BOOST_TEST(half.empty());
    BOOST_TEST(whole_ms(half_for) < 2000);

    // A header over the limit: closed without an answer, long before the idle bound matters.
    const auto big = "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Pad: " + std::string(4096, 'p') + "\r\n\r\n";
    const auto [refused, refused_for] = until_closed(endpoint.port(), big);
    BOOST_TEST(refused.find("200 OK") == std::string::npos);
    BOOST_TEST(whole_ms(refused_for) < 150);

    // Connection: close is honoured.
    auto request = make_request(http::verb::get, "/metrics");
    request.keep_alive(false);
    std::ostringstream raw;
    raw << request;
    const auto [answered, answered_for] = until_closed(endpoint.port(), raw.str());
    BOOST_TEST(answered.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
    BOOST_TEST(whole_ms(answered_for) < 150);
}

BOOST_AUTO_TEST_CASE(a_busy_port_or_a_bad_address_is_a_usage_error)
{
    report::metrics_endpoint first("127.0.0.1:0", [] { return std::string(); });
    const auto taken = "127.0.0.1:" + std::to_string(first.port());
    BOOST_CHECK_EXCEPTION(report::metrics_endpoint(taken, [] { return std::string(); }), wsload::usage_error,
                          [&](const auto& e) {
                              return std::string(e.what()) ==
                                     "--metrics-listen: cannot listen on " + taken + " (Address already in use)";
                          });
    BOOST_CHECK_THROW(report::metrics_endpoint("nonsense", [] { return std::string(); }), wsload::usage_error);
    BOOST_CHECK_THROW(report::metrics_endpoint("no-such-host.invalid:0", [] { return std::string(); }),
                      wsload::usage_error);
}

BOOST_AUTO_TEST_CASE(destruction_closes_clients_and_frees_the_port_at_once)
{
    auto endpoint = std::make_unique<report::metrics_endpoint>("127.0.0.1:0", [] { return std::string("m 1\n"); });
    const auto port = endpoint->port();
    asio::io_context ioc;
    tcp::socket idle(ioc);
    idle.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    BOOST_TEST(get(port).status == 200u);  // accepted after `idle`, so `idle` is being served
    const auto start = std::chrono::steady_clock::now();
    endpoint.reset();
    BOOST_TEST(whole_ms(std::chrono::steady_clock::now() - start) < 1000);
    std::string received;
    boost::system::error_code ec;
    bool closed = false;
    asio::async_read(idle, asio::dynamic_buffer(received), [&](boost::system::error_code e, std::size_t) {
        ec = e;
        closed = true;
    });
    ioc.run_for(2s);
    BOOST_TEST_REQUIRE(closed, "the server side is gone: EOF at once");
    BOOST_TEST((ec == asio::error::eof || ec == asio::error::connection_reset), ec.message());
    report::metrics_endpoint again("127.0.0.1:" + std::to_string(port), [] { return std::string(); });
    BOOST_TEST(again.port() == port);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(prometheus_sink)

BOOST_AUTO_TEST_CASE(serves_the_live_figures_then_the_final_ones)
{
    auto config = scrape_config();
    config.name = "sink";
    config.threads = 1;
    config.users = 7;
    config.metrics_listen = "127.0.0.1:0";
    wsload::runtime::engine engine(config, [](wsload::user&) -> wsload::task<> { co_return; });
    report::prometheus_sink sink(config.metrics_listen);
    sink.start(engine, wsload::describe(config));
    BOOST_TEST_REQUIRE(sink.endpoint() != nullptr);
    const auto port = sink.endpoint()->port();

    const auto live = get(port);
    BOOST_TEST(live.status == 200u);
    BOOST_TEST(live.body.find("wsload_users_target 7\n") != std::string::npos);
    BOOST_TEST(live.body.find("wsload_elapsed_seconds 0\n") != std::string::npos);  // not started
    BOOST_TEST(live.body.find("wsload_messages_sent_total 0\n") != std::string::npos);

    wsload::stats::run_result result;
    result.totals = scrape_totals();
    result.elapsed = 3s;
    BOOST_TEST(sink.finish(wsload::describe(config), result, report::outcome{}));
    const auto final_figures = get(port);
    BOOST_TEST(final_figures.body == report::prometheus_text(*result.totals, 3s, wsload::describe(config)));
    BOOST_TEST(final_figures.body.find("wsload_messages_sent_total 100\n") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_busy_port_fails_at_start_with_a_usage_error)
{
    report::metrics_endpoint holder("127.0.0.1:0", [] { return std::string(); });
    wsload::run_config config;
    config.threads = 1;
    config.metrics_listen = "127.0.0.1:" + std::to_string(holder.port());
    wsload::runtime::engine engine(config, [](wsload::user&) -> wsload::task<> { co_return; });
    const auto sinks = report::make_sinks({.metrics_listen = config.metrics_listen});
    BOOST_TEST_REQUIRE(sinks.size() == 1u);
    BOOST_CHECK_THROW(sinks[0]->start(engine, wsload::describe(config)), wsload::usage_error);
}

BOOST_AUTO_TEST_SUITE_END()
