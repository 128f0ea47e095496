#pragma once
// What every connection shares, whatever its transport (WebSocket, TCP, HTTP): its state, the
// accounting of its attempt, messages, requests and end (each counted once, in one place),
// request/reply correlation, receive() and wait_closed(). A transport derives from it and
// adds its socket, its handshake and its framing. Everything here runs on the owning thread.
// The pieces it is made of have headers of their own: the waits (parked.hpp), the requests
// waiting for replies (pending_request.hpp), what an attempt keeps while it connects
// (connect_deadline.hpp) and how a request is counted (request_accounting.hpp).

#include <wsload/core/log.hpp>
#include <wsload/core/task.hpp>
#include <wsload/net/app_heartbeat.hpp>
#include <wsload/net/connect.hpp>
#include <wsload/net/detail/connect_deadline.hpp>
#include <wsload/net/detail/connection_trace.hpp>
#include <wsload/net/detail/handler_memory.hpp>
#include <wsload/net/detail/lean_stream.hpp>
#include <wsload/net/detail/message_protocol.hpp>
#include <wsload/net/detail/parked.hpp>
#include <wsload/net/detail/pending_request.hpp>
#include <wsload/net/detail/request_accounting.hpp>
#include <wsload/net/header.hpp>
#include <wsload/net/io_thread.hpp>
#include <wsload/net/message.hpp>
#include <wsload/net/reply_key.hpp>
#include <wsload/net/request_options.hpp>
#include <wsload/net/tls.hpp>
#include <wsload/stats/metrics.hpp>

#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/stream_traits.hpp>

#include <unistd.h>  // close

#include <algorithm>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace wsload::net::detail {

using boost::system::error_code;

class connection_base : public std::enable_shared_from_this<connection_base>, public net::closable {
public:
    enum class state : std::uint8_t { connecting, open, closing, closed };

    explicit connection_base(io_thread& w) : thread_(w), stats_(w.stats()) { thread_.track(*this); }
    virtual ~connection_base()
    {
        thread_.untrack(*this);
        if (traced_) thread_.local<trace_registry>().erase(this);
        // Only reached with waiters when the io_context is torn down unfinished: their
        // coroutines are destroyed, not resumed.
        // (A send waiting for its write turn holds the connection: none is left here.)
        while (closed_waiters_) delete std::exchange(closed_waiters_, closed_waiters_->next);
    }

    state current_state() const noexcept { return state_; }
    bool is_open() const noexcept { return state_ == state::open; }
    io_thread& thread() noexcept { return thread_; }
    executor get_executor() noexcept { return thread_.get_executor(); }
    stats::disconnect_reason end_reason() const noexcept { return end_reason_; }
    /// The transport's code of the end, when it has one (a WebSocket close code; 0 when none came).
    unsigned close_code() const noexcept { return close_code_; }

    /// Sends one message (`binary` where the transport tells text from binary); counts it when
    /// the write completed.
    virtual task<error_code> write(std::string_view data, bool binary) = 0;
    /// write() for a caller that suspends right after it (a request, which then waits for its
    /// reply): the suspension that write() makes after a send the socket took whole, so that
    /// every send is a suspension point, may be left out here when the send succeeded. The
    /// caller must then suspend itself. Counted as write() counts.
    virtual task<error_code> write_then_wait(std::string_view data, bool binary) { return write(data, binary); }
    /// Sends `first` and then each of `then` as a binary message, back to back on one write
    /// turn: no other send of this connection goes out between them (a Socket.IO binary packet
    /// and its attachments: socket.io-parser drops a connection whose attachments are
    /// interleaved). Each message is counted when it went out whole; the first failure ends the
    /// group. A transport without a message framing of its own (raw TCP, HTTP) throws
    /// std::logic_error: the behaviour's error.
    task<error_code> write_group(std::string_view first, bool binary, std::span<const std::string_view> then)
    {
        auto self = shared_from_this();
        if (!open_and_claim_write()) {
            write_waiter turn;
            if (!co_await wait_write_turn(turn)) co_return boost::asio::error::not_connected;
        }
        error_code ec;
        try {
            ec = co_await send_on_turn(first, binary);
            if (!ec) count_sent(first.size());
            for (const auto part : then) {
                if (ec) break;
                ec = co_await send_on_turn(part, true);
                if (!ec) count_sent(part.size());
            }
        } catch (...) {
            pass_write_turn();  // a throwing send must not keep every later writer waiting
            throw;
        }
        pass_write_turn();
        co_return ec;
    }
    /// Ends the connection the transport's orderly way (a WebSocket close with 1000; raw TCP
    /// closes its socket), counted as `why` (client_close, client_stop).
    virtual void close_as(stats::disconnect_reason why) = 0;
    /// What this transport's requests are recorded as ("WS", "TCP"): the type of their rows.
    virtual std::string_view request_type() const noexcept = 0;

