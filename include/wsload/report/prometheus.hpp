#pragma once
// The Prometheus sink (`--metrics-listen HOST:PORT`): the run's figures in the text exposition
// format 0.0.4, served at http://HOST:PORT/metrics by a small HTTP endpoint on a thread of its
// own while the run goes. Prometheus must scrape more often than the run lasts (a scrape
// interval of a few seconds for a run of minutes): the endpoint exists only while the run does.

#include <wsload/core/error.hpp>
#include <wsload/core/log.hpp>
#include <wsload/core/task.hpp>
#include <wsload/report/sink.hpp>
#include <wsload/stats/metrics.hpp>
#include <wsload/stats/run_info.hpp>
#include <wsload/stats/run_result.hpp>

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

#include <array>
#include <charconv>
#include <cmath>
#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>

namespace wsload::report {

namespace detail {

/// A label value per the text format: backslash, double quote and line feed escaped.
inline void append_label_value(std::string& out, std::string_view value)
{
    for (char c : value) {
        if (c == '\\') out += "\\\\";
        else if (c == '"') out += "\\\"";
        else if (c == '\n') out += "\\n";
        else out += c;
    }
}

/// A HELP docstring per the text format: backslash and line feed escaped (quotes stay).
inline void append_help(std::string& out, std::string_view text)
{
    for (char c : text) {
        if (c == '\\') out += "\\\\";
        else if (c == '\n') out += "\\n";
        else out += c;
    }
}

/// Shortest decimal that reads back as the same double (Go's ParseFloat reads exponents too).
inline void append_number(std::string& out, double v)
{
    char buffer[32];
    const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, v);
    out.append(buffer, ec == std::errc() ? end : buffer);
}

inline void append_number(std::string& out, std::uint64_t v)
{
    char buffer[24];
    const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, v);
    out.append(buffer, end);
}

/// `# HELP` and `# TYPE` lines of a family.
inline void append_family(std::string& out, std::string_view name, std::string_view type, std::string_view help)
{
    out += "# HELP ";
    out += name;
    out += ' ';
    append_help(out, help);
    out += "\n# TYPE ";
    out += name;
    out += ' ';
    out += type;
    out += '\n';
}

/// One sample line: `name{label="value"} number`, the label part only when `label` is given.
template <class Number>
void append_sample(std::string& out, std::string_view name, Number value, std::string_view label = {},
                   std::string_view label_value = {})
{
    out += name;
    if (!label.empty()) {
        out += '{';
        out += label;
        out += "=\"";
        append_label_value(out, label_value);
        out += "\"}";
    }
    out += ' ';
    append_number(out, value);
    out += '\n';
}

struct bucket_bound {
    std::uint64_t ns;
    std::string_view le;  ///< the same bound in seconds, as the `le` label shows it
};

