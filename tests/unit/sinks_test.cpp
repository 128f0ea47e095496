#ifndef BOOST_TEST_DYN_LINK
#define BOOST_TEST_DYN_LINK
#endif
// The CSV and HTML sinks and the text report on a run built by hand: exact file contents for
// the CSV files, for the HTML page its charts (ids, point counts, drawn elements), escaping and
// offline-ness, and the text report's lines of failure classes and HTTP responses.
// Expected latencies follow from the histogram's layout (3 digits: 2 ms lands in a bucket
// 1,024 ns wide, so its P50 reads 2.001 ms; a percentile is capped at the max).
#include <support/report_text.hpp>
#include <wsload/report/console.hpp>
#include <wsload/report/csv.hpp>
#include <wsload/report/html.hpp>
#include <wsload/report/sinks.hpp>
#include <wsload/runtime/run_config.hpp>

#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>

namespace report = wsload::report;
namespace stats = wsload::stats;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

constexpr std::uint64_t one_ms = 1'000'000;

/// 11 attempts: 6 open, 5 fail (1 refused, http_status 403 x2, 503 x1, and one status past the
/// per-code range); 6 disconnects (normal x2, server_close 1011 and 4000, network, client_stop).
/// Connect 1 ms x3 and 3 ms x3, tcp 0.5 ms, upgrade 0.25 ms; 100 round trips (2 ms x90, 20 ms
/// x10), 2 timed out and 1 failed; 4 pings of 1 ms, 1 pong missed. 4 s, three rows of series.
/// `with_request_classes`: none timed out and 3 failed instead (closed x2, reset), and the 100
/// answers came over HTTP (200 x97, 204 x2, and one status past 599), all else the same.
wsload::stats::run_result known_run(bool with_request_classes = false)
{
    using stats::counter_id;
    using stats::histogram_id;
    auto s = std::make_unique<stats::shard>();
    (*s)[counter_id::connect_attempts].add(11);
    (*s)[counter_id::connect_successes].add(6);
    s->count_failure(stats::connect_failure::refused);
    s->count_failure(stats::connect_failure::http_status, 403);
    s->count_failure(stats::connect_failure::http_status, 403);
    s->count_failure(stats::connect_failure::http_status, 503);
    s->count_failure(stats::connect_failure::http_status, 999);  // past http_status_limit: class only
    s->count_disconnect(stats::disconnect_reason::normal);
    s->count_disconnect(stats::disconnect_reason::normal);
    s->count_disconnect(stats::disconnect_reason::server_close, 1011);
    s->count_disconnect(stats::disconnect_reason::server_close, 4000);
    s->count_disconnect(stats::disconnect_reason::network);
    s->count_disconnect(stats::disconnect_reason::client_stop);
    (*s)[histogram_id::connect].record(1 * one_ms, 3);
    (*s)[histogram_id::connect].record(3 * one_ms, 3);
    (*s)[histogram_id::connect_tcp].record(one_ms / 2, 6);
    (*s)[histogram_id::connect_upgrade].record(one_ms / 4, 6);
    (*s)[histogram_id::round_trip].record(2 * one_ms, 90);
    (*s)[histogram_id::round_trip].record(20 * one_ms, 10);
    (*s)[counter_id::requests_sent].add(103);
    (*s)[counter_id::requests_answered].add(100);
    if (with_request_classes) {
        s->count_request_failure(stats::request_failure::closed);
        s->count_request_failure(stats::request_failure::closed);
        s->count_request_failure(stats::request_failure::reset);
        for (int i = 0; i < 97; ++i) s->count_http_response(200);
        s->count_http_response(204);
        s->count_http_response(204);
        s->count_http_response(999);
    } else {
        (*s)[counter_id::requests_timed_out].add(2);
        (*s)[counter_id::requests_failed].add(1);
    }
    (*s)[counter_id::messages_sent].add(103);
    (*s)[counter_id::messages_received].add(100);
    (*s)[histogram_id::ping_round_trip].record(1 * one_ms, 4);
    (*s)[counter_id::pings_sent].add(5);
    (*s)[counter_id::pongs_received].add(4);
    (*s)[counter_id::pongs_missed].add(1);

    wsload::stats::run_result r;
    const stats::shard* shards[] = {s.get()};
    r.totals = stats::collect<stats::totals>(shards);
    r.elapsed = 4s;
    r.started_at = std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000));
    r.series = {
        {1, 4, 4, 2, 0, 40, 38, 2560, 2432, 38, 2'000'895, 20'000'000},
        {2, 6, 2, 3, 0, 63, 62, 4032, 3968, 62, 2'000'895, 20'000'000},
        {3, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0},  // closing: no round trips, so no percentile
    };
    return r;
}

