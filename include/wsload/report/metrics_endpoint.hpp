#pragma once
// The HTTP endpoint Prometheus scrapes (`--metrics-listen HOST:PORT`): a minimal HTTP/1.1 server
// on a thread of its own that answers GET /metrics with what it is given to render, and the
// routes it is given besides (the live control, which dsl/ wires to the engine: report/ knows
// no engine).

#include <wsload/core/error.hpp>
#include <wsload/core/log.hpp>
#include <wsload/core/task.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <fcntl.h>

#include <chrono>
#include <charconv>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace wsload::report {

/// A request to one of the endpoint's routes, as its handler sees it (views into the request,
/// valid during the call).
struct http_call {
    std::string_view method;  ///< "GET", "POST"
    std::string_view path;    ///< without the query
    std::string_view query;   ///< after '?', as sent (not decoded)
    std::string_view body;
};

/// A route handler's answer.
struct http_answer {
    unsigned status = 200;
    std::string content_type = "application/json";
    std::string body = {};
};

/// A path the endpoint serves besides /metrics: `handle` answers requests with this method and
/// path, on the endpoint's thread (one at a time). A request to the path with another method gets
/// 405 and the methods its routes take.
struct http_route {
    std::string method;
    std::string path;
    std::function<http_answer(const http_call&)> handle;
};

/// Bounds of the metrics endpoint; the defaults suit Prometheus scraping every few seconds.
struct metrics_endpoint_limits {
    std::chrono::nanoseconds idle_timeout = std::chrono::seconds(15);  ///< for (the rest of) a request
    std::chrono::nanoseconds write_timeout = std::chrono::seconds(10);  ///< for a response
    std::size_t max_request_bytes = 8 * 1024;  ///< header and body together
    unsigned max_clients = 32;                 ///< connections beyond this are closed at once
};

/// `host:port` as --metrics-listen takes it (IPv6 in brackets); throws usage_error otherwise.
struct listen_address {
    std::string host;  ///< without brackets
    std::uint16_t port = 0;

    static listen_address parse(std::string_view text)
    {
        const auto bad = [&] {
            return usage_error("--metrics-listen: " + wsload::detail::quoted(text) +
                               " is not HOST:PORT (use 127.0.0.1:9464; port 0 picks a free port)");
        };
        const auto colon = text.rfind(':');
        if (colon == std::string_view::npos) throw bad();
        std::string_view host = text.substr(0, colon), port = text.substr(colon + 1);
        if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
        else if (host.find_first_of("[]:") != std::string_view::npos) throw bad();  // bare IPv6
        if (host.empty() || port.empty() || port.size() > 5) throw bad();
        unsigned value = 0;
        for (char c : port) {
            if (c < '0' || c > '9') throw bad();
            value = value * 10 + unsigned(c - '0');
        }
        if (value > 65535) throw bad();
        return {std::string(host), static_cast<std::uint16_t>(value)};
    }
    /// `host:port`, IPv6 in brackets.
    std::string to_string() const
    {
        const bool v6 = host.find(':') != std::string::npos;
        return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
    }
};

/// A minimal HTTP/1.1 server for Prometheus: GET /metrics answers with render()'s text, and the
/// routes given answer their paths; 404 for other paths, 405 for other methods. Listens from
/// construction on, serves on its own thread and io_context; render() and the routes' handlers
/// run there. The destructor stops the thread and closes every socket.
class metrics_endpoint {
public:
    /// Binds `listen` ("host:port", port 0 = any free port) now; throws usage_error with one
    /// line when the address is malformed or cannot be listened on.
    metrics_endpoint(std::string_view listen, std::function<std::string()> render,
                     metrics_endpoint_limits limits = {})
        : metrics_endpoint(listen, std::move(render), {}, limits)
    {}
    metrics_endpoint(std::string_view listen, std::function<std::string()> render, std::vector<http_route> routes,
                     metrics_endpoint_limits limits = {})
        : render_(std::move(render)), routes_(std::move(routes)), limits_(limits)
    {
        const auto address = listen_address::parse(listen);
        const auto fail = [&](const boost::system::error_code& ec) {
            return usage_error("--metrics-listen: cannot listen on " + address.to_string() + " (" + ec.message() + ")");
        };
        boost::system::error_code ec;
        tcp::resolver resolver(context_);
        const auto found = resolver.resolve(address.host, std::to_string(address.port),
                                            tcp::resolver::passive | tcp::resolver::numeric_service, ec);
        if (ec) throw fail(ec);
        if (found.empty()) throw fail(boost::asio::error::host_not_found);
        const tcp::endpoint endpoint = *found.begin();
        if (acceptor_.open(endpoint.protocol(), ec); ec) throw fail(ec);
        // A scenario that starts processes must not hand them the listening socket.
        ::fcntl(acceptor_.native_handle(), F_SETFD, FD_CLOEXEC);
        acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);  // TIME_WAIT only, not a live listener
        if (acceptor_.bind(endpoint, ec); ec) throw fail(ec);
        if (acceptor_.listen(tcp::acceptor::max_listen_connections, ec); ec) throw fail(ec);
        local_ = acceptor_.local_endpoint();
        boost::asio::co_spawn(context_, accept_clients(), on_done);
        thread_ = std::thread([this] { context_.run(); });
    }
    metrics_endpoint(const metrics_endpoint&) = delete;
    metrics_endpoint& operator=(const metrics_endpoint&) = delete;

    ~metrics_endpoint()
    {
        context_.stop();
        thread_.join();
        boost::system::error_code ignored;
        acceptor_.close(ignored);
        // context_ goes last: destroying it destroys the pending coroutines and their sockets.
    }

    /// The port listened on (the one chosen when `listen` said 0).
    std::uint16_t port() const noexcept { return local_.port(); }
    /// `http://host:port/metrics`.
    std::string url() const
    {
        const auto a = local_.address();
        const auto host = a.is_v6() ? "[" + a.to_string() + "]" : a.to_string();
        return "http://" + host + ":" + std::to_string(local_.port()) + "/metrics";
    }