    /// Waits for the next message not claimed by a request; nullopt on timeout or end.
    task<std::optional<message>> receive(std::chrono::nanoseconds timeout)
    {
        auto self = shared_from_this();
        if (!inbox_.empty()) {
            auto m = std::move(inbox_.front());
            inbox_.erase(inbox_.begin());
            co_return m;
        }
        if (state_ == state::closed || state_ == state::connecting) {
            co_await yield();
            co_return std::nullopt;
        }
        if (receiver_) throw std::logic_error("wsload: two receive() calls at once on one websocket");
        std::optional<message> slot;
        parked_receive me{&receive_expired, this, &slot};
        receiver_ = &me;
        co_await park(me, clock::now(), timeout);
        if (receiver_ == &me) receiver_ = nullptr;
        co_return slot;
    }

    /// Sends `payload` and waits for the first message `match(data, binary)` accepts, recording
    /// the round trip from `sent_at` (the intended send time: see coordinated omission in the
    /// README).
    ///
    /// With a `key`, the reply is the message whose reply_key() is `key`, found by a hash lookup
    /// (`match` then only says accept or reject). Throws std::logic_error when the connection has
    /// no reply_key or another request in flight has the same key: the behaviour's error.
    ///
    /// `then`, when not empty, are binary messages sent right behind `payload` on the same write
    /// turn (write_group: a Socket.IO binary packet's attachments); the request is still one.
    task<std::optional<message>> request(std::string_view payload, reply_matcher match, bool binary, std::chrono::nanoseconds timeout, clock::time_point sent_at,
                                         std::string_view name, std::string_view key = {},
                                         std::span<const std::string_view> then = {})
    {
        auto self = shared_from_this();
        if (state_ != state::open) {
            co_await yield();
            co_return std::nullopt;
        }
        pending_request r{&request_expired, this, &match, sent_at, {stats_, named_figures(name)}, requests_};
        if (!key.empty()) r.key = &add_keyed(key, r);
        else ++scanned_requests_;
        link(r);
        r.figures.sent();
        error_code ec;
        std::exception_ptr misuse;  // a payload the transport cannot carry: the behaviour's error
        try {
            if (then.empty()) ec = co_await write_then_wait(payload, binary);
            else ec = co_await write_group(payload, binary, then);
        } catch (...) {
            misuse = std::current_exception();
        }
        if (misuse) {
            unlink(r);  // r dies with this frame
            r.figures.failed(stats::request_failure::other);
            std::rethrow_exception(misuse);
        }
        // A request suspends once either way: parked here, or (a reply already in, the
        // connection closed) in its send, since neither can happen before the send suspends:
        // replies and closes come from the thread's other handlers.
        if (!ec && !r.reply && state_ != state::closed) co_await park(r, sent_at, timeout);
        unlink(r);
        if (r.reply) {
            if (traced_) trace_request(name, r.rejected ? " rejected by its reply after " : " answered in ", sent_at);
            co_return std::move(r.reply);
        }
        if (state_ == state::closed || ec) {
            // In the class of the connection's end; a write that failed on a connection not yet
            // ended lost it (a reset the reader has not seen yet).
            const auto why = state_ == state::closed ? stats::request_failure_for(end_reason_) : stats::request_failure::reset;
            r.figures.failed(why);
            if (traced_) trace_request(name, " failed (", {}, stats::name(why));
        } else {
            r.figures.timed_out();
            if (traced_) trace_request(name, " timed out after ", sent_at);
        }
        co_return std::nullopt;
    }

    /// Parks the caller until `w` is resumed: by what it waits for, the connection's end, or
    /// its deadline, `timeout` after `from` (saturated: a huge timeout means none).
    task<> park(parked_wait& w, clock::time_point from, std::chrono::nanoseconds timeout)
    {
        const auto d = std::chrono::duration_cast<clock::duration>(timeout);
        const auto due = d >= clock::time_point::max() - from ? clock::time_point::max() : from + d;
        return boost::asio::async_initiate<const boost::asio::use_awaitable_t<executor>&, void()>(
            [](resume_handler handler, parked_wait* w, net::deadline_queue* q, clock::time_point due,
               clock::duration d) {
                // Asio's per-operation cancellation (e.g. the loser of `a || b`) ends the wait as
                // its deadline would. A plain co_await has no connected slot: nothing to pay.
                if (auto slot = boost::asio::get_associated_cancellation_slot(handler); slot.is_connected())
                    slot.template emplace<cancel_park>(w);
                w->handler.emplace(std::move(handler));
                q->add(*w, due, d);
            },
            wsload::use_awaitable, &w, &thread_.deadlines(), due, d);
    }

