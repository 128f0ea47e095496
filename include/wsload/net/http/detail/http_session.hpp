#pragma once
// An HTTP/1.1 connection (http:// or https://) on the shared connection base: the connect
// path, its timing and the connection's accounting are the base's; this file adds the
// exchange of one request and its response, read with Beast's parser.
//
// It runs on the lean stream (plain or TLS on the socket descriptor, as raw TCP does). An idle
// keep-alive connection holds nothing pending: no read, no timer. Before it is used again it is
// asked, without waiting, whether the server closed it meanwhile. A response is read into the
// thread's buffer and parsed in place; only a header cut across reads is kept.

#include <wsload/core/log.hpp>
#include <wsload/net/detail/connection_base.hpp>
#include <wsload/net/detail/handler_memory.hpp>
#include <wsload/net/detail/lean_stream.hpp>
#include <wsload/net/detail/read_buffer.hpp>
#include <wsload/net/http/body.hpp>
#include <wsload/net/http/detail/response_reader.hpp>

#include <boost/asio/ssl/error.hpp>
#include <boost/beast/http/error.hpp>

#include <chrono>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace wsload::net::detail {

/// What HTTP keeps once per thread (io_thread::local): the request header being written (its
/// capacity kept for the next request); responses are read into the thread's read buffer.
struct http_thread_state {
    explicit http_thread_state(io_thread& t) : read(t.local<thread_read_buffer>()) {}
    thread_read_buffer& read;
    std::string head;
};

/// How one exchange ended: a response, no response in time, or a failure in its class.
struct http_exchange {
    enum class outcome : std::uint8_t { response, timed_out, failed };
    outcome result = outcome::failed;
    stats::request_failure failure = stats::request_failure::other;
    /// Failed before a byte of a response came back (a kept-alive connection the server had
    /// closed: the request may go again on a new one).
    bool nothing_came_back = true;
    http_response_message message;
    clock::duration upload_time{};
    std::uint64_t uploaded = 0;
    std::exception_ptr behaviour_error;  ///< the body's source threw (a file that shrank)
};

class http_session final : public connection_base {
public:
    /// Bodies are sent in pieces of this size, read from their source as they go.
    static constexpr std::size_t upload_chunk = 64 * 1024;
    explicit http_session(io_thread& t)
        : connection_base(t), local_(t.local<http_thread_state>()), stream_(t.get_executor())
    {}

    /// Rows are typed by method (GET, POST...), given per request: this is never asked.
    std::string_view request_type() const noexcept override { return "HTTP"; }

    /// Exchanges completed on this connection: a reused one may have been closed by the server.
    std::uint32_t exchanges() const noexcept { return exchanges_; }

    /// Connects to `u`; true when the connection is open. The attempt is counted once, as a
    /// success or in its failure class.
    task<bool> connect(const url& u)
    {
        auto self = shared_from_this();
        if (!co_await connect_without_handshake(stream_, u)) co_return false;
        co_return state_ == state::open;  // not when stopped while opening
    }

    /// An idle connection can carry a request: still open, and the server has neither closed
    /// it (its FIN, counted now as peer_close) nor sent anything nobody asked for (a 408 before
    /// closing counts as peer_close too; other bytes as protocol_error). Never waits.
    bool usable()
    {
        if (state_ != state::open || in_flight_) return state_ == state::open;
        error_code ec;
        char* const buffer = local_.read.get();
        const auto n = stream_.read_some(buffer, thread_read_buffer::size, ec);
        if (ec == boost::asio::error::would_block) return true;
        if (ec) {
            end_now(is_orderly_end(ec) ? stats::disconnect_reason::peer_close : stats::disconnect_reason::network);
            return false;
        }
        const std::string_view unasked(buffer, n);
        const bool timeout_notice = unasked.starts_with("HTTP/1.") && unasked.substr(8, 5) == " 408 ";
        if (!timeout_notice && log_enabled(log_level::debug))
            log(log_level::debug, "HTTP: the server sent " + std::to_string(n) + " bytes nobody asked for; closing");
        end_now(timeout_notice ? stats::disconnect_reason::peer_close : stats::disconnect_reason::protocol_error);
        return false;
    }