/// The fixed `le` bounds of every latency histogram (+Inf is added after them).
inline constexpr std::array<bucket_bound, 16> bucket_bounds{{
    {100'000, "0.0001"},       {250'000, "0.00025"},      {500'000, "0.0005"},
    {1'000'000, "0.001"},      {2'500'000, "0.0025"},     {5'000'000, "0.005"},
    {10'000'000, "0.01"},      {25'000'000, "0.025"},     {50'000'000, "0.05"},
    {100'000'000, "0.1"},      {250'000'000, "0.25"},     {500'000'000, "0.5"},
    {1'000'000'000, "1"},      {2'500'000'000, "2.5"},    {5'000'000'000, "5"},
    {10'000'000'000, "10"},
}};

/// A latency histogram as a Prometheus histogram in seconds. Cumulative buckets from the HDR
/// buckets: an HDR bucket counts under the first bound its highest equivalent value does not
/// exceed, so a value at a bound, or less than one HDR bucket width (< 0.1% at 3 digits) below
/// it, may be counted under the next bound up (1 ms exactly shows under le="0.0025"). `_count`
/// is the +Inf bucket by construction; `_sum` is the exact sum of the values (clamped ones
/// included), which a concurrent writer may put one or two values ahead of the buckets.
/// The samples of one histogram; `labels` (`type="WS",name="login"`, or empty) go before `le`.
inline void append_histogram_samples(std::string& out, std::string_view name, std::string_view labels,
                                     const stats::histogram& h)
{
    std::array<std::uint64_t, bucket_bounds.size() + 1> counts{};  // the last one is +Inf
    h.for_each_bucket([&](std::uint64_t, std::uint64_t highest, std::uint64_t count) {
        std::size_t i = 0;
        while (i < bucket_bounds.size() && highest > bucket_bounds[i].ns) ++i;
        counts[i] += count;
    });
    const auto line = [&](std::string_view suffix, std::string_view le, auto value) {
        out += name;
        out += suffix;
        if (!labels.empty() || !le.empty()) {
            out += '{';
            out += labels;
            if (!le.empty()) {
                if (!labels.empty()) out += ',';
                out += "le=\"";
                out += le;
                out += '"';
            }
            out += '}';
        }
        out += ' ';
        append_number(out, value);
        out += '\n';
    };
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < bucket_bounds.size(); ++i) {
        cumulative += counts[i];
        line("_bucket", bucket_bounds[i].le, cumulative);
    }
    cumulative += counts.back();
    line("_bucket", "+Inf", cumulative);
    const auto state = h.export_state();  // the exact sum, rather than mean * count rounded twice
    const long double sum_ns = std::ldexp(static_cast<long double>(state.sum[1]), 64) + state.sum[0];
    line("_sum", {}, static_cast<double>(sum_ns / 1e9L));
    line("_count", {}, cumulative);
}

inline void append_histogram(std::string& out, std::string_view name, std::string_view help,
                             const stats::histogram& h)
{
    append_family(out, name, "histogram", help);
    append_histogram_samples(out, name, {}, h);
}

/// `type="WS",name="login"`: the labels of a request name's samples, escaped.
inline std::string request_labels(const stats::request_key& key)
{
    std::string labels = "type=\"";
    append_label_value(labels, key.type);
    labels += "\",name=\"";
    append_label_value(labels, key.name);
    labels += '"';
    return labels;
}

/// Requests by name: a counter per outcome and a round-trip histogram per name, each one
/// family (Prometheus wants a family's samples together).
inline void append_named_requests(std::string& out, const stats::named_map& requests)
{
    if (requests.empty()) return;
    append_family(out, "wsload_named_requests_total", "counter",
                  "Requests by type and name, per outcome (sent = answered + rejected + timed_out + failed + in flight).");
    for (const auto& [key, named] : requests) {
        const auto labels = request_labels(key);
        const std::pair<std::string_view, std::uint64_t> outcomes[] = {
            {"sent", named.sent},          {"answered", named.answered}, {"rejected", named.rejected},
            {"timed_out", named.timed_out}, {"failed", named.failed}};
        for (const auto& [outcome, n] : outcomes) {
            out += "wsload_named_requests_total{";
            out += labels;
            out += ",outcome=\"";
            out += outcome;
            out += "\"} ";
            append_number(out, n);
            out += '\n';
        }
    }
    append_family(out, "wsload_named_round_trip_seconds", "histogram",
                  "Round trips of answered requests by type and name, from the intended send time.");
    for (const auto& [key, named] : requests)
        append_histogram_samples(out, "wsload_named_round_trip_seconds", request_labels(key), named.round_trip);
}

}  // namespace detail

/// The figures of `t` in the Prometheus text exposition format 0.0.4: counters `wsload_*_total`,
/// gauges (open connections, users, elapsed seconds, run info) and the latency histograms in
/// seconds. `elapsed` is the run's time so far.
inline std::string prometheus_text(const stats::totals& t, std::chrono::nanoseconds elapsed, const stats::run_info& config)
{
    using stats::counter_id;
    using stats::histogram_id;
    std::string out;
    out.reserve(16 * 1024);

    const auto counter = [&](std::string_view name, std::string_view help, counter_id id) {
        detail::append_family(out, name, "counter", help);
        detail::append_sample(out, name, t[id]);
    };
    const auto gauge = [&](std::string_view name, std::string_view help, auto value) {
        detail::append_family(out, name, "gauge", help);
        detail::append_sample(out, name, value);
    };

    gauge("wsload_active_connections", "WebSocket connections open now.", t[counter_id::active_connections]);
    gauge("wsload_users_target", "Simulated users the run starts in all.", config.users);
    gauge("wsload_elapsed_seconds", "Seconds since the run started.",
          std::chrono::duration<double>(elapsed).count());
    {
        // The labels say which run this is; the value is always 1 (the usual *_info idiom).
        detail::append_family(out, "wsload_run_info", "gauge", "The run: scenario name and target URL (value 1).");
        out += "wsload_run_info{scenario=\"";
        detail::append_label_value(out, config.name);
        out += "\",target=\"";
        detail::append_label_value(out, config.target);
        out += "\"} 1\n";
    }

    counter("wsload_connect_attempts_total", "Connection attempts started.", counter_id::connect_attempts);
    counter("wsload_connect_successes_total", "Connection attempts that opened a WebSocket.",
            counter_id::connect_successes);
    detail::append_family(out, "wsload_connect_failures_total", "counter",
                          "Failed connection attempts by class; the classes sum to the failures.");
    for (std::size_t i = 0; i < stats::connect_failure_count; ++i)
        detail::append_sample(out, "wsload_connect_failures_total", t.connect_failures[i], "reason",
                              stats::connect_failure_names[i]);
    detail::append_family(out, "wsload_connect_http_status_total", "counter",
                          "Upgrades answered with an HTTP status other than 101, by status (non-zero only).");
    for (std::size_t code = 0; code < stats::http_status_limit; ++code)
        if (t.http_statuses[code] != 0)
            detail::append_sample(out, "wsload_connect_http_status_total", t.http_statuses[code], "code",
                                  std::to_string(code));
    detail::append_family(out, "wsload_disconnects_total", "counter",
                          "Established connections that ended, by class.");
    for (std::size_t i = 0; i < stats::disconnect_reason_count; ++i)
        detail::append_sample(out, "wsload_disconnects_total", t.disconnects[i], "reason",
                              stats::disconnect_reason_names[i]);
    detail::append_family(out, "wsload_close_codes_total", "counter",
                          "server_close disconnects by WebSocket close code (non-zero only).");
    for (std::size_t code = 0; code < stats::close_code_limit; ++code)
        if (t.close_codes[code] != 0)
            detail::append_sample(out, "wsload_close_codes_total", t.close_codes[code], "code", std::to_string(code));

    counter("wsload_messages_sent_total", "WebSocket messages sent.", counter_id::messages_sent);
    counter("wsload_messages_received_total", "WebSocket messages received.", counter_id::messages_received);
    counter("wsload_bytes_sent_total", "Payload bytes sent.", counter_id::bytes_sent);
    counter("wsload_bytes_received_total", "Payload bytes received.", counter_id::bytes_received);
    counter("wsload_pings_sent_total", "Heartbeat pings sent.", counter_id::pings_sent);
    counter("wsload_pongs_received_total", "Heartbeat pongs received.", counter_id::pongs_received);
    counter("wsload_pongs_missed_total", "Pings whose pong had not come back when the next ping was due.",
            counter_id::pongs_missed);
    counter("wsload_requests_sent_total", "Requests sent (messages that wait for a reply).",
            counter_id::requests_sent);
    counter("wsload_requests_answered_total", "Requests whose reply came back.", counter_id::requests_answered);
    counter("wsload_requests_timed_out_total", "Requests with no reply within their timeout.",
            counter_id::requests_timed_out);
    counter("wsload_requests_rejected_total", "Requests answered with a reply that said they failed.",
            counter_id::requests_rejected);
    counter("wsload_requests_failed_total", "Requests whose connection ended before the reply.",
            counter_id::requests_failed);
    counter("wsload_behaviour_errors_total", "Behaviours that threw (the user ended, the run went on).",
            counter_id::behaviour_errors);
    counter("wsload_inbox_dropped_total", "Received messages nobody took, dropped beyond the inbox limit.",
            counter_id::inbox_dropped);

    detail::append_histogram(out, "wsload_connect_seconds", "Whole connect: DNS, TCP, TLS and upgrade.",
                             t[histogram_id::connect]);
    detail::append_histogram(out, "wsload_connect_tcp_seconds", "TCP handshake.", t[histogram_id::connect_tcp]);
    detail::append_histogram(out, "wsload_connect_tls_seconds", "TLS handshake (wss only).",
                             t[histogram_id::connect_tls]);
    detail::append_histogram(out, "wsload_connect_upgrade_seconds", "HTTP upgrade request to 101 response.",
                             t[histogram_id::connect_upgrade]);
    detail::append_histogram(out, "wsload_round_trip_seconds",
                             "Request to matched reply, from the intended send time.", t[histogram_id::round_trip]);
    detail::append_histogram(out, "wsload_ping_round_trip_seconds", "Heartbeat ping to its pong.",
                             t[histogram_id::ping_round_trip]);
    detail::append_named_requests(out, t.requests);
    return out;
}

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

/// A minimal HTTP/1.1 server for Prometheus: GET /metrics answers with render()'s text; 404 for
/// other paths, 405 for other methods. Listens from construction on, serves on its own thread
/// and io_context; render() runs there. The destructor stops the thread and closes every socket.
class metrics_endpoint {
public:
    /// Binds `listen` ("host:port", port 0 = any free port) now; throws usage_error with one
    /// line when the address is malformed or cannot be listened on.
    metrics_endpoint(std::string_view listen, std::function<std::string()> render,
                     metrics_endpoint_limits limits = {})
        : render_(std::move(render)), limits_(limits)
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
            response.result(http::status::not_found);
            response.set(http::field::content_type, "text/plain; charset=utf-8");
            response.body() = "not found: the metrics are at /metrics\n";
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

    boost::asio::io_context context_{1};
    tcp::acceptor acceptor_{context_};
    std::function<std::string()> render_;
    metrics_endpoint_limits limits_;
    tcp::endpoint local_;
    unsigned clients_ = 0;  ///< touched on the endpoint's thread only
    std::thread thread_;
};

/// `--metrics-listen HOST:PORT`: serves the live figures while the run goes, then the final
/// ones (those of the report) until the sink is destroyed, after the report.
class prometheus_sink final : public sink {
public:
    explicit prometheus_sink(std::string listen) : listen_(std::move(listen)) {}

    void start(const stats::live_run& run, const stats::run_info& info) override
    {
        // snapshot() is ours until finish() returns: the lock makes finish() wait for a render
        // in flight, and from then on the render serves the final text instead.
        endpoint_ = std::make_unique<metrics_endpoint>(listen_, [this, &run, info]() -> std::string {
            std::lock_guard lock(mutex_);
            if (finished_) return final_text_;
            const auto totals = run.snapshot_totals();
            return prometheus_text(*totals, run.elapsed(), info);
        });
        log(log_level::info, "serving Prometheus metrics at " + endpoint_->url());
    }

    bool finish(const stats::run_info& config, const stats::run_result& result, const outcome&) override
    {
        if (!result.totals) return true;
        auto text = prometheus_text(*result.totals, result.elapsed, config);
        std::lock_guard lock(mutex_);
        final_text_ = std::move(text);
        finished_ = true;
        return true;
    }

    /// The endpoint once start() has run (tests read its port).
    const metrics_endpoint* endpoint() const noexcept { return endpoint_.get(); }

private:
    std::string listen_;
    std::mutex mutex_;
    std::string final_text_;
    bool finished_ = false;
    std::unique_ptr<metrics_endpoint> endpoint_;  // last: stopped before the rest goes
};

}  // namespace wsload::report