    /// Installed in a connected cancellation slot. Asio clears the slot when the waiter resumes;
    /// a cancellation between our resume() and then finds no handler and does nothing.
    struct cancel_park {
        parked_wait* wait;
        void operator()(boost::asio::cancellation_type) const noexcept { wait->expire_now(); }
    };

    static void request_expired(net::deadline_entry& e) noexcept
    {
        auto& r = static_cast<pending_request&>(e);
        r.session->unlink(r);  // a reply from now on is a plain message
        r.resume();
    }
    static void receive_expired(net::deadline_entry& e) noexcept
    {
        auto& p = static_cast<parked_receive&>(e);
        if (p.session->receiver_ == &p) p.session->receiver_ = nullptr;
        p.resume();
    }

    /// Returns when the connection has ended, whoever ended it. The caller's coroutine is parked
    /// as a bare completion handler kept here: no timer and no frame of its own (an idle user
    /// spends its whole run in this wait: PERF-FACTS.md puts a parked frame at ~400 B and a
    /// timer's pending wait at ~270). The caller holds the connection (its websocket handle)
    /// while it waits, and finish(), which every connection reaches, hands the handler back.
    task<> wait_closed()
    {
        return boost::asio::async_initiate<const boost::asio::use_awaitable_t<executor>&, void()>(
            [](auto handler, connection_base* self) {
                if (self->state_ == state::closed) {
                    boost::asio::post(self->get_executor(), std::move(handler));  // still a suspension point
                    return;
                }
                using waiter = parked_handler_of<decltype(handler)>;
                self->closed_waiters_ = new waiter(std::move(handler), self->closed_waiters_);
            },
            wsload::use_awaitable, this);
    }

    /// How this connection's replies name their requests (set once, before its requests).
    void set_reply_key(std::shared_ptr<const wsload::reply_key> k)
    {
        if (k) keyed_ = std::make_unique<keyed_requests>(std::move(k));
    }

    /// How this connection's pushes (messages no request claims) name their type: each is then
    /// counted by type (stats::shard::pushes). Set once, before connect().
    void set_push_type(std::shared_ptr<const wsload::reply_key> k) noexcept { push_type_ = std::move(k); }

    /// A protocol spoken over this connection's messages (Engine.IO for Socket.IO), before
    /// connect(): it sees every data message first and hands on what the behaviour should see
    /// (dispatch, claim_by_key). Requests are then keyed by what the protocol names (its ack ids).
    void speak(std::unique_ptr<message_protocol> p)
    {
        protocol_ = std::move(p);
        if (!keyed_) keyed_ = std::make_unique<keyed_requests>(nullptr);
    }
    message_protocol* protocol() const noexcept { return protocol_.get(); }

    /// A message the protocol over this connection hands on (an event, a reply without a key
    /// it knows): a waiting request claims it first, then a receiver, then the inbox (bounded).
    /// `attachments` (binary parts of the message: Socket.IO's) go with it. Counted already.
    void dispatch(std::string_view data, bool binary, std::vector<std::string>* attachments = nullptr)
    {
        if (keyed_ && keyed_->key_of && !keyed_->waiting.empty()) {
            if (const auto k = (*keyed_->key_of)(data)) {
                if (const auto found = keyed_->waiting.find(*k); found != keyed_->waiting.end()) {
                    auto& r = *found->second;
                    if (claim(r, (*r.match)(data, binary), data, binary, attachments)) return;
                }
            }
        }
        if (scanned_requests_)
            for (auto* r = requests_; r; r = r->next)
                if (!r->key && claim(*r, (*r->match)(data, binary), data, binary, attachments)) return;
        if (app_heartbeat_ && app_heartbeat_->outstanding && app_heartbeat_answered(data)) return;
        if (push_type_) [[unlikely]]
            count_push(data);
        if (receiver_) {
            auto& m = receiver_->slot->emplace(std::string(data), binary);
            if (attachments) m.attachments = std::move(*attachments);
            std::exchange(receiver_, nullptr)->resume();
            return;
        }
        if (inbox_limit_ == 0) return;  // the behaviour asked for no inbox: nothing is "dropped"
        if (inbox_.size() == inbox_limit_) {
            inbox_.erase(inbox_.begin());
            stats_[stats::counter_id::inbox_dropped].add();
        }
        auto& m = inbox_.emplace_back(std::string(data), binary);
        if (attachments) m.attachments = std::move(*attachments);
    }

    /// A heartbeat of the scenario's in flight (app_heartbeat): its state, while the connection
    /// beats; the beating loop is the transport's (ws_session_base::start_app_heartbeat).
    struct app_heartbeat_state {
        explicit app_heartbeat_state(wsload::app_heartbeat s) : settings(std::move(s)) {}
        wsload::app_heartbeat settings;
        clock::time_point sent_at{};
        bool outstanding = false;  ///< sent, its reply not yet come nor its timeout passed
        unsigned missed_in_a_row = 0;
        timer* wait = nullptr;  ///< the loop's timer while it runs (cancelled when the connection ends)
    };

