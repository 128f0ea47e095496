#pragma once
// Definitions of net/http/client.hpp: inline in a header-only build, compiled once
// (impl/src.hpp) with WSLOAD_SEPARATE_COMPILATION.

#include <wsload/core/error.hpp>
#include <wsload/core/log.hpp>
#include <wsload/net/detail/request_accounting.hpp>
#include <wsload/net/header.hpp>
#include <wsload/net/http/client.hpp>
#include <wsload/net/http/detail/http_session.hpp>
#include <wsload/net/io_thread.hpp>

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/field.hpp>

#include <algorithm>
#include <optional>
#include <vector>

namespace wsload::http {

namespace detail {

/// A request target must be printable ASCII without spaces: anything else would break the
/// request line (or smuggle a header in).
inline void check_target(std::string_view target)
{
    for (const char c : target)
        if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f)
            throw usage_error("HTTP request path " + wsload::detail::quoted(target) +
                              " holds a space, a control character or a non-ASCII byte: percent-encode it");
}

using net::check_header;  // the HTTP client's own name for it (net/header.hpp)

/// The reference starts with a scheme (RFC 3986 section 3.1: ALPHA *( ALPHA / DIGIT / "+" / "-"
/// / "." ) ":"): it is a whole URL, whatever its scheme, never a relative path.
inline bool has_scheme(std::string_view s) noexcept
{
    const auto colon = s.find(':');
    if (colon == 0 || colon == std::string_view::npos) return false;
    const auto alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
    if (!alpha(s[0])) return false;
    return std::all_of(s.begin() + 1, s.begin() + static_cast<std::ptrdiff_t>(colon), [&](char c) {
        return alpha(c) || (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.';
    });
}

/// The path of `target` with its "." and ".." segments resolved (RFC 3986 section 5.2.4); the
/// query is kept as it is. ".." never climbs above the root.
inline std::string remove_dot_segments(std::string_view target)
{
    const auto query_at = target.find('?');
    const std::string_view path = target.substr(0, query_at);
    if (path.find("/.") == std::string_view::npos) return std::string(target);
    std::vector<std::string_view> kept;
    std::size_t at = 1;  // past the leading '/'
    bool ends_in_directory = false;
    while (at <= path.size()) {
        const auto slash = path.find('/', at);
        const auto segment = path.substr(at, slash == std::string_view::npos ? std::string_view::npos : slash - at);
        const bool last = slash == std::string_view::npos;
        if (segment == "..") {
            if (!kept.empty()) kept.pop_back();
            ends_in_directory = last;
        } else if (segment == ".") {
            ends_in_directory = last;
        } else {
            kept.push_back(segment);
            ends_in_directory = false;
        }
        if (last) break;
        at = slash + 1;
    }
    std::string out;
    for (const auto segment : kept) {
        out += '/';
        out += segment;
    }
    if (out.empty() || ends_in_directory) out += '/';
    if (query_at != std::string_view::npos) out += target.substr(query_at);
    return out;
}

/// `path` against `base` (RFC 3986 section 5.2, the cases a behaviour or a Location header
/// meets): a whole URL, a scheme-relative `//host/path`, an absolute path, a query, or a path
/// relative to the base's directory. A URL of another scheme (ws://, ftp:) is a usage_error.
inline net::url resolve(const net::url& base, std::string_view path)
{
    net::url u;
    if (has_scheme(path)) {
        u = net::parse_url(path);
    } else if (path.starts_with("//")) {
        u = net::parse_url(base.scheme + ":" + std::string(path));
    } else {
        u = base;
        const std::string_view base_path = std::string_view(base.target).substr(0, base.target.find('?'));
        if (path.empty()) {
        } else if (path[0] == '/') {
            u.target = std::string(path);
        } else if (path[0] == '?') {
            u.target = std::string(base_path) + std::string(path);
        } else {
            u.target = std::string(base_path.substr(0, base_path.rfind('/') + 1)) + std::string(path);
        }
        if (u.target.empty() || u.target[0] != '/') u.target.insert(0, "/");
    }
    if (u.scheme != "http" && u.scheme != "https") net::throw_wrong_scheme(u, "HTTP", "http:// and https://");
    const auto hash = u.target.find('#');
    if (hash != std::string::npos) u.target.erase(hash);
    u.target = remove_dot_segments(u.target);
    check_target(u.target);
    return u;
}

inline bool is_redirect(unsigned status) noexcept
{
    return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

/// Methods a request may be sent again for on a new connection when a kept-alive one turned
/// out closed before any reply (RFC 9110 section 9.2.2: idempotent); a POST is not repeated.
inline bool idempotent(verb m) noexcept
{
    return m == verb::get || m == verb::head || m == verb::put || m == verb::delete_ || m == verb::options;
}

}  // namespace detail

struct client::state {
    struct origin_connection {
        bool tls;
        std::uint16_t port;
        std::string host;
        std::shared_ptr<net::detail::http_session> session;
        bool serves(const net::url& u) const noexcept { return port == u.port && tls == u.tls && host == u.host; }
    };

    net::connection_owner* owner;
    net::url base;
    options settings;
    std::vector<std::pair<std::string, std::string>> headers;  ///< sent with every request
    cookie_jar jar;
    std::vector<origin_connection> connections;

    state(net::connection_owner& o, net::url b, options s)
        : owner(&o), base(std::move(b)), settings(std::move(s)), headers(o.thread().settings().headers)  // --header
    {
        for (const auto& [name, value] : settings.headers()) set_header(name, value);
    }
    ~state() { close(); }

    void set_header(std::string_view name, std::string_view value)
    {
        detail::check_header(name, value);
        std::erase_if(headers, [&](const auto& h) { return boost::beast::iequals(h.first, name); });
        headers.emplace_back(std::string(name), std::string(value));
    }

    void close() noexcept
    {
        for (auto& c : connections) c.session->close_as(stats::disconnect_reason::client_close);
        connections.clear();
    }

    /// The open connection to `u`'s origin: the kept one if the server has not closed it,
    /// else a new one (the attempt counted by the connection core). Null when it failed.
    task<std::shared_ptr<net::detail::http_session>> connection_for(const net::url& u)
    {
        for (auto it = connections.begin(); it != connections.end(); ++it) {
            if (!it->serves(u)) continue;
            if (it->session->usable()) co_return it->session;
            connections.erase(it);
            break;
        }
        auto session = std::make_shared<net::detail::http_session>(owner->thread());
        owner->connections().link(*session);
        if (owner->traced()) session->trace_as(owner->trace_tag());
        if (!co_await session->connect(u)) co_return nullptr;
        connections.push_back({u.tls, u.port, u.host, session});
        co_return session;
    }

    /// The request's header block.
    std::string head(verb method, const net::url& u, const body& b, const request_options& o)
    {
        const auto given = [&](std::string_view name) {
            return std::any_of(o.headers.begin(), o.headers.end(),
                               [&](const header& h) { return boost::beast::iequals(h.name, name); });
        };
        std::string h;
        h.reserve(256);
        h += boost::beast::http::to_string(method);
        h += ' ';
        h += u.target;
        h += " HTTP/1.1\r\nHost: ";
        h += u.host_header();
        h += "\r\n";
        const auto line = [&h](std::string_view name, std::string_view value) {
            h += name;
            h += ": ";
            h += value;
            h += "\r\n";
        };
        if (!given("User-Agent") && std::none_of(headers.begin(), headers.end(), [](const auto& x) {
                return boost::beast::iequals(x.first, "User-Agent");
            }))
            line("User-Agent", "wsload");
        // The client's Cookie header (--header, options::header) and the jar's cookies go as
        // one line (RFC 6265 section 5.4: a request carries one Cookie header).
        std::string cookie;
        for (const auto& [name, value] : headers) {
            if (given(name)) continue;
            if (boost::beast::iequals(name, "Cookie")) cookie = value;
            else line(name, value);
        }
        for (const auto& x : o.headers) {
            detail::check_header(x.name, x.value);
            line(x.name, x.value);
        }
        if (settings.cookies() && !given("Cookie")) {
            const auto kept = jar.header_for(u.host, u.target, u.tls);
            if (!kept.empty()) cookie += (cookie.empty() ? "" : "; ") + kept;
        }
        if (!cookie.empty()) line("Cookie", cookie);
        if (b) {
            if (!given("Content-Type")) line("Content-Type", b.content_type());
            line("Content-Length", std::to_string(b.size()));
        } else if (method == verb::post || method == verb::put || method == verb::patch) {
            line("Content-Length", "0");
        }
        h += "\r\n";
        return h;
    }
};

WSLOAD_DECL client::client(net::connection_owner& owner, options o)
    : state_(std::make_unique<state>(owner, owner.target(), std::move(o)))
{
    if (state_->base.scheme != "http" && state_->base.scheme != "https")
        net::throw_wrong_scheme(state_->base, "HTTP", "http:// and https://");
}

WSLOAD_DECL client::client(net::connection_owner& owner, std::string_view base_url, options o)
    : state_(std::make_unique<state>(owner, net::parse_url(base_url), std::move(o)))
{
    if (state_->base.scheme != "http" && state_->base.scheme != "https")
        net::throw_wrong_scheme(state_->base, "HTTP", "http:// and https://");
}

WSLOAD_DECL client::client(client&&) noexcept = default;
WSLOAD_DECL client& client::operator=(client&&) noexcept = default;
WSLOAD_DECL client::~client() = default;

WSLOAD_DECL void client::set_header(std::string_view name, std::string_view value)
{
    state_->set_header(name, value);
}
WSLOAD_DECL cookie_jar& client::cookies() noexcept { return state_->jar; }
WSLOAD_DECL const net::url& client::base() const noexcept { return state_->base; }
WSLOAD_DECL void client::close() { state_->close(); }

WSLOAD_DECL task<response> client::post_json(std::string_view path, const boost::json::value& v, request_options o)
{
    return send(verb::post, path, body::json(v), o);
}

WSLOAD_DECL task<response> client::send(verb method, std::string_view path, body b, request_options o)
{
    auto& st = *state_;
    net::url u = detail::resolve(st.base, path);
    // Unnamed requests are named by their path (without the query): `GET /api/lessons`.
    const std::string name = o.name.empty() ? u.target.substr(0, u.target.find('?')) : std::string(o.name);
    const auto timeout = o.timeout.count() > 0 ? o.timeout : st.settings.timeout();
    auto start = net::detail::send_time(st.owner->thread().stats(), o.intended_at);
    response r;
    unsigned hops = 0;
    for (;;) {
        auto& shard = st.owner->thread().stats();
        net::detail::request_accounting figures(
            shard, net::detail::named_figures(shard, boost::beast::http::to_string(method), name));
        figures.sent();
        const auto head = st.head(method, u, b, o);
        auto session = co_await st.connection_for(u);
        if (!session) {
            figures.failed(stats::request_failure::not_connected);
            r.failure = stats::request_failure::not_connected;
            co_return r;
        }
        const bool reused = session->exchanges() > 0;
        auto x = co_await session->exchange(head, b.source(), st.settings.max_body_bytes(), method == verb::head,
                                            start, timeout);
        // A kept-alive connection the server had closed before our request reached it: the same
        // request once more on a new connection (not counted twice), when it may be repeated.
        if (x.result == net::detail::http_exchange::outcome::failed && x.nothing_came_back && reused &&
            !x.behaviour_error && detail::idempotent(method) && (!b || b.source()->rewind()) &&
            (x.failure == stats::request_failure::closed || x.failure == stats::request_failure::reset)) {
            session = co_await st.connection_for(u);
            if (!session) {
                figures.failed(stats::request_failure::not_connected);
                r.failure = stats::request_failure::not_connected;
                co_return r;
            }
            x = co_await session->exchange(head, b.source(), st.settings.max_body_bytes(), method == verb::head, start,
                                           timeout);
        }
        r.upload_time = x.upload_time;
        r.uploaded_bytes = x.uploaded;
        if (x.behaviour_error) {
            figures.failed(stats::request_failure::other);
            std::rethrow_exception(x.behaviour_error);
        }
        if (x.result == net::detail::http_exchange::outcome::timed_out) {
            figures.timed_out();
            r.timed_out = true;
            co_return r;
        }
        if (x.result == net::detail::http_exchange::outcome::failed) {
            figures.failed(x.failure);
            r.failure = x.failure;
            co_return r;
        }

        const unsigned status = x.message.result_int();
        shard.count_http_response(status);
        if (st.settings.cookies())
            for (auto [it, end] = x.message.equal_range(boost::beast::http::field::set_cookie); it != end; ++it)
                st.jar.set(it->value(), u.host, u.target);
        const auto round_trip = net::detail::request_accounting::elapsed_ns(start);
        const auto location = x.message[boost::beast::http::field::location];
        if (detail::is_redirect(status) && !location.empty() && st.settings.max_redirects() > 0) {
            const bool keeps_body = status == 307 || status == 308;
            // A Location that is no http(s) URL to send to (another scheme, a space) is the
            // server's fault, not the behaviour's usage error: it is not followed.
            std::optional<net::url> next;
            try {
                next = detail::resolve(u, location);
            } catch (const usage_error&) {
            }
            if (next && hops < st.settings.max_redirects() && (!keeps_body || !b || b.source()->rewind())) {
                figures.answered(round_trip);  // this hop was answered; the next is a request of its own
                ++hops;
                u = std::move(*next);
                if (!keeps_body && method != verb::head) {
                    method = verb::get;
                    b = body();
                }
                start = clock::now();
                continue;
            }
            // Still redirected after the last hop allowed (a loop), or to nowhere: the request failed.
            if (log_enabled(log_level::debug))
                log(log_level::debug, next ? "HTTP: more than " + std::to_string(st.settings.max_redirects()) +
                                                 " redirects for " + name
                                           : "HTTP: a redirect for " + name + " to " +
                                                 wsload::detail::quoted(location) + ", not an http(s) URL");
            figures.rejected();
        } else {
            r.ok = o.expect ? status == o.expect : status < 400;
            if (r.ok) figures.answered(round_trip);
            else figures.rejected();
        }
        r.status = status;
        r.elapsed = std::chrono::nanoseconds(round_trip);
        r.body = std::move(x.message.body().text);
        r.headers = std::move(static_cast<boost::beast::http::fields&>(x.message));
        co_return r;
    }
}

}  // namespace wsload::http
