#pragma once

#include <wsload/core/error.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace wsload::net {

/// A parsed target address. `host` is lower-case and has no brackets (IPv6 is bare);
/// `target` is path plus query, never empty, without the fragment.
struct url {
    std::string scheme; ///< ws, wss, http, https, tcp or tls (lower-case)
    std::string host;
    std::uint16_t port = 0;
    std::string target = "/";
    bool tls = false; ///< wss, https and tls

    /// Value for an HTTP Host header: host, bracketed if IPv6, `:port` unless the default.
    std::string host_header() const;
    /// Canonical form, e.g. `wss://[::1]:8443/chat?room=1`; parse_url reads it back unchanged.
    std::string to_string() const;
};

namespace detail {

struct scheme_info {
    std::string_view name;
    std::uint16_t default_port; // 0: the port must be given
    bool tls;
};

inline constexpr scheme_info schemes[] = {
    {"ws", 80, false},    {"wss", 443, true}, {"http", 80, false},
    {"https", 443, true}, {"tcp", 0, false},  {"tls", 443, true},
};

inline const scheme_info* find_scheme(std::string_view name) noexcept
{
    for (const auto& s : schemes)
        if (s.name == name) return &s;
    return nullptr;
}

[[noreturn]] inline void throw_bad_url(std::string_view text, std::string_view why)
{
    throw usage_error(wsload::detail::quoted(text) + " is not a supported URL: " +
                      std::string(why) + " (use ws://host:port/path or wss://...)");
}

inline char to_lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; }
inline bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
inline bool is_alpha(char c) noexcept { return to_lower(c) >= 'a' && to_lower(c) <= 'z'; }
inline bool is_hex(char c) noexcept
{
    return is_digit(c) || (to_lower(c) >= 'a' && to_lower(c) <= 'f');
}

// Decimal 0..max without sign or leading '+'; false on anything else or overflow.
inline bool parse_number(std::string_view s, std::uint32_t max, std::uint32_t& out) noexcept
{
    if (s.empty() || s.size() > 10) return false;
    std::uint64_t v = 0;
    for (char c : s) {
        if (!is_digit(c)) return false;
        v = v * 10 + std::uint64_t(c - '0');
    }
    if (v > max) return false;
    out = std::uint32_t(v);
    return true;
}

inline bool is_ipv4(std::string_view s) noexcept
{
    for (int part = 0; part < 4; ++part) {
        const auto dot = s.find('.');
        if ((part < 3) == (dot == std::string_view::npos)) return false;
        const std::string_view digits = s.substr(0, dot);
        std::uint32_t v = 0;
        if (digits.size() > 3 || !parse_number(digits, 255, v)) return false;
        s.remove_prefix(part < 3 ? dot + 1 : s.size());
    }
    return true;
}

// RFC 4291 text form: up to 8 groups of 1-4 hex digits, one "::" at most, and an optional
// trailing dotted IPv4 worth two groups. Zone ids ("%25eth0") are not supported.
inline bool is_ipv6(std::string_view s) noexcept
{
    const auto gap = s.find("::");
    if (gap != std::string_view::npos && s.find("::", gap + 1) != std::string_view::npos)
        return false;
    int groups = 0;
    auto count_groups = [&](std::string_view part, bool ipv4_allowed) {
        while (!part.empty()) {
            const auto colon = part.find(':');
            const std::string_view g = part.substr(0, colon);
            if (colon == std::string_view::npos && ipv4_allowed && is_ipv4(g)) {
                groups += 2;
                return true;
            }
            if (g.empty() || g.size() > 4) return false;
            for (char c : g)
                if (!is_hex(c)) return false;
            ++groups;
            if (colon == std::string_view::npos) break;
            part.remove_prefix(colon + 1);
            if (part.empty()) return false; // trailing single ':'
        }
        return true;
    };
    if (gap == std::string_view::npos) return count_groups(s, true) && groups == 8;
    return count_groups(s.substr(0, gap), false) && count_groups(s.substr(gap + 2), true) &&
           groups <= 7;
}

} // namespace detail

