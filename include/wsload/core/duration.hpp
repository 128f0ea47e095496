#pragma once

#include <wsload/core/error.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <iterator>
#include <limits>
#include <numeric>
#include <string>
#include <string_view>

namespace wsload {

namespace detail {

struct duration_unit {
    std::string_view suffix;
    std::uint64_t ns;
};

// Matched in this order, so "ms" must come before its prefix "m".
inline constexpr duration_unit duration_units[] = {
    {"h", 3'600'000'000'000},
    {"ms", 1'000'000},
    {"m", 60'000'000'000},
    {"s", 1'000'000'000},
    {"us", 1'000},
    {"\xc2\xb5s", 1'000},
    {"ns", 1},
};

[[noreturn]] inline void throw_bad_duration(std::string_view text)
{
    throw usage_error(quoted(text) + " is not a duration (use 30s, 2m or 1h30m)");
}

inline bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

// Digits into `out`; false on overflow. Leading zeros are harmless, so no digit-count limit.
inline bool parse_digits(std::string_view digits, std::uint64_t& out) noexcept
{
    constexpr auto max = std::numeric_limits<std::uint64_t>::max();
    out = 0;
    for (char c : digits) {
        const auto d = static_cast<std::uint64_t>(c - '0');
        if (out > (max - d) / 10) return false;
        out = out * 10 + d;
    }
    return true;
}

} // namespace detail

/// Parses a duration as typed on a command line: `90` (seconds), `30s`, `1h30m`, `500ms`,
/// `1.5s`; units h, m, s, ms, us, ns, each at most once and largest first.
/// Throws usage_error for anything else, including values finer than 1 ns or beyond ~292 years.
inline std::chrono::nanoseconds parse_duration(std::string_view text)
{
    using detail::is_digit;
    constexpr auto max_ns = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
    if (text.empty()) detail::throw_bad_duration(text);

    std::uint64_t total = 0;
    std::size_t last_rank = 0; // ranks start at 1 so that 0 means "no unit seen yet"
    std::string_view rest = text;
    while (!rest.empty()) {
        std::size_t i = 0;
        while (i < rest.size() && is_digit(rest[i])) ++i;
        if (i == 0) detail::throw_bad_duration(text);
        const std::string_view whole = rest.substr(0, i);
        std::string_view fraction;
        if (i < rest.size() && rest[i] == '.') {
            const std::size_t start = ++i;
            while (i < rest.size() && is_digit(rest[i])) ++i;
            fraction = rest.substr(start, i - start);
            if (fraction.empty()) detail::throw_bad_duration(text);
        }
        rest.remove_prefix(i);

        // A bare number is seconds, but only as the whole text: "1h30" is more likely a typo.
        std::uint64_t unit = 1'000'000'000;
        if (rest.empty() && last_rank == 0) {
            last_rank = 1;
        } else {
            const auto* match =
                std::find_if(std::begin(detail::duration_units), std::end(detail::duration_units),
                             [&](const auto& u) { return rest.starts_with(u.suffix); });
            if (match == std::end(detail::duration_units)) detail::throw_bad_duration(text);
            unit = match->ns;
            rest.remove_prefix(match->suffix.size());
            // A unit's rank is how many units are larger; "us" and its "\u00b5s" alias share one.
            const std::size_t rank =
                1 + static_cast<std::size_t>(std::count_if(
                        std::begin(detail::duration_units), std::end(detail::duration_units),
                        [&](const auto& u) { return u.ns > unit; }));
            if (rank <= last_rank) detail::throw_bad_duration(text);
            last_rank = rank;
        }

        std::uint64_t n = 0;
        if (!detail::parse_digits(whole, n) || (n != 0 && unit > max_ns / n))
            detail::throw_bad_duration(text);
        n *= unit;

        // fraction f with k digits adds f * unit / 10^k, which must be a whole number of ns;
        // reducing by gcd first keeps every intermediate below `unit`, so nothing overflows.
        while (!fraction.empty() && fraction.back() == '0') fraction.remove_suffix(1);
        if (!fraction.empty()) {
            std::uint64_t f = 0;
            if (fraction.size() > 18 || !detail::parse_digits(fraction, f))
                detail::throw_bad_duration(text);
            std::uint64_t pow10 = 1;
            for (std::size_t k = 0; k < fraction.size(); ++k) pow10 *= 10;
            const std::uint64_t g = std::gcd(unit, pow10);
            if (f % (pow10 / g) != 0) detail::throw_bad_duration(text);
            n += f / (pow10 / g) * (unit / g);
        }
        if (n > max_ns - total) detail::throw_bad_duration(text);
        total += n;
    }
    return std::chrono::nanoseconds(static_cast<std::int64_t>(total));
}

namespace detail {

// `value / scale` with up to three decimals, trailing zeros dropped; value is a multiple of
// scale / 1000.
inline void append_decimal(std::string& out, std::uint64_t value, std::uint64_t scale)
{
    out += std::to_string(value / scale);
    std::uint64_t milli = value % scale / (scale / 1000);
    if (milli == 0) return;
    std::string digits = std::to_string(milli);
    digits.insert(0, 3 - digits.size(), '0');
    while (digits.back() == '0') digits.pop_back();
    out += '.';
    out += digits;
}

} // namespace detail

/// Human form for help texts and reports: `0s`, `250us`, `1.5ms`, `500ms`, `1.5s`, `1m30s`,
/// `1h30m`. Below 1 s: the largest of ns, us, ms that fits, with up to 3 decimals (so < 1 ms is
/// exact, < 1 s rounds to 1 us); from 1 s: h, m and s with up to 3 decimals (rounds to 1 ms).
inline std::string format_duration(std::chrono::nanoseconds d)
{
    const auto count = d.count();
    std::string out;
    // Magnitude as unsigned so that the most negative value has a positive counterpart.
    std::uint64_t v = static_cast<std::uint64_t>(count);
    if (count < 0) {
        out += '-';
        v = 0 - v;
    }
    constexpr std::uint64_t us = 1'000, ms = 1'000'000, s = 1'000'000'000;
    // Rounding may carry into the next magnitude, but then it lands exactly on its boundary,
    // which every coarser precision represents exactly.
    auto round_to = [&](std::uint64_t step) {
        const std::uint64_t r = v % step;
        v -= r;
        if (r >= step - r && v <= std::numeric_limits<std::uint64_t>::max() - step) v += step;
    };
    if (v >= s)
        round_to(ms);
    else if (v >= ms)
        round_to(us);

    if (v == 0) return "0s";
    if (v < us) return out + std::to_string(v) + "ns";
    if (v < s) {
        detail::append_decimal(out, v, v < ms ? us : ms);
        return out + (v < ms ? "us" : "ms");
    }

    constexpr std::uint64_t minute = 60 * s, hour = 60 * minute;
    if (v >= hour) out += std::to_string(v / hour) + "h";
    if (v % hour >= minute) out += std::to_string(v % hour / minute) + "m";
    if (v % minute != 0) {
        detail::append_decimal(out, v % minute, s);
        out += 's';
    }
    return out;
}

} // namespace wsload