    /// The message answers the heartbeat in flight: timed and taken.
    bool app_heartbeat_answered(std::string_view data)
    {
        auto& hb = *app_heartbeat_;
        if (!hb.settings.is_reply() || !hb.settings.is_reply()(data)) return false;
        hb.outstanding = false;
        hb.missed_in_a_row = 0;
        stats_[stats::counter_id::app_pongs_received].add();
        stats_[stats::histogram_id::app_ping_round_trip].record(elapsed_ns(hb.sent_at));
        return true;
    }

    /// A message no request claimed, counted by the type push_type reads from it ("(no type)"
    /// when it names none).
    void count_push(std::string_view data)
    {
        const auto type = (*push_type_)(data);
        stats_.pushes.count(type ? std::string_view(*type) : std::string_view("(no type)"));
    }

    /// A reply whose key the protocol read itself (a Socket.IO ack id): the request waiting
    /// under `key` takes it. False when none waits (never sent, answered already, timed out):
    /// the protocol counts that.
    bool claim_by_key(std::string_view key, std::string_view data, bool binary, std::vector<std::string>* attachments = nullptr)
    {
        if (!keyed_ || keyed_->waiting.empty()) return false;
        const auto found = keyed_->waiting.find(std::string(key));
        if (found == keyed_->waiting.end()) return false;
        auto& r = *found->second;
        return claim(r, (*r.match)(data, binary), data, binary, attachments);
    }

    /// The figures of requests named `name` (unnamed ones share one row) in this thread's shard.
    stats::named_request& named_figures(std::string_view name)
    {
        return detail::named_figures(stats_, request_type(), name);
    }

    /// Messages kept for receive() when nobody waits; the oldest is dropped beyond it.
    void set_inbox_limit(std::size_t n) noexcept { inbox_limit_ = n; }

    /// Logs this connection's connect, messages (contents bounded and masked), requests and end
    /// at debug as `tag` (--log-users). Before connect().
    void trace_as(std::string tag)
    {
        thread_.local<trace_registry>()[this].tag = std::move(tag);
        traced_ = true;
    }

protected:
    friend class connect_deadline;

    /// The attempt's bound passed (connect_deadline): the transport is closed under whatever
    /// step is pending, and the attempt counts as a timeout.
    void connect_deadline_passed() noexcept
    {
        if (state_ != state::connecting) return;
        timed_out_ = true;
        close_transport();
    }

    /// Operations on an ended connection still suspend once, so that a behaviour looping on
    /// them without checking is_open() cannot spin its thread and block the end of the run.
    task<> yield() { return boost::asio::post(get_executor(), wsload::use_awaitable); }

    /// Waits while `pending()` holds, polling each millisecond, for at most a second and within
    /// the close timeout: a close the behaviour or the run started lets the replies to requests
    /// (and pings) already sent arrive and be counted, since they were sent before the end.
    template <class Pending>
    task<> let_replies_arrive(Pending pending)
    {
        const auto until = clock::now() + std::min<std::chrono::nanoseconds>(thread_.settings().close_timeout,
                                                                          std::chrono::seconds(1));
        timer wait(get_executor());
        while (pending() && clock::now() < until) {
            wait.expires_after(std::chrono::milliseconds(1));
            co_await wait.async_wait(use_task);
        }
    }

    /// A data message arrived: counted once here, whoever takes it; the protocol over the
    /// connection reads it first if there is one, else it is dispatched.
    void deliver(std::string_view data, bool binary)
    {
        count_received(data.size());
        if (traced_) [[unlikely]]
            trace_message("received", data, binary);
        if (protocol_) [[unlikely]]
            return protocol_->on_message(data, binary);
        dispatch(data, binary);
    }

    /// `r` takes the message `verdict` says is its reply (accept, or reject: its reply saying it
    /// failed, a failure, not timed): counted, unlinked and resumed. False for `ignore`.
    bool claim(pending_request& r, reply verdict, std::string_view data, bool binary,
               std::vector<std::string>* attachments = nullptr)
    {
        if (verdict == reply::ignore) return false;
        if (verdict == reply::more) {  // a part: taken, and the request waits on for the rest
            if (!std::exchange(r.streamed, true)) stats_[stats::histogram_id::first_reply].record(elapsed_ns(r.sent_at));
            return true;
        }
        if (verdict == reply::reject) r.figures.rejected(), r.rejected = true;
        else r.figures.answered(elapsed_ns(r.sent_at));
        auto& m = r.reply.emplace(std::string(data), binary);
        if (attachments) m.attachments = std::move(*attachments);
        unlink(r);
        r.resume();
        return true;
    }