/// Parses `ws://host:port/path?query` and the like (schemes ws, wss, http, https, tcp, tls;
/// host a name, IPv4 or [IPv6]; ports default to 80/443, tcp needs one). Throws usage_error
/// naming what was wrong; user info (`user@`) and non-ASCII bytes are refused.
inline url parse_url(std::string_view text)
{
    using namespace detail;
    for (char c : text) {
        const auto u = static_cast<unsigned char>(c);
        if (u <= 0x20 || u == 0x7f) throw_bad_url(text, "it contains a space or control character");
        if (u >= 0x80) throw_bad_url(text, "it contains a non-ASCII character (percent-encode it)");
    }
    const auto sep = text.find("://");
    const std::string_view scheme = text.substr(0, sep);
    bool valid_scheme = sep != std::string_view::npos && !scheme.empty() && is_alpha(scheme[0]);
    for (char c : scheme)
        valid_scheme =
            valid_scheme && (is_alpha(c) || is_digit(c) || c == '+' || c == '-' || c == '.');
    if (!valid_scheme) throw_bad_url(text, "it does not start with a scheme such as ws://");

    url out;
    for (char c : scheme) out.scheme += to_lower(c);
    const scheme_info* info = find_scheme(out.scheme);
    if (!info)
        throw_bad_url(text,
                      "scheme \"" + out.scheme + "\" is not one of ws, wss, http, https, tcp, tls");
    out.tls = info->tls;

    std::string_view rest = text.substr(sep + 3);
    const auto authority_end = rest.find_first_of("/?#");
    std::string_view authority = rest.substr(0, authority_end);
    rest.remove_prefix(authority.size());
    if (authority.find('@') != std::string_view::npos)
        throw_bad_url(text, "user info (user@host) is not supported");

    std::string_view host;
    if (!authority.empty() && authority.front() == '[') {
        const auto close = authority.find(']');
        if (close == std::string_view::npos)
            throw_bad_url(text, "'[' opens an IPv6 address that ']' does not close");
        host = authority.substr(1, close - 1);
        if (!is_ipv6(host))
            throw_bad_url(text, "\"" + std::string(host) + "\" is not an IPv6 address");
        authority.remove_prefix(close + 1);
        if (!authority.empty() && authority.front() != ':')
            throw_bad_url(text, "unexpected text after the IPv6 address");
    } else {
        host = authority.substr(0, authority.find(':'));
        authority.remove_prefix(host.size());
        if (host.empty()) throw_bad_url(text, "the host is empty");
        bool numeric = true;
        for (char c : host) {
            if (!(is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_'))
                throw_bad_url(text, "'" + std::string(1, c) + "' is not allowed in a host name");
            numeric = numeric && (is_digit(c) || c == '.');
        }
        if (numeric && !is_ipv4(host))
            throw_bad_url(text, "\"" + std::string(host) + "\" is not an IPv4 address");
    }
    for (char c : host) out.host += to_lower(c);

    if (authority.empty()) {
        if (info->default_port == 0)
            throw_bad_url(text,
                          out.scheme + ":// needs a port, as in " + out.scheme + "://host:9000");
        out.port = info->default_port;
    } else {
        std::uint32_t port = 0;
        const std::string_view digits = authority.substr(1);
        if (!parse_number(digits, 65535, port) || port == 0)
            throw_bad_url(text,
                          "port \"" + std::string(digits) + "\" is not a number from 1 to 65535");
        out.port = static_cast<std::uint16_t>(port);
    }

    rest = rest.substr(0, rest.find('#'));
    out.target =
        (rest.empty() || rest.front() != '/') ? "/" + std::string(rest) : std::string(rest);
    return out;
}

/// `text` percent-encoded for a query (RFC 3986 section 2): every byte but the unreserved
/// ALPHA, DIGIT, '-', '.', '_' and '~' becomes %XX (upper-case hex); a space is %20.
inline std::string percent_encode(std::string_view text)
{
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(text.size());
    for (const char c : text) {
        if (detail::is_alpha(c) || detail::is_digit(c) || c == '-' || c == '.' || c == '_' || c == '~') {
            out += c;
        } else {
            const auto u = static_cast<unsigned char>(c);
            out += '%';
            out += hex[u >> 4];
            out += hex[u & 0xf];
        }
    }
    return out;
}

/// Appends `parameters` (`a=1&b=2`, already encoded) to the query of `target`, after the
/// parameters it has: `/ws` -> `/ws?a=1&b=2`, `/ws?room=7` -> `/ws?room=7&a=1&b=2`.
inline void append_query(std::string& target, std::string_view parameters)
{
    if (parameters.empty()) return;
    const auto query = target.find('?');
    if (query == std::string::npos) target += '?';
    else if (query + 1 != target.size() && target.back() != '&') target += '&';
    target += parameters;
}

inline std::string url::host_header() const
{
    std::string out = host.find(':') != std::string::npos ? "[" + host + "]" : host;
    const auto* info = detail::find_scheme(scheme);
    if (!info || info->default_port != port) out += ":" + std::to_string(port);
    return out;
}

inline std::string url::to_string() const
{
    // Raw TCP has no path: tcp://host:9000 reads back as itself.
    const bool stream_only = (scheme == "tcp" || scheme == "tls") && target == "/";
    return scheme + "://" + host_header() + (stream_only ? std::string() : target);
}

} // namespace wsload::net
