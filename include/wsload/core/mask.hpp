#pragma once
// Secrets out of log lines: what a logged message, header block or URL would show of a
// credential is replaced by `***`. Pure functions over bytes; anything malformed or cut short
// (a message truncated for the log) is masked conservatively: to its end.

#include <cctype>
#include <cstddef>
#include <string>
#include <string_view>

namespace wsload {

namespace detail {

inline bool iequal(std::string_view a, std::string_view b) noexcept
{
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
    return true;
}

inline bool iends_with(std::string_view text, std::string_view tail) noexcept
{
    return text.size() >= tail.size() && iequal(text.substr(text.size() - tail.size()), tail);
}

}  // namespace detail

/// Whether a JSON field or URL query parameter named `name` holds a secret: token,
/// access_token, refresh_token, password, passwd, secret, api_key, apikey, authorization (any
/// case), and names that end in one of token, secret, password, passwd, api_key, apikey
/// (`sessionToken`, `client_secret`).
inline bool is_secret_name(std::string_view name) noexcept
{
    using detail::iends_with;
    return iends_with(name, "token") || iends_with(name, "secret") || iends_with(name, "password") ||
           iends_with(name, "passwd") || iends_with(name, "api_key") || iends_with(name, "apikey") ||
           detail::iequal(name, "authorization");
}

namespace detail {

/// The header lines whose whole value is a credential: Authorization, Proxy-Authorization,
/// Cookie, Set-Cookie, and names that is_secret_name takes with '-' read as '_' (X-Auth-Token,
/// X-Api-Key).
inline bool is_secret_header(std::string_view name) noexcept
{
    if (iequal(name, "Authorization") || iequal(name, "Proxy-Authorization") || iequal(name, "Cookie") ||
        iequal(name, "Set-Cookie"))
        return true;
    if (name.size() > 64) return false;  // no header name a credential goes by is longer
    char underscored[64];
    for (std::size_t i = 0; i < name.size(); ++i) {
        if (name[i] == ' ' || name[i] == '\t') return false;  // prose ("your token: ..."), not a header
        underscored[i] = name[i] == '-' ? '_' : name[i];
    }
    return is_secret_name({underscored, name.size()});
}

/// `Name: value` lines (at the start of `text` or after a line break) of a secret header: the
/// value up to the line's end becomes `***`.
inline std::string mask_header_lines(std::string_view text)
{
    std::string out;
    out.reserve(text.size());
    std::size_t i = 0;
    while (i < text.size()) {
        const auto end = std::min(text.find('\n', i), text.size());
        auto line = text.substr(i, end - i);
        const auto colon = line.find(':');
        if (colon != std::string_view::npos && is_secret_header(line.substr(0, colon))) {
            out.append(line.substr(0, colon + 1));
            out += line.ends_with('\r') ? " ***\r" : " ***";
        } else {
            out.append(line);
        }
        if (end < text.size()) out += '\n';
        i = end + 1;
    }
    return out;
}

/// JSON string fields (at any depth) whose name is_secret_name: `"token": "abc"` ->
/// `"token": "***"`. A value that is not a string (a number) is masked up to the next `,` `}`
/// `]` or line break; one that never ends (a truncated message) is masked to the end.
inline std::string mask_json_fields(std::string_view text)
{
    std::string out;
    out.reserve(text.size());
    std::size_t i = 0;
    // The end of the string token starting at the quote `at` (one past its closing quote), or npos.
    const auto string_end = [&](std::size_t at) {
        for (std::size_t j = at + 1; j < text.size(); ++j) {
            if (text[j] == '\\') ++j;
            else if (text[j] == '"') return j + 1;
        }
        return std::string_view::npos;
    };
    const auto skip_space = [&](std::size_t j) {
        while (j < text.size() && (text[j] == ' ' || text[j] == '\t' || text[j] == '\r' || text[j] == '\n')) ++j;
        return j;
    };
    while (i < text.size()) {
        const auto quote = text.find('"', i);
        if (quote == std::string_view::npos) break;
        const auto end = string_end(quote);
        if (end == std::string_view::npos) break;  // an unterminated string is data, not a name: kept
        const auto colon = skip_space(end);
        if (colon >= text.size() || text[colon] != ':' || !is_secret_name(text.substr(quote + 1, end - quote - 2))) {
            out.append(text.substr(i, end - i));
            i = end;
            continue;
        }
        const auto value = skip_space(colon + 1);
        out.append(text.substr(i, value - i));
        if (value >= text.size()) return out + "***";  // cut right after the colon
        if (text[value] == '"') {
            const auto value_end = string_end(value);
            out += "\"***";
            if (value_end == std::string_view::npos) return out;  // cut inside the secret
            out += '"';
            i = value_end;
        } else {
            auto value_end = text.find_first_of(",}]\r\n", value);
            if (value_end == std::string_view::npos) value_end = text.size();
            out += "***";
            i = value_end;
        }
    }
    out.append(text.substr(std::min(i, text.size())));
    return out;
}

/// URL query (or form) parameters whose name is_secret_name: `?token=abc&x=1` ->
/// `?token=***&x=1`. A parameter starts after `?` or `&`; its value ends at `&`, `#`, a
/// quote, a space or a line break.
inline std::string mask_query_parameters(std::string_view text)
{
    std::string out;
    out.reserve(text.size());
    std::size_t i = 0;
    while (i < text.size()) {
        const auto start = text.find_first_of("?&", i);
        if (start == std::string_view::npos) break;
        out.append(text.substr(i, start + 1 - i));
        i = start + 1;
        const auto equals = text.find_first_of("=&?# \"\r\n", i);
        if (equals == std::string_view::npos || text[equals] != '=' || !is_secret_name(text.substr(i, equals - i)))
            continue;
        out.append(text.substr(i, equals + 1 - i));
        out += "***";
        i = std::min(text.find_first_of("&# \"'\r\n", equals + 1), text.size());
    }
    out.append(text.substr(std::min(i, text.size())));
    return out;
}

}  // namespace detail

/// `text` with every secret it shows replaced by `***`: the values of Authorization,
/// Proxy-Authorization, Cookie and Set-Cookie header lines, JSON fields with a secret name
/// (is_secret_name, nested too) and URL query parameters with one. Never throws on malformed
/// input (but may throw std::bad_alloc).
inline std::string mask_secrets(std::string_view text)
{
    // Cheap test first: most messages name no secret at all and come back as they are.
    bool may_hold = false;
    for (const char c : text)
        if (c == ':' || c == '=') {
            may_hold = true;
            break;
        }
    if (!may_hold) return std::string(text);
    return detail::mask_query_parameters(detail::mask_json_fields(detail::mask_header_lines(text)));
}

}  // namespace wsload