    // ---- what every layer's connect and send share: one accounting path -------------------

    /// The start every transport's attempt shares: counts the attempt, resolves (an IP literal
    /// without the resolver, nor its coroutine frame: it matters at thousands of connects per
    /// second), arms `deadline`, connects TCP and, on a TLS stream, runs the TLS handshake (SNI
    /// for names, peer verification unless --insecure). False when a step failed: the transport
    /// is closed and the attempt counted once, in its class.
    template <class Stream>
    task<bool> connect_transport(Stream& stream, const url& u, connect_deadline& deadline, connect_times& t)
    {
        stats_[stats::counter_id::connect_attempts].add();
        t.start = clock::now();
        if (traced_) thread_.local<trace_registry>()[this].url = mask_secrets(u.to_string());
        std::vector<boost::asio::ip::tcp::endpoint> endpoints;
        error_code ec;
        if (const auto address = boost::asio::ip::make_address(u.host, ec); !ec) {
            endpoints.emplace_back(address, u.port);
        } else {
            auto [rec, resolved] = co_await net::resolve(get_executor(), u);
            if (rec) co_return fail_attempt(connect_phase::resolve, rec);
            endpoints = std::move(resolved);
        }
        deadline.arm(shared_from_this(), thread_.settings().connect_timeout);
        auto& socket = boost::beast::get_lowest_layer(stream);
        auto [cec, endpoint] = co_await boost::asio::async_connect(socket, endpoints, exact_task());
        if (cec) co_return fail_attempt(connect_phase::tcp, cec);
        t.tcp = t.tls = clock::now();
        socket.set_option(boost::asio::ip::tcp::no_delay(true), cec);
        // --tls-resume: sessions are kept per host:port (detail/tls_session_pool.hpp).
        const auto resume_place = [&] { return thread_.resumes_tls() ? u.host + ":" + std::to_string(u.port) : std::string(); };
        if constexpr (is_tls_stream<Stream>) {
            prepare_tls_client(stream, u.host, thread_.verifies_peers());
            if (const auto place = resume_place(); !place.empty()) tls_session_pool::attach(stream.native_handle(), place);
            auto [tec] = co_await stream.async_handshake(boost::asio::ssl::stream_base::client, exact_task());
            if (tec) co_return fail_attempt(connect_phase::tls, tec);
            t.tls = clock::now();
            if (SSL_session_reused(stream.native_handle())) stats_[stats::counter_id::tls_sessions_resumed].add();
        } else if constexpr (std::is_same_v<Stream, lean_stream>) {
            // The connect's wait was a write operation, so asio now watches the descriptor for
            // EPOLLOUT for good, and each readiness wait for reading re-arms it with that too
            // (epoll_ctl MOD): a writable socket then reports a useless EPOLLOUT after every
            // message read, which asio dispatches and drops; at 1,000 x 10 msg/s a quarter of the
            // client's epoll_wait calls returned only such events. Handed back to the reactor
            // afresh (one DEL and one ADD per connection), it is watched for reading only; a
            // write that must wait adds EPOLLOUT again (under backpressure only).
            if (const auto fd = socket.release(cec); !cec) {
                socket.assign(endpoint.protocol(), fd, cec);
                if (cec) ::close(fd);  // the reactor refused it (no memory): not leaked
            }
            if (cec) co_return fail_attempt(connect_phase::tcp, cec);
            socket.non_blocking(true, cec);  // the lean layers try, then wait for readiness
            if (u.tls) {
                const auto tec = co_await stream.tls_handshake(thread_.tls().native_handle(), u.host,
                                                               thread_.verifies_peers(), resume_place());
                if (tec) co_return fail_attempt(connect_phase::tls, tec);
                t.tls = clock::now();
                if (stream.resumed_session()) stats_[stats::counter_id::tls_sessions_resumed].add();
            }
        }
        co_return true;
    }

    /// The whole attempt of a transport without a handshake of its own (raw TCP, HTTP): the
    /// shared start, its timings (no handshake phase), and the open connection counted. True
    /// when it opened (a stop that came meanwhile may have begun its end already).
    task<bool> connect_without_handshake(lean_stream& stream, const url& u)
    {
        connect_deadline deadline(get_executor());
        connect_times t;
        if (!co_await connect_transport(stream, u, deadline, t)) co_return false;
        deadline.cancel();
        record_connect(t.start, t.tcp, t.tls, t.tls, stream.is_tls(), false);
        opened();
        co_return true;
    }

