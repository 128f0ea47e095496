#pragma once
// HTTP header fields a user gives (an HTTP client's headers, a WebSocket upgrade's extras, the
// run-wide --header): checked where they are given, so that a bad one is a one-line usage error
// and never a request split in two.

#include <wsload/core/error.hpp>

#include <boost/beast/core/string.hpp>

#include <algorithm>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace wsload::net {

/// A header as given: name, value.
using header_field = std::pair<std::string, std::string>;

/// RFC 9110 section 5.6.2: a token is one or more visible ASCII characters but the separators.
inline bool is_http_token(std::string_view s) noexcept
{
    static constexpr std::string_view separators = "()<>@,;:\\\"/[]?={} \t";
    if (s.empty()) return false;
    for (const char c : s)
        if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f ||
            separators.find(c) != std::string_view::npos)
            return false;
    return true;
}

/// `s` without the spaces and tabs around it (RFC 9110's optional whitespace).
inline std::string_view trim_ows(std::string_view s) noexcept
{
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

/// Throws usage_error when `name` is not a token or `value` holds CR, LF or NUL (which would end
/// the header line and start another, or cut it short).
inline void check_header(std::string_view name, std::string_view value)
{
    if (!is_http_token(name)) throw usage_error(wsload::detail::quoted(name) + " is not a valid HTTP header name");
    if (value.find_first_of("\r\n") != std::string_view::npos || value.find('\0') != std::string_view::npos)
        throw usage_error("the value of HTTP header " + wsload::detail::quoted(name) + " holds a line break or a NUL byte");
}

/// `Name: value` as typed (`--header "Authorization: Bearer abc"`): the name before the first
/// colon, the value after it without the spaces and tabs around it; checked as check_header does.
inline header_field parse_header_line(std::string_view text)
{
    const auto colon = text.find(':');
    if (colon == std::string_view::npos)
        throw usage_error(wsload::detail::quoted(text) + " is not a header (use \"Name: value\")");
    const auto name = text.substr(0, colon), value = trim_ows(text.substr(colon + 1));
    check_header(name, value);
    return {std::string(name), std::string(value)};
}

/// Whether `fields` name `name` (case-insensitively).
inline bool names_header(const std::vector<header_field>& fields, std::string_view name) noexcept
{
    return std::any_of(fields.begin(), fields.end(), [&](const header_field& h) { return boost::beast::iequals(h.first, name); });
}

}  // namespace wsload::net