private:
    using tcp = boost::asio::ip::tcp;

    static void on_done(std::exception_ptr e)
    {
        if (!e) return;
        try {
            std::rethrow_exception(e);
        } catch (const std::exception& x) {
            log(log_level::warn, std::string("metrics endpoint: ") + x.what());
        }
    }

    task<> accept_clients()
    {
        boost::asio::steady_timer backoff(context_);
        for (;;) {
            auto [ec, socket] = co_await acceptor_.async_accept(use_task);
            if (ec == boost::asio::error::operation_aborted || !acceptor_.is_open()) co_return;
            if (ec) {  // e.g. out of file descriptors: the load itself may be using them all
                backoff.expires_after(std::chrono::milliseconds(100));
                co_await backoff.async_wait(use_task);
                continue;
            }
            if (clients_ >= limits_.max_clients) continue;  // the socket closes as it goes
            ++clients_;
            boost::asio::co_spawn(context_, serve(std::move(socket)), on_done);
        }
    }

    task<> serve(tcp::socket socket)
    {
        namespace http = boost::beast::http;
        struct leaving {
            unsigned& clients;
            ~leaving() { --clients; }
        } guard{clients_};
        boost::beast::tcp_stream stream(std::move(socket));
        boost::beast::flat_buffer buffer(limits_.max_request_bytes);
        for (;;) {
            http::request_parser<http::string_body> parser;
            parser.header_limit(static_cast<std::uint32_t>(limits_.max_request_bytes));
            parser.body_limit(limits_.max_request_bytes);
            stream.expires_after(limits_.idle_timeout);
            auto [read_error, read] = co_await http::async_read(stream, buffer, parser, use_task);
            if (read_error) break;  // idle too long, closed, or too large / malformed
            auto response = respond(parser.get());
            stream.expires_after(limits_.write_timeout);
            auto [write_error, written] = co_await http::async_write(stream, response, use_task);
            if (write_error || !response.keep_alive()) break;
        }
        boost::system::error_code ignored;
        stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    }

    boost::beast::http::response<boost::beast::http::string_body>
    respond(const boost::beast::http::request<boost::beast::http::string_body>& request) const
    {
        namespace http = boost::beast::http;
        http::response<http::string_body> response;
        response.version(request.version());
        response.keep_alive(request.keep_alive());
        response.set(http::field::server, "wsload");
        const auto target = std::string_view(request.target());
        const auto path = target.substr(0, target.find('?'));
        if (path != "/metrics") {
            route(request, path, response);
        } else if (request.method() != http::verb::get) {
            response.result(http::status::method_not_allowed);
            response.set(http::field::allow, "GET");
            response.set(http::field::content_type, "text/plain; charset=utf-8");
            response.body() = "method not allowed: use GET\n";
        } else {
            try {
                response.body() = render_();
                response.result(http::status::ok);
                response.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
            } catch (const std::exception& e) {
                response.result(http::status::internal_server_error);
                response.set(http::field::content_type, "text/plain; charset=utf-8");
                response.body() = std::string("cannot render the metrics: ") + e.what() + "\n";
            }
        }
        response.prepare_payload();
        return response;
    }

    /// A path other than /metrics: the route that takes it and the request's method, else 405
    /// (the path is known) or 404.
    void route(const boost::beast::http::request<boost::beast::http::string_body>& request, std::string_view path,
               boost::beast::http::response<boost::beast::http::string_body>& response) const
    {
        namespace http = boost::beast::http;
        std::string allow;
        const auto method = std::string_view(request.method_string());
        for (const auto& r : routes_) {
            if (r.path != path) continue;
            if (r.method != method) {
                allow += (allow.empty() ? "" : ", ") + r.method;
                continue;
            }
            const auto target = std::string_view(request.target());
            const auto question = target.find('?');
            const http_call call{method, path,
                                 question == std::string_view::npos ? std::string_view() : target.substr(question + 1),
                                 request.body()};
            try {
                auto answer = r.handle(call);
                response.result(answer.status);
                response.set(http::field::content_type, answer.content_type);
                response.body() = std::move(answer.body);
            } catch (const std::exception& e) {
                response.result(http::status::internal_server_error);
                response.set(http::field::content_type, "text/plain; charset=utf-8");
                response.body() = std::string("cannot answer: ") + e.what() + "\n";
            }
            return;
        }
        response.set(http::field::content_type, "text/plain; charset=utf-8");
        if (allow.empty()) {
            response.result(http::status::not_found);
            response.body() = "not found: the metrics are at /metrics\n";
        } else {
            response.result(http::status::method_not_allowed);
            response.set(http::field::allow, allow);
            response.body() = "method not allowed: use " + allow + "\n";
        }
    }

    boost::asio::io_context context_{1};
    tcp::acceptor acceptor_{context_};
    std::function<std::string()> render_;
    std::vector<http_route> routes_;
    metrics_endpoint_limits limits_;
    tcp::endpoint local_;
    unsigned clients_ = 0;  ///< touched on the endpoint's thread only
    std::thread thread_;
};

}  // namespace wsload::report