    /// A step of the attempt failed: the transport closes and the attempt is counted
    /// (connect_failed's arguments). False, for `co_return fail_attempt(...)`.
    template <class... Why>
    bool fail_attempt(const Why&... why)
    {
        close_transport();
        return connect_failed(why...);
    }

    /// Closes the socket under whatever is pending (the connect deadline, an abort).
    virtual void close_transport() noexcept = 0;

    /// A failed attempt, counted once in its class; the layer has closed its socket. Our own
    /// deadline (`timed_out_`) or the run's abort (`aborted_`) win over the error, which is then
    /// only the echo of our cancellation. Returns false, for `co_return connect_failed(...)`.
    bool connect_failed(connect_phase phase, const error_code& ec)
    {
        return connect_failed(classify_connect_error(phase, ec, timed_out_, aborted_), ec, 0);
    }
    bool connect_failed(stats::connect_failure why, const error_code& ec, unsigned http_status)
    {
        stats_.count_failure(why, http_status);
        if (traced_)
            trace("connect to " + thread_.local<trace_registry>()[this].url + " failed (" + std::string(stats::name(why)) +
                  (http_status ? ", HTTP status " + std::to_string(http_status) : std::string()) + "): " + ec.message());
        if (log_enabled(log_level::debug))
            log(log_level::debug, "connect failed (" + std::string(stats::name(why)) + "): " + ec.message());
        finish(stats::disconnect_reason::network);  // not established: nothing counted, just unlinked
        return false;
    }

    /// The phases of a successful attempt: t0 its start (before DNS), then the TCP connect, the
    /// TLS handshake (t_tls == t_tcp without TLS) and the transport's own handshake (a WebSocket
    /// upgrade; none for raw TCP: t_open == t_tls).
    void record_connect(clock::time_point t0, clock::time_point t_tcp, clock::time_point t_tls, clock::time_point t_open,
                        bool tls, bool handshake = true) noexcept
    {
        record_span(stats::histogram_id::connect, t0, t_open);
        record_span(stats::histogram_id::connect_tcp, t0, t_tcp);  // DNS of a literal is free
        if (tls) record_span(stats::histogram_id::connect_tls, t_tcp, t_tls);
        if (handshake) record_span(stats::histogram_id::connect_upgrade, t_tls, t_open);
        if (traced_) [[unlikely]] {
            try {
                std::string phases = "tcp " + trace_ms(t_tcp - t0);
                if (tls) phases += ", tls " + trace_ms(t_tls - t_tcp);
                if (handshake) phases += ", upgrade " + trace_ms(t_open - t_tls);
                trace("connected to " + thread_.local<trace_registry>()[this].url + " in " + trace_ms(t_open - t0) + " (" +
                      phases + ")");
            } catch (...) {  // a log line never fails a connect
            }
        }
    }

    /// Around a layer's write(): one send at a time per connection, and a message counted once,
    /// when the socket has taken all of it.
    /// One message of write_group(), the turn held by the caller: sent, traced, not counted
    /// (the group counts each part). Only message-framed transports have it.
    virtual task<error_code> send_on_turn(std::string_view, bool)
    {
        throw std::logic_error("wsload: this transport cannot send messages as one group (a Socket.IO binary packet)");
    }