    /// Sends `head` (a request's header block) and `body`, and reads the response, within
    /// `timeout` of `from`. One exchange at a time: a second one waits for its turn (HTTP/1.1
    /// answers in order; wsload does not pipeline). Counts the messages and bytes each way and
    /// the connection's end, not the request: the caller does (request_accounting).
    task<http_exchange> exchange(std::string_view head, http::body_source* body, std::size_t body_limit,
                                 bool head_request, clock::time_point from, std::chrono::nanoseconds timeout)
    {
        auto self = shared_from_this();
        http_exchange x;
        if (!open_and_claim_write()) {
            write_waiter turn;
            if (!co_await wait_write_turn(turn)) {
                x.failure = stats::request_failure::not_connected;
                co_return x;
            }
        }
        in_flight_ = true;
        request_timed_out_ = false;
        exchange_deadline deadline(this);
        const auto d = std::chrono::duration_cast<clock::duration>(timeout);
        const auto due = d >= clock::time_point::max() - from ? clock::time_point::max() : from + d;
        thread_.deadlines().add(deadline, due, d);

        error_code ec;
        try {
            ec = co_await send_request(head, body, x);
        } catch (...) {
            x.behaviour_error = std::current_exception();
        }
        if (traced_ && !ec && !x.behaviour_error) trace_request(head, body);
        if (!ec && !x.behaviour_error) ec = co_await read_response(x, body_limit, head_request);
        deadline.leave_queue();
        in_flight_ = false;
        ++exchanges_;
        conclude(x, ec);
        if (traced_) trace_outcome(x, from);
        pass_write_turn();
        if (stop_requested_) close_as(stats::disconnect_reason::client_stop);
        co_return x;
    }

    /// HTTP sends nothing but requests (exchange()).
    task<error_code> write(std::string_view, bool) override
    {
        throw std::logic_error("wsload: an HTTP connection carries requests only");
    }

    /// Closes now (HTTP has no closing handshake), counted as `why`. A request in flight then
    /// fails (stopped).
    void close_as(stats::disconnect_reason why) override
    {
        if (state_ != state::open) return;
        end_now(thread_.stopping() ? stats::disconnect_reason::client_stop : why);
    }

    /// The run is ending: an idle connection closes now, one in the middle of an exchange when
    /// its response is in (the engine's abort ends what is left).
    void on_stop() override
    {
        if (state_ != state::open) return;
        if (in_flight_) stop_requested_ = true;
        else close_as(stats::disconnect_reason::client_stop);
    }
    void on_abort() override
    {
        if (state_ == state::connecting) aborted_ = true;
        if (state_ == state::open || state_ == state::closing) end_now(stats::disconnect_reason::client_stop);
        close_socket();
    }
    void close_transport() noexcept override { close_socket(); }

private:
    /// The bound on one exchange, in the thread's deadline queue: when it passes, the socket is
    /// closed under whatever step is pending, and the exchange ends as timed out.
    struct exchange_deadline : net::deadline_entry {
        explicit exchange_deadline(http_session* s) noexcept : deadline_entry(&expired), session(s) {}
        static void expired(net::deadline_entry& e) noexcept
        {
            auto* s = static_cast<exchange_deadline&>(e).session;
            s->request_timed_out_ = true;
            s->close_socket();
        }
        http_session* session;
    };

    tcp_socket& socket() noexcept { return stream_.socket(); }