wsload::run_config known_config()
{
    wsload::run_config c;
    c.name = "chat <\"&'> test";
    c.target = wsload::net::url{"ws", "127.0.0.1", 9000, "/ws?room=<a>&b=1", false};
    c.users = 6;
    c.duration = 4s;
    return c;
}

/// A fresh directory under the system's temporary one, removed with the fixture.
struct temp_dir {
    fs::path path;
    temp_dir()
    {
        static int n = 0;
        path = fs::temp_directory_path() / ("wsload_sinks_test_" + std::to_string(::getpid()) + "_" + std::to_string(n++));
        fs::create_directories(path);
    }
    ~temp_dir()
    {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

std::string read_file(const fs::path& p)
{
    std::ifstream in(p, std::ios::binary);
    BOOST_REQUIRE_MESSAGE(in, "cannot read " << p);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// The <svg ...> element with this id, up to its </svg>; empty when absent.
std::string svg_element(const std::string& html, const std::string& id)
{
    const auto start = html.find("<svg id=\"" + id + "\"");
    if (start == std::string::npos) return {};
    const auto end = html.find("</svg>", start);
    return end == std::string::npos ? std::string() : html.substr(start, end + 6 - start);
}

/// The value of `name="..."` in the element's opening tag.
std::string attribute(const std::string& element, const std::string& name)
{
    const auto tag_end = element.find('>');
    const auto at = element.find(" " + name + "=\"");
    if (at == std::string::npos || at > tag_end) return {};
    const auto from = at + name.size() + 3;
    return element.substr(from, element.find('"', from) - from);
}

/// The text report of `r`, as print_report writes it.
std::string console_report(const wsload::stats::run_result& r)
{
    return wsload::test::report_text(wsload::describe(known_config()), r);
}

/// The lines of `text` from the one that starts with `first` up to (without) the one that
/// starts with `end`.
std::string lines_between(const std::string& text, const std::string& first, const std::string& end)
{
    const auto from = text.find("\n" + first);
    if (from == std::string::npos) return "(no line " + first + ")";
    const auto to = text.find("\n" + end, from + 1);
    return text.substr(from + 1, to == std::string::npos ? std::string::npos : to - from);
}

std::size_t occurrences(const std::string& text, const std::string& what)
{
    std::size_t n = 0;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + what.size())) ++n;
    return n;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(csv_sink)

BOOST_AUTO_TEST_CASE(stats_file_has_a_row_per_histogram_and_the_aggregate)
{
    temp_dir dir;
    const auto r = known_run();
    const auto prefix = (dir.path / "run").string();
    BOOST_REQUIRE(report::write_csv(prefix, wsload::describe(known_config()), r, report::judge(r, {})));
    BOOST_TEST(read_file(prefix + "_stats.csv") ==
               "Type,Name,Request Count,Failure Count,Median (ms),90% (ms),99% (ms),Average (ms),Min (ms),Max (ms),"
               "Requests/s\r\n"
               "CONNECT,connect,6,5,1.000,3.000,3.000,2.000,1.000,3.000,1.50\r\n"
               "CONNECT,connect tcp,6,0,0.500,0.500,0.500,0.500,0.500,0.500,1.50\r\n"
               "CONNECT,connect upgrade,6,0,0.250,0.250,0.250,0.250,0.250,0.250,1.50\r\n"
               "WS,round trip,100,3,2.001,2.001,20.000,3.800,2.000,20.000,25.00\r\n"
               "PING,ping,4,1,1.000,1.000,1.000,1.000,1.000,1.000,1.00\r\n"
               ",Aggregated,110,9,2.001,3.000,20.000,3.600,1.000,20.000,27.50\r\n");
}

BOOST_AUTO_TEST_CASE(history_file_has_the_json_columns_and_a_row_per_second)
{
    temp_dir dir;
    const auto r = known_run();
    const auto prefix = (dir.path / "run").string();
    BOOST_REQUIRE(report::write_csv(prefix, wsload::describe(known_config()), r, report::judge(r, {})));
    BOOST_TEST(read_file(prefix + "_stats_history.csv") ==
               "t,active,new_connections,connect_failures,disconnects,messages_sent,messages_received,bytes_sent,"
               "bytes_received,round_trips,round_trip_p50_ns,round_trip_p99_ns,late_sends,event_loop_lag_max_ns,"
               "busiest_worker_pct,generator_limited\r\n"
               "1,4,4,2,0,40,38,2560,2432,38,2000895,20000000,0,0,0,0\r\n"
               "2,6,2,3,0,63,62,4032,3968,62,2000895,20000000,0,0,0,0\r\n"
               "3,0,0,0,6,0,0,0,0,0,0,0,0,0,0,0\r\n");
}

BOOST_AUTO_TEST_CASE(failures_file_has_every_class_and_code_and_rows_sum_to_classes)
{
    temp_dir dir;
    const auto r = known_run();
    const auto prefix = (dir.path / "run").string();
    BOOST_REQUIRE(report::write_csv(prefix, wsload::describe(known_config()), r, report::judge(r, {})));
    BOOST_TEST(read_file(prefix + "_failures.csv") ==
               "Kind,Class,Code,Count\r\n"
               "connect,refused,,1\r\n"
               "connect,http_status,403,2\r\n"
               "connect,http_status,503,1\r\n"
               "connect,http_status,,1\r\n"  // the status past the per-code range
               "disconnect,normal,,2\r\n"
               "disconnect,server_close,1011,1\r\n"
               "disconnect,server_close,4000,1\r\n"
               "disconnect,network,,1\r\n"
               "disconnect,client_stop,,1\r\n");
}

BOOST_AUTO_TEST_CASE(failures_file_has_request_classes_and_http_responses_after_the_connection_rows)
{
    temp_dir dir;
    const auto r = known_run(true);
    const auto prefix = (dir.path / "run").string();
    BOOST_REQUIRE(report::write_csv(prefix, wsload::describe(known_config()), r, report::judge(r, {})));
    BOOST_TEST(read_file(prefix + "_failures.csv") ==
               "Kind,Class,Code,Count\r\n"
               "connect,refused,,1\r\n"
               "connect,http_status,403,2\r\n"
               "connect,http_status,503,1\r\n"
               "connect,http_status,,1\r\n"
               "disconnect,normal,,2\r\n"
               "disconnect,server_close,1011,1\r\n"
               "disconnect,server_close,4000,1\r\n"
               "disconnect,network,,1\r\n"
               "disconnect,client_stop,,1\r\n"
               "request,closed,,2\r\n"
               "request,reset,,1\r\n"
               "http_response,other,0,1\r\n"  // the status past 599
               "http_response,2xx,200,97\r\n"
               "http_response,2xx,204,2\r\n");
    // The request table does not move: 3 failed instead of 2 timed out and 1 failed.
    BOOST_TEST(read_file(prefix + "_stats.csv").find("WS,round trip,100,3,2.001,") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(an_empty_run_still_has_headers_and_the_aggregate_row)
{
    temp_dir dir;
    wsload::stats::run_result r;
    r.totals = std::make_unique<stats::totals>();
    const auto prefix = (dir.path / "empty").string();
    BOOST_REQUIRE(report::write_csv(prefix, wsload::stats::run_info{}, r, report::judge(r, {})));
    const auto stats_file = read_file(prefix + "_stats.csv");
    BOOST_TEST(stats_file.substr(stats_file.find("\r\n") + 2) == ",Aggregated,0,0,0.000,0.000,0.000,0.000,0.000,0.000,0.00\r\n");
    BOOST_TEST(read_file(prefix + "_failures.csv") == "Kind,Class,Code,Count\r\n");
    BOOST_TEST(occurrences(read_file(prefix + "_stats_history.csv"), "\r\n") == 1u);
}

BOOST_AUTO_TEST_CASE(an_unwritable_prefix_fails)
{
    const auto r = known_run();
    BOOST_TEST(!report::write_csv("/nonexistent-dir/wsload/run", wsload::describe(known_config()), r, report::judge(r, {})));
}

struct quoting_case {
    const char* field;
    const char* written;
};
std::ostream& operator<<(std::ostream& os, const quoting_case& c) { return os << c.field; }

const quoting_case quoting[] = {
    {"round trip", "round trip"},
    {"", ""},
    {"a,b", "\"a,b\""},
    {"say \"hi\"", "\"say \"\"hi\"\"\""},
    {"two\nlines", "\"two\nlines\""},
    {"cr\rhere", "\"cr\rhere\""},
    {" padded", "\" padded\""},
};

BOOST_DATA_TEST_CASE(fields_are_quoted_as_rfc_4180_says, boost::unit_test::data::make(quoting), c)
{
    BOOST_TEST(report::csv_field(c.field) == c.written);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(html_sink)

BOOST_AUTO_TEST_CASE(every_chart_is_drawn_with_as_many_points_as_the_series_has)
{
    const auto r = known_run();
    const auto html = report::html_report(wsload::describe(known_config()), r, report::judge(r, {}));
    struct expected {
        const char* id;
        const char* points;
        const char* series;
        std::size_t paths;
    };
    for (const auto& e : {expected{"chart-active", "3", "1", 1}, expected{"chart-connection-rates", "3", "3", 3},
                          expected{"chart-messages", "3", "2", 2},
                          expected{"chart-round-trip", "2", "2", 2}}) {  // second 3 had no round trip
        const auto svg = svg_element(html, e.id);
        BOOST_TEST_CONTEXT(e.id)
        {
            BOOST_REQUIRE(!svg.empty());
            BOOST_TEST(attribute(svg, "data-points") == e.points);
            BOOST_TEST(attribute(svg, "data-series") == e.series);
            BOOST_TEST(occurrences(svg, "<path class=\"series\"") == e.paths);
            BOOST_TEST(occurrences(svg, "data-points=\"" + std::string(e.points) + "\" d=\"M") == e.paths);
            BOOST_TEST(occurrences(svg, "class=\"axis-label\"") == 2u);
            BOOST_TEST(svg.find(">time (s)</text>") != std::string::npos);
            BOOST_TEST(svg.find(">0.5</text>") == std::string::npos);  // rows are whole seconds
        }
    }
    // Seconds 1 and 2 only: the empty third second is a gap, not a fall to zero.
    BOOST_TEST(occurrences(svg_element(html, "chart-round-trip"), "<circle") == 4u);
    BOOST_TEST(svg_element(html, "chart-round-trip").find(">round trip (ms)</text>") != std::string::npos);

    // 2 ms and 20 ms fall in two log bins; 1 ms and 3 ms in two others.
    for (const auto* id : {"chart-rtt-distribution", "chart-connect-distribution"}) {
        const auto svg = svg_element(html, id);
        BOOST_TEST_CONTEXT(id)
        {
            BOOST_REQUIRE(!svg.empty());
            BOOST_TEST(attribute(svg, "data-points") == "2");
            BOOST_TEST(occurrences(svg, "<rect class=\"bar\"") == 2u);
            BOOST_TEST(occurrences(svg, "class=\"marker\"") == 2u);  // P50 and P99
            BOOST_TEST(svg.find("(ms, log scale)</text>") != std::string::npos);
        }
    }
    BOOST_TEST(svg_element(html, "chart-rtt-distribution").find("90 (90.00%)") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(an_empty_series_draws_a_frame_with_no_points)
{
    wsload::stats::run_result r;
    r.totals = std::make_unique<stats::totals>();
    const auto html = report::html_report(wsload::stats::run_info{}, r, report::judge(r, {}));
    for (const auto* id : {"chart-active", "chart-connection-rates", "chart-messages", "chart-round-trip",
                           "chart-rtt-distribution", "chart-connect-distribution"}) {
        const auto svg = svg_element(html, id);
        BOOST_TEST_CONTEXT(id)
        {
            BOOST_REQUIRE(!svg.empty());
            BOOST_TEST(attribute(svg, "data-points") == "0");
            BOOST_TEST(occurrences(svg, "<path") + occurrences(svg, "class=\"bar\"") == 0u);
            BOOST_TEST(svg.find(">no data</text>") != std::string::npos);
        }
    }
}

BOOST_AUTO_TEST_CASE(names_targets_and_thresholds_are_escaped)
{
    const auto r = known_run();
    const std::vector rules{report::parse_threshold("connect.p99 < 1ms")};
    const auto html = report::html_report(wsload::describe(known_config()), r, report::judge(r, rules));
    BOOST_TEST(html.find("<title>wsload report: chat &lt;&quot;&amp;&#39;&gt; test</title>") != std::string::npos);
    BOOST_TEST(html.find("<span id=\"scenario\">chat &lt;&quot;&amp;&#39;&gt; test</span>") != std::string::npos);
    BOOST_TEST(html.find("ws://127.0.0.1:9000/ws?room=&lt;a&gt;&amp;b=1") != std::string::npos);
    BOOST_TEST(html.find("<\"&'>") == std::string::npos);
    BOOST_TEST(html.find("<a>") == std::string::npos);
    BOOST_TEST(html.find("<code>connect.p99 &lt; 1ms</code>") != std::string::npos);
    BOOST_TEST(html.find("class=\"verdict fail\">THRESHOLDS FAILED</div> exit status 1") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(the_tables_show_the_text_reports_figures)
{
    const auto r = known_run();
    const auto html = report::html_report(wsload::describe(known_config()), r, report::judge(r, {}));
    BOOST_TEST(html.find("class=\"verdict neutral\">COMPLETED (no thresholds set)") != std::string::npos);
    BOOST_TEST(html.find("<td class=\"sub\">HTTP 403</td><td>2</td>") != std::string::npos);
    BOOST_TEST(html.find("<td class=\"sub\">code 1011</td><td>1</td>") != std::string::npos);
    BOOST_TEST(html.find("<td>success rate</td><td>54.55 %</td>") != std::string::npos);
    BOOST_TEST(html.find("<tr><td>total</td><td>6</td><td>1.000</td><td>1.000</td><td>3.000</td>") != std::string::npos);
    BOOST_TEST(html.find("<tr><td>rtt</td><td>100</td><td>2.000</td><td>2.001</td>") != std::string::npos);
    BOOST_TEST(html.find("<tr><td>Aggregated</td><td>110</td><td>9</td><td>2.001</td>") != std::string::npos);
    BOOST_TEST(html.find("<td>pong rate</td><td>80.00 %</td>") != std::string::npos);
    BOOST_TEST(html.find("2023-11-14 22:13:20 UTC") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(the_messages_table_shows_request_classes_and_http_responses_when_there_are_any)
{
    const auto ws = known_run();
    const auto ws_only = report::html_report(wsload::describe(known_config()), ws, report::judge(ws, {}));
    BOOST_TEST(ws_only.find("<td>requests</td><td>103 sent, 100 answered, 0 rejected, 2 timed out, 1 failed</td></tr>"
                            "</table>") != std::string::npos);
    BOOST_TEST(ws_only.find("HTTP responses") == std::string::npos);

    const auto r = known_run(true);
    const auto html = report::html_report(wsload::describe(known_config()), r, report::judge(r, {}));
    BOOST_TEST(html.find("<td>requests</td><td>103 sent, 100 answered, 0 rejected, 0 timed out, 3 failed</td></tr>"
                         "<tr><td class=\"sub\">failed closed</td><td>2</td></tr>"
                         "<tr><td class=\"sub\">failed reset</td><td>1</td></tr>"
                         "<tr><td>HTTP responses</td><td>100</td></tr>"
                         "<tr><td class=\"sub\">HTTP 200</td><td>97</td></tr>"
                         "<tr><td class=\"sub\">HTTP 204</td><td>2</td></tr>"
                         "<tr><td class=\"sub\">HTTP other</td><td>1</td></tr></table>") != std::string::npos);
    // The upgrade statuses stay in the connections table, apart from the responses.
    BOOST_TEST(html.find("<td class=\"sub\">HTTP 403</td><td>2</td>") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(the_page_needs_nothing_from_outside)
{
    const auto r = known_run();
    const auto html = report::html_report(wsload::describe(known_config()), r, report::judge(r, {}));
    BOOST_TEST(html.rfind("<!DOCTYPE html>", 0) == 0u);
    for (const auto* outside : {"<script", "<link", " src=", "@import", "url("})
        BOOST_TEST(html.find(outside) == std::string::npos, outside);
    // The only absolute URL is the SVG namespace, which names and never loads.
    BOOST_TEST(occurrences(html, "http://") == occurrences(html, "xmlns=\"http://www.w3.org/2000/svg\""));
    BOOST_TEST(occurrences(html, "https://") == 0u);
}

BOOST_AUTO_TEST_CASE(an_unwritable_path_fails)
{
    const auto r = known_run();
    BOOST_TEST(!report::write_html("/nonexistent-dir/wsload/report.html", wsload::describe(known_config()), r, report::judge(r, {})));
}

BOOST_AUTO_TEST_CASE(the_flags_choose_the_sinks_and_they_write_their_files)
{
    temp_dir dir;
    auto config = known_config();
    config.csv_prefix = (dir.path / "run").string();
    config.html_file = (dir.path / "report.html").string();
    const auto sinks = report::make_sinks({.csv_prefix = config.csv_prefix, .html_file = config.html_file});
    BOOST_REQUIRE(sinks.size() == 2u);
    const auto r = known_run();
    for (const auto& s : sinks) BOOST_TEST(s->finish(wsload::describe(config), r, report::judge(r, {})));
    for (const auto* f : {"run_stats.csv", "run_stats_history.csv", "run_failures.csv", "report.html"})
        BOOST_TEST(fs::file_size(dir.path / f) > 0u, f);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(text_report)

BOOST_AUTO_TEST_CASE(a_websocket_run_shows_no_request_classes_or_http_lines)
{
    const auto text = console_report(known_run());
    BOOST_TEST(lines_between(text, "--- Messages ---", "round trip (ms)") ==
               "--- Messages ---\n"
               "sent:                  103\n"
               "received:              100\n"
               "rate:                  25.8/s sent, 25.0/s received\n"
               "requests:              103 sent, 100 answered, 0 rejected, 2 timed out, 1 failed\n");
    BOOST_TEST(text.find("HTTP responses") == std::string::npos);
    BOOST_TEST(text.find("  failed ") == std::string::npos);
    BOOST_TEST(lines_between(text, "failed:", "success rate:") ==
               "failed:                5\n"
               "  refused              1\n"
               "  http_status          4\n"
               "    HTTP 403           2\n"
               "    HTTP 503           1\n");
}

BOOST_AUTO_TEST_CASE(failed_requests_by_class_and_http_responses_per_code_follow_the_requests_line)
{
    const auto text = console_report(known_run(true));
    BOOST_TEST(lines_between(text, "requests:", "round trip (ms)") ==
               "requests:              103 sent, 100 answered, 0 rejected, 0 timed out, 3 failed\n"
               "  failed closed        2\n"
               "  failed reset         1\n"
               "HTTP responses:        200 x 97  204 x 2  other x 1\n");
}

BOOST_AUTO_TEST_CASE(many_http_codes_wrap_under_the_first)
{
    auto s = std::make_unique<stats::shard>();
    (*s)[stats::counter_id::requests_sent].add(1);
    for (unsigned code = 200; code < 212; ++code) s->count_http_response(code);
    for (int i = 0; i < 1000; ++i) s->count_http_response(503);
    wsload::stats::run_result r;
    const stats::shard* shards[] = {s.get()};
    r.totals = stats::collect<stats::totals>(shards);
    r.elapsed = 1s;
    const auto text = console_report(r);
    // No messages (HTTP only): the requests get a heading of their own.
    BOOST_TEST(text.find("--- Messages ---") == std::string::npos);
    BOOST_TEST(lines_between(text, "--- Requests ---", "round trip (ms)") ==
               "--- Requests ---\n"
               "requests:              1 sent, 0 answered, 0 rejected, 0 timed out, 0 failed\n"
               "HTTP responses:        200 x 1  201 x 1  202 x 1  203 x 1  204 x 1  205 x 1  206 x 1  207 x 1\n"
               "                       208 x 1  209 x 1  210 x 1  211 x 1  503 x 1000\n");
}

BOOST_AUTO_TEST_SUITE_END()