    /// Sends from several coroutines of one user (a request and a heartbeat of the scenario's,
    /// `a && b`) go out one at a time, in the order they came, so that a message's frames never
    /// interleave with another's. A write starts with
    ///     if (!open_and_claim_write()) {
    ///         write_waiter turn;
    ///         if (!co_await wait_write_turn(turn)) co_return not_connected;
    ///     }
    /// which neither suspends nor allocates when the connection is open and no other send is
    /// under way, and ends with end_write(), which hands the turn to the next in line. A send
    /// that finds the turn taken waits as a node in its own frame (write_waiter): no allocation.
    bool open_and_claim_write() noexcept { return state_ == state::open && claim_write(); }
    bool claim_write() noexcept
    {
        if (writing_) return false;
        writing_ = true;
        return true;
    }
    /// Not open (false, after one suspension: a behaviour looping on a closed connection must
    /// not spin its thread), or the turn came, in the order the sends asked for it; false when
    /// the connection ended meanwhile (the turn is passed on). `w` lives in the caller's frame.
    task<bool> wait_write_turn(write_waiter& w)
    {
        return boost::asio::async_initiate<const boost::asio::use_awaitable_t<executor>&, void(bool)>(
            [](write_waiter::handler_type handler, connection_base* self, write_waiter* w) {
                if (self->state_ != state::open || self->claim_write()) {
                    const bool open = self->state_ == state::open;
                    boost::asio::post(self->get_executor(), [h = std::move(handler), open]() mutable { std::move(h)(open); });
                    return;
                }
                w->handler.emplace(std::move(handler));
                // The ring's newest: write_waiters_ points at it, and it at the oldest.
                if (auto* newest = self->write_waiters_) {
                    w->next = newest->next;
                    newest->next = w;
                } else {
                    w->next = w;
                }
                self->write_waiters_ = w;
            },
            wsload::use_awaitable, this, &w);
    }
    /// Resumes the oldest waiter with the turn (posted: never inline, the caller may be another
    /// coroutine). It is told whether the connection is still open when it runs; if not, it
    /// gives the turn on at once.
    struct grant_turn {
        write_waiter::handler_type handler;
        connection_base* self;  // alive: the waiting send holds the connection
        void operator()()
        {
            const bool open = self->state_ == state::open;
            if (!open) self->pass_write_turn();
            std::move(handler)(open);
        }
    };
    void end_write(const error_code& ec, std::size_t bytes) noexcept
    {
        pass_write_turn();
        if (!ec) count_sent(bytes);
    }
    /// The send is over: the next in line (if any) takes the turn.
    void pass_write_turn() noexcept
    {
        auto* const newest = write_waiters_;
        if (!newest) {
            writing_ = false;
            return;
        }
        // The turn passes on (writing_ stays set): nobody who comes later can take it first.
        auto* const oldest = newest->next;
        if (oldest == newest) write_waiters_ = nullptr;
        else newest->next = oldest->next;
        auto handler = std::move(*oldest->handler);
        oldest->handler.reset();
        boost::asio::post(get_executor(), grant_turn{std::move(handler), this});
    }
    /// A message of `bytes` payload bytes went out whole.
    void count_sent(std::size_t bytes) noexcept
    {
        stats_[stats::counter_id::messages_sent].add();
        stats_[stats::counter_id::bytes_sent].add(bytes);
    }
    /// A message of `bytes` payload bytes came in (deliver() counts the messages it hands on).
    void count_received(std::size_t bytes) noexcept
    {
        stats_[stats::counter_id::messages_received].add();
        stats_[stats::counter_id::bytes_received].add(bytes);
    }

    /// The connection is open: count it and honour a stop that came while it was opening.
    void opened()
    {
        state_ = state::open;
        stats_[stats::counter_id::connect_successes].add();
        stats_[stats::counter_id::active_connections].add();
        if (thread_.stopping()) on_stop();  // a stop that came while it was opening
    }

    /// The one place a connection's end is counted. Idempotent: the first caller's reason wins.
    void finish(stats::disconnect_reason why, unsigned close_code = 0)
    {
        if (state_ == state::closed) return;
        const bool was_established = state_ == state::open || state_ == state::closing;
        state_ = state::closed;
        if (was_established) {
            end_reason_ = why;
            close_code_ = close_code;
            stats_[stats::counter_id::active_connections].sub();
            stats_.count_disconnect(why, close_code);
            if (traced_)
                trace("closed (" + std::string(stats::name(why)) +
                      (close_code ? ", code " + std::to_string(close_code) : std::string()) + ")");
        }
        thread_.untrack(*this);
        if (keyed_) keyed_->waiting.clear();
        scanned_requests_ = 0;
        for (auto* r = std::exchange(requests_, nullptr); r;) {
            auto* const next = std::exchange(r->next, nullptr);
            r->link = nullptr;  // out of the list (its key left with the lookup's clear)
            r->key = nullptr;
            r->resume();
            r = next;
        }
        if (receiver_) std::exchange(receiver_, nullptr)->resume();
        for (auto* w = std::exchange(closed_waiters_, nullptr); w;) {
            const std::unique_ptr<parked_handler> done(std::exchange(w, w->next));
            done->resume();
        }
        if (protocol_) protocol_->on_end();
        if (app_heartbeat_ && app_heartbeat_->wait) app_heartbeat_->wait->cancel();
        ended();
    }

    /// After finish(): what the transport stops with the connection (a heartbeat).
    virtual void ended() noexcept {}

