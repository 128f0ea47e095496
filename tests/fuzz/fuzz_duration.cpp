// libFuzzer target: wsload::parse_duration and format_duration (core/duration.hpp).
// The input is parsed as a duration; its first 8 bytes are also taken as a raw nanosecond
// count to format. Checked, per the header's contract:
// - parse_duration returns a value >= 0 or throws usage_error with a one-line message;
// - format_duration never fails; a negative value is "-" and the magnitude's form;
// - parse(format(d)) is d rounded to format's precision: exact below 1 ms, to 1 us below 1 s,
//   to 1 ms from 1 s (so always d itself when d is a whole number of ms); it may refuse only
//   when that rounding carries past the largest duration parse accepts.

#include "fuzz_check.hpp"

#include <wsload/core/duration.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <string_view>

namespace {

using std::chrono::nanoseconds;
constexpr std::uint64_t max_ns = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());

void check_round_trip(nanoseconds d)
{
    const auto v = static_cast<std::uint64_t>(d.count());
    const std::string text = wsload::format_duration(d);
    const std::uint64_t step = v < 1'000'000 ? 1 : v < 1'000'000'000 ? 1'000 : 1'000'000;
    const std::uint64_t below = v - v % step;
    const std::uint64_t above = below + step;  // no overflow: below <= max_ns < 2^63
    std::uint64_t back = 0;
    try {
        back = static_cast<std::uint64_t>(wsload::parse_duration(text).count());
    } catch (const wsload::usage_error&) {
        // Only rounding up past the largest value is allowed to make it unreadable.
        WSLOAD_FUZZ_CHECK(above > max_ns && v - below >= above - v, text);
        return;
    }
    WSLOAD_FUZZ_CHECK(back == below || back == above, text);
    const std::uint64_t error = back > v ? back - v : v - back;
    WSLOAD_FUZZ_CHECK(2 * error <= step, text);  // the nearest multiple (either one on a tie)
    if (v % 1'000'000 == 0) WSLOAD_FUZZ_CHECK(back == v, text);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    try {
        const nanoseconds d = wsload::parse_duration(text);
        WSLOAD_FUZZ_CHECK(d.count() >= 0, text);
        check_round_trip(d);
    } catch (const wsload::usage_error& e) {
        WSLOAD_FUZZ_CHECK(wsload::fuzz::one_line(e.what()), e.what());
    }

    if (size >= sizeof(std::int64_t)) {
        std::int64_t raw = 0;
        std::memcpy(&raw, data, sizeof raw);
        const std::string formatted = wsload::format_duration(nanoseconds(raw));
        WSLOAD_FUZZ_CHECK(!formatted.empty(), text);
        if (raw >= 0) {
            check_round_trip(nanoseconds(raw));
        } else if (raw != std::numeric_limits<std::int64_t>::min()) {
            WSLOAD_FUZZ_CHECK(formatted == "-" + wsload::format_duration(nanoseconds(-raw)), formatted);
        } else {
            WSLOAD_FUZZ_CHECK(formatted.starts_with('-'), formatted);
        }
    }
    return 0;
}