    /// --log-users: the request as sent (header block and body, bounded and masked).
    void trace_request(std::string_view head, http::body_source* body) const
    {
        auto text = "request: " + log_content(head, false, 4 * log_content_limit);
        if (body) {
            if (const auto whole = body->in_memory()) text += " body: " + log_content(*whole);
            else text += " body: " + std::to_string(body->size()) + " bytes streamed";
        }
        trace(text);
    }
    /// --log-users: the response (status, header block, body) or how the exchange failed.
    void trace_outcome(const http_exchange& x, clock::time_point from) const
    {
        using outcome = http_exchange::outcome;
        if (x.result == outcome::timed_out) return trace("request timed out after " + trace_ms(clock::now() - from));
        if (x.result == outcome::failed)
            return trace("request failed (" + std::string(stats::name(x.failure)) + ") after " + trace_ms(clock::now() - from));
        std::string head = "HTTP/1.1 " + std::to_string(x.message.result_int()) + " " + std::string(x.message.reason()) + "\r\n";
        for (const auto& field : x.message.base()) {
            head += field.name_string();
            head += ": ";
            head += field.value();
            head += "\r\n";
        }
        trace("response " + std::to_string(x.message.result_int()) + " in " + trace_ms(clock::now() - from) + ": " +
              log_content(head, false, 4 * log_content_limit) + " body: " + log_content(x.message.body().text));
    }
    void close_socket() noexcept { stream_.close(); }

    static bool is_orderly_end(const error_code& ec) noexcept
    {
        return ec == boost::asio::error::eof || ec == boost::asio::ssl::error::stream_truncated;
    }

    /// The connection ends now for `why`, counted once.
    void end_now(stats::disconnect_reason why)
    {
        if (state_ == state::closed) return;
        close_started_ = true;
        close_socket();
        finish(why);
    }

    /// The header block with a small in-memory body in one write; a larger or streamed body
    /// then follows in pieces. While a body streams, a response that comes early (a 413 before
    /// the server read the body) stops it.
    task<error_code> send_request(std::string_view head, http::body_source* body, http_exchange& x)
    {
        auto& out = local_.head;
        out.assign(head);
        const auto whole = body ? body->in_memory() : std::nullopt;
        const bool with_head = whole && whole->size() <= upload_chunk;
        if (with_head) out.append(*whole);
        error_code ec;
        std::size_t taken = stream_.write_some(out.data(), out.size(), ec);
        if (ec == boost::asio::error::would_block) ec = {}, taken = 0;
        if (ec) co_return ec;
        if (taken < out.size()) {
            // The rest waits in a string of its own: the thread's buffer serves the next request.
            const std::string rest(out, taken);
            ec = co_await stream_.write_all(rest.data(), rest.size());
            if (ec) co_return ec;
        }
        std::uint64_t sent = with_head ? whole->size() : 0;
        if (body && !with_head) {
            const auto started = clock::now();
            const auto chunk = std::make_unique<char[]>(upload_chunk);
            for (;;) {
                const auto n = body->read(chunk.get(), upload_chunk);
                if (n == 0) break;  // all sent: what comes now is the response, read as usual
                if (early_response()) {
                    must_close_ = true;  // the rest of the body was not sent: the stream is out of step
                    break;
                }
                ec = co_await stream_.write_all(chunk.get(), n);
                if (ec) co_return ec;
                sent += n;
                x.uploaded = sent;
            }
            x.upload_time = clock::now() - started;
            if (!must_close_ && sent != body->size())
                throw std::logic_error("wsload: a request body gave " + std::to_string(sent) + " of the " +
                                       std::to_string(body->size()) + " bytes it promised");
            stats_[stats::counter_id::upload_bytes].add(sent);
            if (!must_close_) record_span(stats::histogram_id::upload, started, started + x.upload_time);
        }
        x.uploaded = sent;
        count_sent(static_cast<std::size_t>(sent));
        co_return error_code{};
    }

    /// Bytes (or an end) from the server while the body is still going: kept for the response's
    /// parser. True when the upload should stop.
    bool early_response()
    {
        error_code ec;
        char* const buffer = local_.read.get();
        const auto n = stream_.read_some(buffer, thread_read_buffer::size, ec);
        if (ec == boost::asio::error::would_block) return false;
        if (ec) {
            early_end_ = ec;
            return true;
        }
        early_.append(buffer, n);
        return true;
    }

