// End to end, seed 004: the real upload_bench against the real upload_server on 127.0.0.1 over
// HTTP. Students log in and upload generated videos in sequence; the server's own verdict (its
// stop line: uploads, bytes, gaps, duplicates) is checked against the bench's figures read back
// from --json, exactly; a run that skips a sequence number on purpose makes the server report
// the gap.

#include <support/child_process.hpp>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using wsload::test::child_process;
using wsload::test::server_process;
using wsload::test::temp_dir;

namespace {

struct upload_run {
    int status = -1;
    std::string out, err;
    boost::json::object result;

    std::uint64_t counter(std::string_view name) const
    {
        return result.at("counters").as_object().at(name).to_number<std::uint64_t>();
    }
    std::uint64_t named(std::string_view type, std::string_view name, std::string_view field) const
    {
        for (const auto& r : result.at("requests").as_array()) {
            const auto& o = r.as_object();
            if (o.at("type").as_string() == type && o.at("name").as_string() == name)
                return o.at(field).to_number<std::uint64_t>();
        }
        return 0;
    }
    std::uint64_t responses(unsigned status) const
    {
        const auto& codes = result.at("request_totals").as_object().at("http_responses").as_object();
        const auto* n = codes.if_contains(std::to_string(status));
        return n ? n->to_number<std::uint64_t>() : 0;
    }
};

upload_run upload_bench(const server_process& server, std::vector<std::string> args, bool with_result = true)
{
    temp_dir dir;
    const auto json = dir.path() / "result.json";
    args.insert(args.begin(), {WSLOAD_UPLOAD_BENCH, "--target", "http://127.0.0.1:" + std::to_string(server.port()),
                               "--quiet", "--json", json.string()});
    child_process bench(args);
    upload_run r;
    const auto status = bench.wait_for_exit(90s);
    BOOST_REQUIRE_MESSAGE(status.has_value(), "upload_bench did not finish in time");
    r.status = *status;
    r.out = bench.stdout_text();
    r.err = bench.stderr_text();
    std::ifstream in(json);
    if (!with_result) return r;
    BOOST_REQUIRE_MESSAGE(in, "upload_bench wrote no result file: " + r.err);
    std::stringstream text;
    text << in.rdbuf();
    r.result = boost::json::parse(text.str()).as_object();
    return r;
}

/// A count from the server's stop line: "upload_server: 20 logins, 60 uploads, ... 0 gaps, ...".
std::uint64_t upload_server_count(const std::string& line, std::string_view what)
{
    const auto at = line.find(" " + std::string(what));
    BOOST_REQUIRE_MESSAGE(at != std::string::npos, "no \"" + std::string(what) + "\" in: " + line);
    const auto start = line.rfind(' ', at - 1);
    return std::stoull(line.substr(start + 1, at - start - 1));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(upload_example)

// 12 students, 3 uploads each of 0.5-1.5 MB, 300 ms apart: every upload arrives once, in order.
BOOST_AUTO_TEST_CASE(every_student_uploads_in_sequence_and_the_server_sees_no_gap, *boost::unit_test::timeout(90))
{
    constexpr std::uint64_t students = 12, uploads = 3;
    server_process server(WSLOAD_UPLOAD_SERVER);
    const auto r = upload_bench(server, {"--users", std::to_string(students), "--uploads", std::to_string(uploads),
                                         "--period", "300ms", "--min-mb", "0.5", "--max-mb", "1.5", "--duration",
                                         "60s", "--ramp", "200ms"});
    BOOST_TEST(r.status == 0, r.out + r.err);
    BOOST_TEST(r.named("POST", "login", "answered") == students);
    BOOST_TEST(r.named("POST", "upload", "answered") == students * uploads);
    BOOST_TEST(r.named("POST", "upload", "failed") == 0u);
    BOOST_TEST(r.counter("requests_sent") == students * (1 + uploads));
    BOOST_TEST(r.counter("requests_answered") == students * (1 + uploads));
    BOOST_TEST(r.responses(200) == students);
    BOOST_TEST(r.responses(201) == students * uploads);
    // One keep-alive connection per student for its login and every upload.
    const auto& conns = r.result.at("connections").as_object();
    BOOST_TEST(conns.at("attempted").to_number<std::uint64_t>() == students);
    BOOST_TEST(conns.at("disconnects").as_object().at("client_close").to_number<std::uint64_t>() == students);
    // Every upload timed, and the bytes the server counted are the file parts the bench sent
    // (upload_bytes also holds the multipart boundaries and part headers: a few hundred bytes each).
    BOOST_TEST(r.result.at("latency_ms").as_object().at("upload").as_object().at("count").to_number<std::uint64_t>() ==
               students * uploads);
    const auto sent = r.counter("upload_bytes");
    BOOST_TEST(r.out.find("===== Upload test (seed 004) =====") != std::string::npos, r.out);
    BOOST_TEST(r.out.find("uploads:               36 done, 0 failed") != std::string::npos, r.out);

    BOOST_REQUIRE(server.stop() == 0);
    const auto& line = server.process().stderr_text();
    BOOST_TEST(upload_server_count(line, "logins") == students);
    BOOST_TEST(upload_server_count(line, "uploads") == students * uploads);
    BOOST_TEST(upload_server_count(line, "students") == students);
    BOOST_TEST(upload_server_count(line, "gaps") == 0u);
    BOOST_TEST(upload_server_count(line, "duplicates") == 0u);
    BOOST_TEST(upload_server_count(line, "rejected") == 0u);
    const auto bytes = upload_server_count(line, "bytes");
    BOOST_TEST(bytes >= students * uploads * 500'000);
    BOOST_TEST(bytes <= students * uploads * 1'500'000);
    BOOST_TEST(sent > bytes);
    BOOST_TEST(sent - bytes < students * uploads * 1'000);
}

// Every student skips seq 2 (--skip-seq), and the students are test_00101..: the server reports
// one gap per student, and the ids of the offset range (the seed's WORKER_OFFSET).
BOOST_AUTO_TEST_CASE(a_skipped_sequence_number_is_reported_as_a_gap, *boost::unit_test::timeout(90))
{
    constexpr std::uint64_t students = 4;
    server_process server(WSLOAD_UPLOAD_SERVER);
    const auto r = upload_bench(server, {"--users", std::to_string(students), "--uploads", "2", "--skip-seq", "2",
                                         "--student-offset", "100", "--period", "100ms", "--min-mb", "0.1",
                                         "--max-mb", "0.2", "--duration", "60s"});
    BOOST_TEST(r.status == 0, r.out + r.err);
    BOOST_TEST(r.named("POST", "upload", "answered") == students * 2);
    BOOST_TEST(r.out.find("students:              4 (test_00101 .. test_00104)") != std::string::npos, r.out);

    child_process stats({"/usr/bin/curl", "-s", "http://127.0.0.1:" + std::to_string(server.port()) + "/stats"});
    BOOST_REQUIRE(stats.wait_for_exit(10s) == 0);
    const auto s = boost::json::parse(stats.stdout_text()).as_object();
    BOOST_TEST(s.at("gaps").to_number<std::uint64_t>() == students);
    BOOST_TEST(s.at("duplicates").to_number<std::uint64_t>() == 0u);
    const auto& gaps = s.at("gap_list").as_array();
    BOOST_REQUIRE(gaps.size() == students);
    for (const auto& g : gaps) {
        const auto& o = g.as_object();
        const std::string id(o.at("student_id").as_string());
        BOOST_TEST((id >= "test_00101" && id <= "test_00104"), id);
        BOOST_TEST(o.at("missing_from").to_number<std::uint64_t>() == 2u);
        BOOST_TEST(o.at("missing_to").to_number<std::uint64_t>() == 2u);
    }
    BOOST_REQUIRE(server.stop() == 0);
    BOOST_TEST(upload_server_count(server.process().stderr_text(), "gaps") == students);
}

// WORKER_OFFSET that is not a number, and sizes the wrong way round: one line, exit status 2.
BOOST_AUTO_TEST_CASE(bad_settings_are_one_line_usage_errors, *boost::unit_test::timeout(60))
{
    server_process server(WSLOAD_UPLOAD_SERVER);
    const auto r = upload_bench(server, {"--users", "1", "--min-mb", "3", "--max-mb", "2", "--duration", "10s"}, false);
    BOOST_TEST(r.status == 2);
    BOOST_TEST(r.err == "wsload: --min-mb and --max-mb: give 0 <= min <= max (got 3 and 2)\n", r.err);

    child_process bench({WSLOAD_UPLOAD_BENCH, "--target", "http://127.0.0.1:" + std::to_string(server.port())},
                        child_process::options{.extra_env = {"WORKER_OFFSET=ten"}});
    BOOST_REQUIRE(bench.wait_for_exit(30s) == 2);
    BOOST_TEST(bench.stderr_text() == "wsload: WORKER_OFFSET=\"ten\" is not a whole number\n");
}

BOOST_AUTO_TEST_SUITE_END()
