#pragma once
// An HTTP/1.1 client a behaviour holds: `wsload::http::client api(u, "http://127.0.0.1:8080");`
// then `auto r = co_await api.post("/api/login", http::body::json(...), {.name = "login"});`.
// Every request is recorded as exactly as a WebSocket one: by (method, name), its status code
// counted per code, and an outcome in exactly one of answered, rejected (a status it did not
// expect: by default 400 and above), timed out or failed (in its class). Connections are the
// shared connection core's (net/detail/connection_base.hpp): attempts, phases, failure classes
// and ends are counted as for every transport. Declarations only where the layer is compiled
// once (see detail/config.hpp).

#include <wsload/core/task.hpp>
#include <wsload/detail/config.hpp>
#include <wsload/net/connection_owner.hpp>
#include <wsload/net/http/body.hpp>
#include <wsload/net/http/cookie_jar.hpp>
#include <wsload/net/http/options.hpp>
#include <wsload/net/http/response.hpp>
#include <wsload/net/url.hpp>

#include <boost/beast/http/verb.hpp>
#include <boost/json/fwd.hpp>

#include <memory>
#include <string>
#include <string_view>

namespace wsload::http {

using verb = boost::beast::http::verb;

/// One user's HTTP client: a cookie jar, default headers, and one keep-alive connection per
/// origin (scheme, host, port), opened at the first request and opened again (counted) when the
/// server closed it. Requests of one client go one at a time per origin, in the order made.
/// Use it from its owner's coroutine only. Dropping it closes its connections (client_close).
class client {
public:
    /// Requests go to the run's --target (http:// or https://), or to `base_url`; a request's
    /// path is relative to it, or a whole URL of its own.
    WSLOAD_DECL explicit client(net::connection_owner& owner, options o = {});
    WSLOAD_DECL client(net::connection_owner& owner, std::string_view base_url, options o = {});
    WSLOAD_DECL client(client&&) noexcept;
    WSLOAD_DECL client& operator=(client&&) noexcept;
    WSLOAD_DECL ~client();

    task<response> get(std::string_view path, request_options o = {}) { return send(verb::get, path, body(), o); }
    task<response> head(std::string_view path, request_options o = {}) { return send(verb::head, path, body(), o); }
    task<response> del(std::string_view path, request_options o = {}) { return send(verb::delete_, path, body(), o); }
    task<response> post(std::string_view path, body b, request_options o = {})
    {
        return send(verb::post, path, std::move(b), o);
    }
    task<response> put(std::string_view path, body b, request_options o = {})
    {
        return send(verb::put, path, std::move(b), o);
    }
    task<response> patch(std::string_view path, body b, request_options o = {})
    {
        return send(verb::patch, path, std::move(b), o);
    }
    /// `post(path, body::json(v))`.
    WSLOAD_DECL task<response> post_json(std::string_view path, const boost::json::value& v, request_options o = {});

    /// Any method. The body's size is sent as Content-Length; a file or generated body is read
    /// while it is sent, never held whole.
    WSLOAD_DECL task<response> send(verb method, std::string_view path, body b, request_options o = {});

    /// A header sent with every later request (replaces one of the same name).
    WSLOAD_DECL void set_header(std::string_view name, std::string_view value);
    /// `Authorization: Bearer <token>` on every later request.
    void bearer(std::string_view token) { set_header("Authorization", "Bearer " + std::string(token)); }
    WSLOAD_DECL cookie_jar& cookies() noexcept;
    WSLOAD_DECL const net::url& base() const noexcept;

    /// Closes every connection (client_close); the next request opens a new one.
    WSLOAD_DECL void close();

private:
    struct state;
    std::unique_ptr<state> state_;
};

}  // namespace wsload::http

#if !defined(WSLOAD_SEPARATE_COMPILATION)
#include <wsload/net/http/impl/client.ipp>
#endif