    /// Reads one response into `x.message`, from the thread's read buffer (the reader keeps
    /// what it cannot use yet: a header cut across reads).
    task<error_code> read_response(http_exchange& x, std::size_t body_limit, bool head_request)
    {
        response_reader reader(body_limit, head_request);
        char* const buffer = local_.read.get();
        error_code ec;
        if (!early_.empty()) {  // an early response, read while the body was going
            reader.feed(early_, ec);
            early_.clear();
            if (ec) co_return ec;
        }
        while (!reader.done()) {
            if (early_end_) {
                ec = std::exchange(early_end_, {});
            } else {
                const auto n = stream_.read_some(buffer, thread_read_buffer::size, ec);
                if (ec == boost::asio::error::would_block) {
                    auto [wec] = co_await socket().async_wait(stream_.read_wait(), exact_task());
                    if (wec) co_return wec;
                    continue;
                }
                if (!ec) {
                    x.nothing_came_back = false;
                    reader.feed({buffer, n}, ec);
                    if (ec) co_return ec;
                    continue;
                }
            }
            // The server ended the connection: a response without a length ends here.
            x.nothing_came_back = !reader.started();
            if (is_orderly_end(ec) && reader.started()) {
                ec = reader.end_of_stream();
                if (!ec) break;
            }
            co_return ec;
        }
        x.nothing_came_back = false;
        // More than the response: nothing asked for it (wsload does not pipeline).
        unasked_bytes_ = !reader.extra().empty();
        x.message = reader.release();
        if (unasked_bytes_ || reader.ended_by_close() || !x.message.keep_alive()) must_close_ = true;
        co_return error_code{};
    }

    /// Classifies the exchange and ends the connection where it cannot carry another request.
    void conclude(http_exchange& x, const error_code& ec)
    {
        namespace http = boost::beast::http;
        early_.clear();
        if (x.behaviour_error) {
            x.failure = stats::request_failure::other;
            return end_now(stats::disconnect_reason::client_close);
        }
        if (request_timed_out_) {
            // Our deadline closed the socket: the client ended this connection.
            x.result = http_exchange::outcome::timed_out;
            return end_now(stats::disconnect_reason::client_close);
        }
        if (!ec) {
            x.result = http_exchange::outcome::response;
            count_received(x.message.body().text.size());
            if (must_close_)
                end_now(unasked_bytes_ ? stats::disconnect_reason::protocol_error : stats::disconnect_reason::peer_close);
            return;
        }
        if (state_ == state::closed || aborted_) {
            x.failure = stats::request_failure::stopped;  // the run's end (or the client) closed it
            return;
        }
        using stats::disconnect_reason;
        using stats::request_failure;
        disconnect_reason end = disconnect_reason::network;
        if (ec == http::error::body_limit || ec == http::error::header_limit) {
            x.failure = request_failure::too_large;
            end = disconnect_reason::message_too_big;
        } else if (is_orderly_end(ec) || ec == http::error::partial_message) {
            // A FIN before any byte of the response: closed; in the middle of it: lost (reset).
            x.failure = x.nothing_came_back ? request_failure::closed : request_failure::reset;
            end = disconnect_reason::peer_close;
        } else if (ec.category() == http::make_error_code(http::error::bad_version).category()) {
            x.failure = request_failure::unparsable;
            end = disconnect_reason::protocol_error;
        } else if (ec == boost::asio::error::connection_reset || ec == boost::asio::error::broken_pipe) {
            x.failure = request_failure::reset;
        } else {
            x.failure = request_failure::other;
            if (log_enabled(log_level::debug)) log(log_level::debug, "HTTP exchange failed: " + ec.message());
        }
        end_now(end);
    }

    http_thread_state& local_;
    lean_stream stream_;
    std::string early_;  ///< response bytes that came while the request body was still going
    error_code early_end_;  ///< the server ended the connection while the body was still going
    std::uint32_t exchanges_ = 0;
    bool in_flight_ = false;
    bool stop_requested_ = false;
    bool request_timed_out_ = false;
    bool must_close_ = false;  ///< the response said close, or the stream is out of step
    bool unasked_bytes_ = false;
};

}  // namespace wsload::net::detail
