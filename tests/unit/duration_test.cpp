#ifndef BOOST_TEST_DYN_LINK
#define BOOST_TEST_DYN_LINK
#endif
#include <wsload/core/duration.hpp>

#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <cstdint>
#include <limits>
#include <ostream>
#include <random>
#include <string>
#include <vector>

namespace {

namespace data = boost::unit_test::data;

struct text_and_ns {
    std::string text;
    std::int64_t ns;
};
std::ostream& operator<<(std::ostream& os, const text_and_ns& c)
{
    return os << '"' << c.text << "\" " << c.ns << "ns";
}

constexpr std::int64_t us = 1'000, ms = 1'000'000, s = 1'000'000'000, m = 60 * s, h = 60 * m;
constexpr std::int64_t max_ns = std::numeric_limits<std::int64_t>::max();

const std::vector<text_and_ns> good = {
    {"90", 90 * s},
    {"30s", 30 * s},
    {"2m", 2 * m},
    {"1h30m", h + 30 * m},
    {"1h", h},
    {"500ms", 500 * ms},
    {"250us", 250 * us},
    {"250\xc2\xb5s", 250 * us},
    {"100ns", 100},
    {"1.5s", 1500 * ms},
    {"1.5", 1500 * ms},
    {"0", 0},
    {"0s", 0},
    {"000", 0},
    {"1h2m3s", h + 2 * m + 3 * s},
    {"2m500ms", 2 * m + 500 * ms},
    {"1h1m1s1ms1us1ns", h + m + s + ms + us + 1},
    {"1h0m", h},
    {"1.5h", h + 30 * m},
    {"0.25m", 15 * s},
    {"1.000000001s", s + 1},
    {"0.0000000010s", 1},
    {"1.5us", 1500},
    {"0.0001h", 360 * ms},
    {"007s", 7 * s},
    {"9223372036854775807ns", max_ns},
    {"2562047h47m16.854775807s", max_ns},
    {"9223372036.854775807", max_ns},
};

const std::vector<std::string> bad = {
    "",          "3x",        "-1s",       "+1s",       "1 s",      " 1s",        "1s ",
    "s",         "ms",        "h1",        "1.s",       ".5s",      "1..5s",      "1.5.s",
    "1s1s",      "1m1h",      "1ms1s",     "1us1\xc2\xb5s", "1h30",  "30 ",        "1S",
    "1H",        "1sec",      "1min",      "1d",        "1e3s",     "0x10s",      "1,5s",
    "1.5ns",     "0.0000000015s",           "9223372036854775808ns",  "2562048h", "1/2s",
    "99999999999999999999s", "18446744073709551616ns", "1s\n",      "\xc2\xb5s",  "1\xc2s",
};

const std::vector<text_and_ns> formatted = {
    {"0s", 0},
    {"1ns", 1},
    {"999ns", 999},
    {"1us", us},
    {"1.5us", 1500},
    {"999.999us", 999'999},
    {"1ms", ms},
    {"1.5ms", 1500 * us},
    {"1.235ms", 1'234'567},      // below 1 s rounds to the microsecond
    {"500ms", 500 * ms},
    {"999.999ms", 999'999'499},
    {"1s", 999'999'500},         // rounding carries into seconds
    {"1s", s},
    {"1.5s", 1500 * ms},
    {"1.001s", s + ms},
    {"1s", s + ms / 2 - 1},      // from 1 s on, rounds to the millisecond
    {"30s", 30 * s},
    {"1m", m},
    {"2m", 2 * m},
    {"1m30s", 90 * s},
    {"2m0.5s", 2 * m + 500 * ms},
    {"1h", h},
    {"1h30m", h + 30 * m},
    {"1h0.5s", h + 500 * ms},
    {"1h1s", h + s},
    {"1h2m3.004s", h + 2 * m + 3 * s + 4 * ms},
    {"100h", 100 * h},
    {"-1.5s", -1500 * ms},
    {"-250us", -250 * us},
};

} // namespace

BOOST_AUTO_TEST_SUITE(duration)

BOOST_DATA_TEST_CASE(parses_good_input, data::make(good), c)
{
    BOOST_TEST(wsload::parse_duration(c.text).count() == c.ns);
}

BOOST_DATA_TEST_CASE(rejects_bad_input, data::make(bad), text)
{
    BOOST_CHECK_EXCEPTION(wsload::parse_duration(text), wsload::usage_error,
                          [&](const wsload::usage_error& e) {
                              return std::string(e.what()).ends_with(
                                  "\" is not a duration (use 30s, 2m or 1h30m)");
                          });
}

BOOST_AUTO_TEST_CASE(error_message_quotes_the_input)
{
    auto message = [](std::string_view text) {
        try {
            wsload::parse_duration(text);
        } catch (const wsload::usage_error& e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    BOOST_TEST(message("3x") == "\"3x\" is not a duration (use 30s, 2m or 1h30m)");
    BOOST_TEST(message("") == "\"\" is not a duration (use 30s, 2m or 1h30m)");
    // Control characters and quotes are escaped so that the message stays one line.
    BOOST_TEST(message("1s\n\"") == "\"1s\\x0a\\\"\" is not a duration (use 30s, 2m or 1h30m)");
}

BOOST_DATA_TEST_CASE(formats, data::make(formatted), c)
{
    BOOST_TEST(wsload::format_duration(std::chrono::nanoseconds(c.ns)) == c.text);
}

BOOST_AUTO_TEST_CASE(format_survives_extremes)
{
    BOOST_TEST(wsload::format_duration(std::chrono::nanoseconds::max()) == "2562047h47m16.855s");
    BOOST_TEST(wsload::format_duration(std::chrono::nanoseconds::min()) == "-2562047h47m16.855s");
}

BOOST_AUTO_TEST_CASE(round_trips_whole_milliseconds_and_sub_millisecond_nanoseconds)
{
    std::mt19937_64 rng(42);
    std::vector<std::int64_t> values = {0, ms, 999 * ms, s, 59 * s + 999 * ms, m, h - ms, h,
                                        1000 * h + 59 * m + 59 * s + 999 * ms};
    for (std::int64_t v = 0; v < ms; v += 997) values.push_back(v); // below 1 ms: ns exact
    std::uniform_int_distribution<std::int64_t> any_ms(0, max_ns / ms - 1);
    std::uniform_int_distribution<std::int64_t> hours_ms(0, 10 * h / ms);
    for (int i = 0; i < 20'000; ++i) {
        values.push_back(any_ms(rng) * ms);
        values.push_back(hours_ms(rng) * ms);
    }
    for (auto v : values) {
        const std::chrono::nanoseconds d(v);
        const auto text = wsload::format_duration(d);
        BOOST_TEST_CONTEXT(v << "ns formatted as " << text)
        {
            BOOST_TEST(wsload::parse_duration(text).count() == v);
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()
