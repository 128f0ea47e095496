#pragma once
// What a WebSocket upgrade request carries besides what the handshake owns: headers of the
// user's (Authorization, Origin, anything), query parameters (a token in the URL), cookies (given,
// or those an HTTP client's jar holds for the URL). Checked as they are given; turned into the
// request's extra header lines and target when a connection is opened, in the connecting
// coroutine: an open connection keeps none of it.

#include <wsload/core/error.hpp>
#include <wsload/net/header.hpp>
#include <wsload/net/http/cookie_jar.hpp>
#include <wsload/net/url.hpp>

#include <boost/beast/core/string.hpp>

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

namespace wsload::net {

/// Throws usage_error unless `name: value` may be added to a WebSocket upgrade: check_header's
/// rules, and not a header the handshake sets itself (Host, Upgrade, Connection, the
/// Sec-WebSocket-* ones; Sec-WebSocket-Protocol comes from the subprotocol option) nor a body's
/// (the upgrade is a GET without one).
inline void check_upgrade_header(std::string_view name, std::string_view value)
{
    check_header(name, value);
    using boost::beast::iequals;
    if (iequals(name, "Sec-WebSocket-Protocol"))
        throw usage_error(wsload::detail::quoted(name) +
                          " is set by the WebSocket handshake: ask for a subprotocol with .subprotocol(\"name\")");
    for (const std::string_view owned : {"Host", "Upgrade", "Connection", "Sec-WebSocket-Key", "Sec-WebSocket-Version",
                                         "Sec-WebSocket-Accept", "Sec-WebSocket-Extensions", "Content-Length",
                                         "Transfer-Encoding"})
        if (iequals(name, owned))
            throw usage_error(wsload::detail::quoted(name) + " is set by the WebSocket handshake itself and cannot be given");
}

/// Throws usage_error unless `name=value` is a cookie a Cookie header can carry (RFC 6265
/// section 4.1.1, loosely: a token for a name, a value without control bytes or ';').
inline void check_cookie(std::string_view name, std::string_view value)
{
    if (!is_http_token(name)) throw usage_error(wsload::detail::quoted(name) + " is not a valid cookie name");
    for (const char c : value)
        if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) == 0x7f || c == ';')
            throw usage_error("the value of cookie " + wsload::detail::quoted(name) +
                              " holds a control byte or ';' (percent-encode it)");
}

/// The cookies of a Cookie header value, `a=1; b=2`, as they come (not checked).
inline std::vector<header_field> split_cookies(std::string_view value)
{
    std::vector<header_field> out;
    while (!value.empty()) {
        const auto semicolon = value.find(';');
        const auto item = trim_ows(value.substr(0, semicolon));
        value = semicolon == std::string_view::npos ? std::string_view{} : value.substr(semicolon + 1);
        if (item.empty()) continue;
        const auto equals = item.find('=');
        out.emplace_back(std::string(item.substr(0, equals)),
                         equals == std::string_view::npos ? std::string() : std::string(item.substr(equals + 1)));
    }
    return out;
}

/// A WebSocket upgrade's extras, added one by one (each checked as it is given, throwing
/// usage_error), then applied to a connection's URL and header lines.
class upgrade_extras {
public:
    upgrade_extras() {}  // not an aggregate: see websocket_options

    /// A header line, sent after the handshake's own, in the order given (a name may repeat:
    /// see for_each_added_field for where its lines go).
    /// `Cookie` adds its cookies to cookie()'s; `Origin` is origin().
    void header(std::string_view name, std::string_view value)
    {
        check_upgrade_header(name, value);
        if (boost::beast::iequals(name, "Cookie")) {
            for (const auto& [n, v] : split_cookies(value)) cookie(n, v);
        } else if (boost::beast::iequals(name, "Origin")) {
            origin(value);
        } else {
            headers_.emplace_back(std::string(name), std::string(value));
        }
    }
    /// The Origin header (a second call replaces the first).
    void origin(std::string_view value)
    {
        check_header("Origin", value);
        const auto it = std::find_if(headers_.begin(), headers_.end(),
                                     [](const header_field& h) { return boost::beast::iequals(h.first, "Origin"); });
        if (it == headers_.end()) headers_.emplace_back("Origin", std::string(value));
        else it->second = std::string(value);
    }
    /// A query parameter, percent-encoded, appended to the URL's query.
    void query(std::string_view name, std::string_view value)
    {
        if (name.empty()) throw usage_error("a query parameter needs a name");
        if (!query_.empty()) query_ += '&';
        query_ += percent_encode(name);
        query_ += '=';
        query_ += percent_encode(value);
    }
    /// A cookie of the one Cookie header (a later cookie of the same name replaces it).
    void cookie(std::string_view name, std::string_view value)
    {
        check_cookie(name, value);
        add_cookie(cookies_, name, value);
    }
    /// Also sends the cookies `jar` holds for the connection's URL (host, path, wss or not),
    /// read when the connection is opened: the jar must outlive that co_await.
    void cookies_from(http::cookie_jar& jar) noexcept { jar_ = &jar; }

    /// `u` with the query parameters appended to its target's query.
    void apply_query(url& u) const { append_query(u.target, query_); }

    /// The extra header lines of an upgrade to `u`: the run-wide headers (`--header`) no header
    /// here names, then these headers in order, then one Cookie line with the run-wide Cookie's
    /// cookies, the jar's for `u`, and these cookies (a later cookie of a name replaces an
    /// earlier one). Run-wide headers are checked where they were given.
    std::vector<header_field> lines(const std::vector<header_field>& run_wide, const url& u) const
    {
        std::vector<header_field> out;
        std::vector<header_field> cookies;
        for (const auto& h : run_wide) {
            if (boost::beast::iequals(h.first, "Cookie")) {
                for (const auto& [n, v] : split_cookies(h.second)) add_cookie(cookies, n, v);
            } else if (!names_header(headers_, h.first)) {
                out.push_back(h);
            }
        }
        out.insert(out.end(), headers_.begin(), headers_.end());
        if (jar_)
            for (const auto& [n, v] : split_cookies(jar_->header_for(u.host, u.target, u.tls))) add_cookie(cookies, n, v);
        for (const auto& [n, v] : cookies_) add_cookie(cookies, n, v);
        if (!cookies.empty()) {
            std::string line;
            for (const auto& [n, v] : cookies) {
                if (!line.empty()) line += "; ";
                line += n;
                line += '=';
                line += v;
            }
            out.emplace_back("Cookie", std::move(line));
        }
        return out;
    }

private:
    static void add_cookie(std::vector<header_field>& cookies, std::string_view name, std::string_view value)
    {
        std::erase_if(cookies, [&](const header_field& c) { return c.first == name; });
        cookies.emplace_back(std::string(name), std::string(value));
    }

    std::vector<header_field> headers_;  ///< in the order given; Cookie lines are in cookies_
    std::vector<header_field> cookies_;
    std::string query_;  ///< `a=1&b=2`, encoded
    http::cookie_jar* jar_ = nullptr;
};

}  // namespace wsload::net
