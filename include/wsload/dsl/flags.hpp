#pragma once
// A scenario's own flags (e.g. --mode), bound to variables the behaviour reads.

#include <wsload/core/duration.hpp>
#include <wsload/core/error.hpp>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <concepts>
#include <cstdint>
#include <functional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace wsload::dsl {

/// Parses one flag value into `T`; throws usage_error with the reason (no flag name: the
/// caller prefixes it).
template <class T>
T parse_flag_value(const std::string& text)
{
    if constexpr (std::is_same_v<T, std::string>) {
        return text;
    } else if constexpr (std::is_same_v<T, std::chrono::nanoseconds>) {
        return parse_duration(text);
    } else if constexpr (std::is_same_v<T, bool>) {
        if (text == "true" || text == "1" || text == "yes" || text == "on") return true;
        if (text == "false" || text == "0" || text == "no" || text == "off") return false;
        throw usage_error(wsload::detail::quoted(text) + " is not a yes/no value (use true or false)");
    } else if constexpr (std::is_integral_v<T>) {
        T v{};
        auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
        if (ec == std::errc::result_out_of_range)
            throw usage_error(wsload::detail::quoted(text) + " is out of range");
        if (ec != std::errc{} || p != text.data() + text.size() || text.empty())
            throw usage_error(wsload::detail::quoted(text) + " is not a whole number");
        return v;
    } else if constexpr (std::is_floating_point_v<T>) {
        T v{};
        auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
        if (ec != std::errc{} || p != text.data() + text.size() || text.empty())
            throw usage_error(wsload::detail::quoted(text) + " is not a number");
        return v;
    } else {
        static_assert(sizeof(T) == 0, "flag type must be string, bool, a number or std::chrono::nanoseconds");
    }
}

/// A duration as parse_duration reads it back exactly: format_duration's form (`1.5s`, `1m30s`,
/// `250ms`) when it is exact, else whole units largest first (`1s500us`, `2m3ns`).
inline std::string format_exact_duration(std::chrono::nanoseconds d)
{
    auto text = format_duration(d);
    if (d.count() <= 0) return text;  // "0s"; a negative duration has no form that reads back
    try {
        if (parse_duration(text) == d) return text;
    } catch (const usage_error&) {
    }
    static constexpr std::pair<const char*, std::int64_t> units[] = {
        {"h", 3'600'000'000'000}, {"m", 60'000'000'000}, {"s", 1'000'000'000},
        {"ms", 1'000'000},        {"us", 1'000},         {"ns", 1}};
    text.clear();
    auto rest = d.count();
    for (const auto& [suffix, ns] : units)
        if (rest >= ns) {
            text += std::to_string(rest / ns) + suffix;
            rest %= ns;
        }
    return text;
}

/// A value in the form parse_flag_value<T> reads back to the same value.
template <class T>
std::string format_flag_value(const T& v)
{
    if constexpr (std::is_same_v<T, std::string>) {
        return v;
    } else if constexpr (std::is_same_v<T, std::chrono::nanoseconds>) {
        return format_exact_duration(v);
    } else if constexpr (std::is_same_v<T, bool>) {
        return v ? "true" : "false";
    } else if constexpr (std::is_floating_point_v<T>) {
        char buffer[64];  // shortest form that reads back (std::to_string would print 0.000000 for 1e-7)
        const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, v);
        return std::string(buffer, ec == std::errc{} ? end : buffer);
    } else {
        return std::to_string(v);
    }
}

/// A flag declared by a scenario: what --help shows and how a value reaches its variable.
struct custom_flag {
    std::string name;
    std::string help;
    std::string default_text;
    bool is_switch = false;  ///< a bool: `--name` alone means true
    std::function<void(const std::string&)> assign;
    std::function<std::string()> current;  ///< the variable's value now, as assign() reads it back
};

template <class T>
custom_flag make_flag(std::string name, T& variable, std::string help, std::vector<T> choices = {})
{
    custom_flag f;
    f.name = std::move(name);
    f.default_text = format_flag_value(variable);
    f.is_switch = std::is_same_v<T, bool>;
    if (!choices.empty()) {
        help += " (one of:";
        for (const auto& c : choices) help += " " + format_flag_value(c);
        help += ")";
    }
    f.help = std::move(help);
    f.assign = [&variable, choices = std::move(choices)](const std::string& text) {
        T v = parse_flag_value<T>(text);
        if (!choices.empty() && std::find(choices.begin(), choices.end(), v) == choices.end()) {
            std::string list;
            for (const auto& c : choices) list += (list.empty() ? "" : ", ") + format_flag_value(c);
            throw usage_error(wsload::detail::quoted(text) + " is not one of " + list);
        }
        variable = std::move(v);
    };
    f.current = [&variable] { return format_flag_value(variable); };
    return f;
}

}  // namespace wsload::dsl