    void record_span(stats::histogram_id id, clock::time_point from, clock::time_point to) noexcept
    {
        stats_[id].record(static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(to - from).count()));
    }

    static std::uint64_t elapsed_ns(clock::time_point since) noexcept { return request_accounting::elapsed_ns(since); }

    // ---- --log-users: a traced connection's lines (callers test traced_ first) ------------

    // Out of line and cold: the string work stays out of the hot paths and coroutine frames
    // that test traced_.

    /// One line of this connection's, tagged with its owner's tag.
    [[gnu::cold, gnu::noinline]] void trace(std::string_view text) const noexcept
    {
        try {
            log_traced(trace_component(request_type()), thread_.local<trace_registry>()[this].tag, text);
        } catch (...) {  // a log line never fails a connection
        }
    }
    /// `sent: {"hello":1}` with the content bounded and masked (log_content).
    [[gnu::cold, gnu::noinline]] void trace_message(std::string_view what, std::string_view data, bool binary) const noexcept
    {
        try {
            trace(std::string(what) + (binary ? " binary: " : ": ") + log_content(data, binary));
        } catch (...) {
        }
    }
    /// `request "login" <outcome>`, `request <outcome>` for an unnamed one; then the time since
    /// `since` if given, or `<failure class>)`.
    [[gnu::cold, gnu::noinline]] void trace_request(std::string_view name, std::string_view outcome,
                                                    clock::time_point since, std::string_view failure = {}) const noexcept
    {
        try {
            std::string text = name.empty() ? std::string("request") : "request " + wsload::detail::quoted(name);
            text += outcome;
            if (since != clock::time_point{}) text += trace_ms(clock::now() - since);
            if (!failure.empty()) text.append(failure).append(")");
            trace(text);
        } catch (...) {
        }
    }
    /// `upgrade adds: Origin: https://app.test, Cookie: ***`: the lines a handshake added to its
    /// own, each masked as mask_secrets masks a header line. Nothing when there are none.
    [[gnu::cold, gnu::noinline]] void trace_fields(std::string_view what, const std::vector<header_field>& fields) const noexcept
    {
        if (fields.empty()) return;
        try {
            std::string text(what);
            for (std::size_t i = 0; i < fields.size(); ++i)
                text += (i ? ", " : ": ") + mask_secrets(fields[i].first + ": " + fields[i].second);
            trace(text);
        } catch (...) {
        }
    }
    /// After a layer's write: the message, or why it did not go out.
    [[gnu::cold, gnu::noinline]] void trace_sent(const error_code& ec, std::string_view data, bool binary) const noexcept
    {
        if (!ec) return trace_message("sent", data, binary);
        try {
            trace("send of " + std::to_string(data.size()) + " bytes failed: " + ec.message());
        } catch (...) {
        }
    }

    /// Into the waiting requests, first.
    void link(pending_request& r) noexcept
    {
        r.next = requests_;
        r.link = &requests_;
        if (requests_) requests_->link = &r.next;
        requests_ = &r;
    }

    /// Out of the waiting requests (a no-op for one already out): O(1), so that a reply costs
    /// the same with 100 requests in flight as with one (bench/run --only keyed).
    void unlink(pending_request& r) noexcept
    {
        if (!r.link) return;
        *r.link = r.next;
        if (r.next) r.next->link = r.link;
        r.link = nullptr;
        r.next = nullptr;
        if (r.key) keyed_->waiting.erase(*std::exchange(r.key, nullptr));
        else --scanned_requests_;
    }

    /// Files `r` under `key`; the key's copy in the lookup, which lives as long as r waits.
    const std::string& add_keyed(std::string_view key, pending_request& r)
    {
        if (!keyed_)
            throw std::logic_error("wsload: a request with a key (\"" + std::string(key) +
                                   "\") on a connection opened without reply_key(...): its replies name no request");
        auto [at, added] = keyed_->waiting.try_emplace(std::string(key), &r);
        if (!added)
            throw std::logic_error("wsload: two requests in flight with the key \"" + std::string(key) +
                                   "\" on one connection: a reply could not tell them apart");
        return at->first;
    }

    // In an order that leaves no padding: every idle connection holds these.
    io_thread& thread_;
    stats::shard& stats_;
    stats::disconnect_reason end_reason_ = stats::disconnect_reason::network;
    unsigned close_code_ = 0;
    std::uint32_t scanned_requests_ = 0;  ///< waiting requests without a key: asked in turn
    state state_ = state::connecting;
    bool close_started_ = false;  ///< this side began the ending (a close, a stop)
    bool writing_ = false;
    bool timed_out_ = false;  ///< connecting: our deadline closed the socket
    bool aborted_ = false;    ///< connecting: the run's abort closed it
    bool traced_ = false;     ///< --log-users chose its owner (trace_as): its events are logged
    pending_request* requests_ = nullptr;
    std::unique_ptr<keyed_requests> keyed_;  ///< null until the connection is given a reply_key
    std::unique_ptr<message_protocol> protocol_;  ///< null: messages go straight to dispatch()
    std::shared_ptr<const wsload::reply_key> push_type_;  ///< null: pushes are not counted by type
    std::unique_ptr<app_heartbeat_state> app_heartbeat_;  ///< null: no heartbeat of the scenario's
    parked_receive* receiver_ = nullptr;
    parked_handler* closed_waiters_ = nullptr;
    write_waiter* write_waiters_ = nullptr;  ///< sends waiting for their turn: the newest, in a ring
    std::size_t inbox_limit_ = 64;
    std::vector<message> inbox_;  // a vector: an empty std::deque allocates ~600 B
};

}  // namespace wsload::net::detail
