#ifndef BOOST_TEST_DYN_LINK
#define BOOST_TEST_DYN_LINK
#endif
// The log's pieces with no network: the line format, the --log-users ranges, the secret
// masker and the queue to the log file's writer thread.
#include <wsload/core/index_set.hpp>
#include <wsload/core/log.hpp>
#include <wsload/core/log_line.hpp>
#include <wsload/core/log_queue.hpp>
#include <wsload/core/mask.hpp>

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <unistd.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;

namespace {

/// 2025-09-06 16:37:17 local time plus `ms` milliseconds.
std::chrono::system_clock::time_point log_test_time(int ms)
{
    std::tm t{};
    t.tm_year = 2025 - 1900;
    t.tm_mon = 8;
    t.tm_mday = 6;
    t.tm_hour = 16;
    t.tm_min = 37;
    t.tm_sec = 17;
    t.tm_isdst = -1;
    return std::chrono::system_clock::from_time_t(std::mktime(&t)) + std::chrono::milliseconds(ms);
}

std::vector<std::string> log_test_lines(const std::string& path)
{
    std::ifstream in(path);
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

std::string log_test_path(const char* name)
{
    return (std::filesystem::temp_directory_path() / (std::string("wsload_log_test_") + std::to_string(::getpid()) + "_" + name))
        .string();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(log_line_format)

BOOST_AUTO_TEST_CASE(a_line_reads_as_locust_writes_it)
{
    BOOST_TEST(wsload::format_log_line(log_test_time(300), wsload::log_level::info, "websocket_manager",
                                       "user_1 connected") ==
               "[2025-09-06 16:37:17,300] INFO/websocket_manager: user_1 connected");
    BOOST_TEST(wsload::format_log_line(log_test_time(7), wsload::log_level::warn, "wsload", "x") ==
               "[2025-09-06 16:37:17,007] WARNING/wsload: x");
    BOOST_TEST(wsload::format_log_line(log_test_time(999), wsload::log_level::debug, "tcp", "") ==
               "[2025-09-06 16:37:17,999] DEBUG/tcp: ");
    BOOST_TEST(wsload::format_log_line(log_test_time(0), wsload::log_level::error, "http", "e") ==
               "[2025-09-06 16:37:17,000] ERROR/http: e");
}

BOOST_AUTO_TEST_CASE(content_is_cut_at_the_bound_with_its_size_and_kept_on_one_line)
{
    BOOST_TEST(wsload::log_content("Hello! How are you today?") == "Hello! How are you today?");
    BOOST_TEST(wsload::log_content("a\nb\r\tc\x01") == "a\\nb\\r\\tc\\x01");
    const std::string big(300, 'x');
    BOOST_TEST(wsload::log_content(big) == std::string(256, 'x') + "... (300 bytes)");
    BOOST_TEST(wsload::log_content(std::string(256, 'y')) == std::string(256, 'y'));
    // A cut inside a UTF-8 character backs off to its start: "é" is 2 bytes, at 255-256.
    const std::string accented = std::string(255, 'a') + "\xc3\xa9" + "tail";
    BOOST_TEST(wsload::log_content(accented) == std::string(255, 'a') + "... (261 bytes)");
    BOOST_TEST(wsload::log_content("\x80\xffok", true) == "\\x80\\xffok");
    // Masked before it is cut: a secret cut in half shows none of itself.
    const std::string cut = R"({"token":")" + std::string(300, 's') + "\"}";
    BOOST_TEST(wsload::log_content(cut) == R"({"token":"***... (312 bytes))");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(log_users_ranges)

BOOST_AUTO_TEST_CASE(ranges_and_single_numbers)
{
    const auto s = wsload::index_set::parse("3,7,100-199");
    for (std::uint64_t n : {3, 7, 100, 150, 199}) BOOST_TEST(s.contains(n), n);
    for (std::uint64_t n : {0, 2, 4, 6, 8, 99, 200, 1000}) BOOST_TEST(!s.contains(n), n);
    BOOST_TEST(s.to_string() == "3,7,100-199");
    const auto t = wsload::index_set::parse(" 0-9 ");
    BOOST_TEST(t.contains(0));
    BOOST_TEST(t.contains(9));
    BOOST_TEST(!t.contains(10));
    BOOST_TEST(wsload::index_set::parse("5-6,1-3,2-4").to_string() == "1-6");
    BOOST_TEST(wsload::index_set::parse("").empty());
    BOOST_TEST(wsload::index_set::parse(wsload::index_set::parse("1,2,3,9").to_string()).to_string() == "1-3,9");
}

BOOST_DATA_TEST_CASE(bad_specs_say_what_is_wrong,
                     boost::unit_test::data::make({"1-", "-3", "a", "1,,2", "1,", "9-2", "1.5", "0x10", "1-2-3",
                                                   "99999999999999999999"}),
                     spec)
{
    try {
        wsload::index_set::parse(spec);
        BOOST_FAIL("accepted");
    } catch (const wsload::usage_error& e) {
        const std::string what = e.what();
        BOOST_TEST(what.starts_with(wsload::detail::quoted(spec) + " is not a list of user numbers: "), what);
        BOOST_TEST(what.ends_with("(use e.g. 0-9 or 3,7,100-199)"), what);
    }
}

BOOST_AUTO_TEST_CASE(a_backwards_range_is_named)
{
    BOOST_CHECK_EXCEPTION(wsload::index_set::parse("9-2"), wsload::usage_error, [](const wsload::usage_error& e) {
        return std::string(e.what()) ==
               "\"9-2\" is not a list of user numbers: 9-2 runs backwards (use e.g. 0-9 or 3,7,100-199)";
    });
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(secret_masking)

BOOST_AUTO_TEST_CASE(header_values)
{
    BOOST_TEST(wsload::mask_secrets("GET / HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer abc.def\r\ncookie: s=1; t=2\r\n\r\n") ==
               "GET / HTTP/1.1\r\nHost: a\r\nAuthorization: ***\r\ncookie: ***\r\n\r\n");
    BOOST_TEST(wsload::mask_secrets("Proxy-Authorization: Basic eDp5\nSet-Cookie: id=9; HttpOnly\nX-Other: keep") ==
               "Proxy-Authorization: ***\nSet-Cookie: ***\nX-Other: keep");
    BOOST_TEST(wsload::mask_secrets("Authorization:") == "Authorization: ***");
    // Only a header line's name counts: a sentence that mentions one is kept.
    BOOST_TEST(wsload::mask_secrets("no Authorization: here") == "no Authorization: here");
}

BOOST_AUTO_TEST_CASE(json_fields_at_any_depth_and_any_case)
{
    BOOST_TEST(wsload::mask_secrets(R"({"type":"login","token":"abc123","user":"u1"})") ==
               R"({"type":"login","token":"***","user":"u1"})");
    BOOST_TEST(wsload::mask_secrets(R"({"auth":{"Access_Token" : "x\"y","refresh_token":"r"},"n":[{"PASSWORD":"p"}]})") ==
               R"({"auth":{"Access_Token" : "***","refresh_token":"***"},"n":[{"PASSWORD":"***"}]})");
    BOOST_TEST(wsload::mask_secrets(R"({"passwd":1234,"apiKey":"k","api_key":"k","secret":null,"authorization":"b"})") ==
               R"({"passwd":***,"apiKey":"***","api_key":"***","secret":***,"authorization":"***"})");
    BOOST_TEST(wsload::mask_secrets(R"({"sessionToken":"s","client_secret":"c"})") ==
               R"({"sessionToken":"***","client_secret":"***"})");
    // Names that only contain a secret word, and values that look like one, are kept.
    BOOST_TEST(wsload::mask_secrets(R"({"tokens_left":3,"text":"token","name":"password"})") ==
               R"({"tokens_left":3,"text":"token","name":"password"})");
}

BOOST_AUTO_TEST_CASE(url_query_parameters)
{
    BOOST_TEST(wsload::mask_secrets("ws://h:1/chat?room=7&token=abc&x=1") == "ws://h:1/chat?room=7&token=***&x=1");
    BOOST_TEST(wsload::mask_secrets("/login?Password=p#frag") == "/login?Password=***#frag");
    BOOST_TEST(wsload::mask_secrets("GET /a?api_key=k HTTP/1.1") == "GET /a?api_key=*** HTTP/1.1");
    BOOST_TEST(wsload::mask_secrets(R"({"url":"/x?access_token=t1"})") == R"({"url":"/x?access_token=***"})");
    BOOST_TEST(wsload::mask_secrets("/a?tokenize=1&b=2") == "/a?tokenize=1&b=2");
}

BOOST_DATA_TEST_CASE(malformed_or_truncated_content_is_masked_conservatively,
                     boost::unit_test::data::make(
                         {R"({"token":"abc)", R"({"token":)", R"({"token" :  )", R"({"password":12)", R"({"token":"a\)",
                          R"({"token)", R"("token":"x","a":)", "\"", "", ":", "=", "?", "?&=", "?token", "?token=",
                          "{\"token\":\"x\"", "Authorization", "\"\\"}) ^
                         boost::unit_test::data::make({R"({"token":"***)", R"({"token":***)", R"({"token" :  ***)",
                                                       R"({"password":***)", R"({"token":"***)", R"({"token)",
                                                       R"("token":"***","a":)", "\"", "", ":", "=", "?", "?&=", "?token",
                                                       "?token=***", "{\"token\":\"***\"", "Authorization", "\"\\"}),
                     input, expected)
{
    BOOST_TEST(wsload::mask_secrets(input) == expected);
}

BOOST_AUTO_TEST_CASE(text_without_secrets_comes_back_as_it_was)
{
    const std::string plain = "Hello! How are you today? {\"a\":[1,2,{\"b\":\"c\"}]} x=1&y=2 é";
    BOOST_TEST(wsload::mask_secrets(plain) == plain);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(log_file_queue)

BOOST_AUTO_TEST_CASE(a_full_queue_drops_and_counts_and_keeps_the_order)
{
    wsload::bounded_queue<int> q(5);  // rounded up to 8
    BOOST_TEST(q.capacity() == 8u);
    int dropped = 0;
    for (int i = 0; i < 12; ++i) {
        int v = i;
        if (!q.try_push(v)) ++dropped;
    }
    BOOST_TEST(dropped == 4);
    std::vector<int> out;
    for (int v; q.try_pop(v);) out.push_back(v);
    BOOST_TEST(out == (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7}));
    int v = 42;
    BOOST_TEST(q.try_push(v));  // room again once drained
    BOOST_TEST(q.try_pop(v));
    BOOST_TEST(v == 42);
}

BOOST_AUTO_TEST_CASE(lines_of_several_threads_arrive_whole_in_each_threads_order_and_are_flushed_at_close)
{
    const auto path = log_test_path("order.log");
    constexpr int threads = 4, per_thread = 5000;
    {
        wsload::log_writer w(path, 1 << 16);  // room for all: nothing may be dropped
        std::vector<std::thread> producers;
        for (int t = 0; t < threads; ++t)
            producers.emplace_back([&w, t] {
                for (int i = 0; i < per_thread; ++i)
                    w.push({std::chrono::system_clock::now(), wsload::log_level::debug,
                            "test: t" + std::to_string(t) + " " + std::to_string(i)});
            });
        for (auto& p : producers) p.join();
        w.close();
        BOOST_TEST(w.dropped() == 0u);
    }
    const auto lines = log_test_lines(path);
    BOOST_REQUIRE(lines.size() == static_cast<std::size_t>(threads * per_thread));
    std::vector<int> next(threads, 0);
    for (const auto& line : lines) {
        const auto at = line.find("] DEBUG/test: t");
        BOOST_REQUIRE_MESSAGE(at == 24, line);
        const int t = line[at + 15] - '0';
        BOOST_REQUIRE_EQUAL(std::stoi(line.substr(at + 17)), next[t]);
        ++next[t];
    }
    std::filesystem::remove(path);
}

BOOST_AUTO_TEST_CASE(a_writer_that_cannot_keep_up_drops_lines_and_counts_every_one)
{
    const auto path = log_test_path("drops.log");
    constexpr int pushed = 20000;
    std::uint64_t dropped = 0;
    {
        wsload::log_writer w(path, 16);
        int accepted = 0;
        for (int i = 0; i < pushed; ++i)
            if (w.push({std::chrono::system_clock::now(), wsload::log_level::info, "test: " + std::to_string(i)}))
                ++accepted;
        w.close();
        dropped = w.dropped();
        BOOST_TEST(dropped + static_cast<std::uint64_t>(accepted) == static_cast<std::uint64_t>(pushed));
        BOOST_TEST(dropped > 0u);  // 16 slots against a tight loop of 20000
    }
    const auto lines = log_test_lines(path);
    BOOST_TEST(lines.size() == pushed - dropped);
    // The survivors kept their order.
    int last = -1;
    for (const auto& line : lines) {
        const int n = std::stoi(line.substr(line.find("INFO/test: ") + 11));
        BOOST_REQUIRE(n > last);
        last = n;
    }
    std::filesystem::remove(path);
}

BOOST_AUTO_TEST_CASE(log_goes_to_the_file_masked_at_or_above_the_level_and_not_below)
{
    const auto path = log_test_path("levels.log");
    const auto saved = wsload::current_log_level().load();
    wsload::current_log_level().store(wsload::log_level::info);
    {
        wsload::log_file file(path);
        wsload::log(wsload::log_level::info, "engine", R"(login {"password":"hunter2"})");
        wsload::log(wsload::log_level::debug, "engine", "not at info");
        wsload::log_traced("websocket", "user_4", "sent: hi");
    }
    wsload::current_log_level().store(saved);
    const auto lines = log_test_lines(path);
    BOOST_REQUIRE(lines.size() == 2u);
    BOOST_TEST(lines[0].substr(24) == R"(] INFO/engine: login {"password":"***"})");
    BOOST_TEST(lines[1].substr(24) == "] DEBUG/websocket: user_4 sent: hi");
    BOOST_TEST(lines[0][0] == '[');
    BOOST_TEST(wsload::current_log_writer().load() == nullptr);
    std::filesystem::remove(path);
}

BOOST_AUTO_TEST_CASE(a_file_that_cannot_be_opened_is_a_usage_error)
{
    BOOST_CHECK_EXCEPTION(wsload::log_file("/nonexistent-dir/x.log"), wsload::usage_error,
                          [](const wsload::usage_error& e) {
                              return std::string(e.what()) ==
                                     "cannot write \"/nonexistent-dir/x.log\": No such file or directory";
                          });
}

BOOST_AUTO_TEST_SUITE_END()
