#pragma once
// The figures a run records. Each worker thread owns one `shard` and is its only writer;
// readers (the progress line, the final report) merge shards into `totals` at any time.

#include <wsload/stats/counter.hpp>
#include <wsload/stats/histogram.hpp>
#include <wsload/stats/errors.hpp>
#include <wsload/stats/labelled.hpp>
#include <wsload/stats/generator.hpp>
#include <wsload/stats/named.hpp>
#include <wsload/stats/taxonomy.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <span>
#include <string_view>

namespace wsload::stats {

enum class counter_id : std::size_t {
    connect_attempts,
    connect_successes,
    active_connections,  ///< a gauge: +1 on connect, -1 on disconnect (per shard, never negative)
    messages_sent,
    messages_received,
    bytes_sent,
    bytes_received,
    pings_sent,
    pongs_received,
    pongs_missed,  ///< pings whose pong had not come back when the next ping was due
    requests_sent,
    requests_answered,
    requests_timed_out,
    requests_failed,  ///< the connection ended while the request waited for its reply
    users_started,
    users_finished,
    behaviour_errors,  ///< a behaviour threw: the user ends, the run goes on
    inbox_dropped,     ///< received messages nobody took, dropped beyond the inbox limit
    requests_rejected, ///< answered with a reply its matcher rejected (an error status): a failure
    tls_sessions_resumed,  ///< TLS handshakes that resumed an earlier session (--tls-resume)
    upload_bytes,          ///< request body bytes sent in pieces (HTTP uploads); also in bytes_sent
    users_stopped,         ///< users the load shape stopped before the run's end (a ramp-down)
    users_aborted,         ///< of those, users still running after the ramp-down timeout
    iterations,            ///< iterations that ran to their end (the iteration form of a behaviour)
    iteration_errors,      ///< iterations ended by an exception (by message in the errors table)
    dropped_iterations,    ///< arrivals of an open-model shape that found no free user to run them
    server_pings_answered, ///< keep-alive pings the server's protocol sent and the client answered (Engine.IO)
    unmatched_replies,     ///< replies naming no waiting request: an unknown or repeated ack id, or one past its timeout
    app_pings_sent,        ///< application heartbeats sent (app_heartbeat: a message of the scenario's)
    app_pongs_received,    ///< their replies, within the heartbeat's timeout
    app_pongs_missed,      ///< heartbeats with no reply within their timeout
    reconnects_given_up,   ///< users that ran out of reconnect attempts (keep_connected)
    late_sends,            ///< sends (and arrivals) later than their intended time by over late_send_threshold
    count_
};

enum class histogram_id : std::size_t {
    connect,          ///< attempt start to open connection (DNS, TCP, TLS and the transport's handshake)
    connect_tcp,      ///< TCP three-way handshake
    connect_tls,      ///< TLS handshake (wss only)
    connect_upgrade,  ///< the transport's handshake (a WebSocket upgrade to its 101); none for raw TCP
    round_trip,       ///< request to matched reply, from the intended send time
    ping_round_trip,  ///< heartbeat ping to its pong
    upload,           ///< sending a request body sent in pieces (an HTTP upload): first byte to last
    iteration,        ///< one iteration of a behaviour, start to end (failed ones too)
    first_reply,      ///< request to the first part of a reply that comes in several (reply::more)
    app_ping_round_trip,  ///< application heartbeat to its reply
    event_loop_lag,   ///< how late a worker's timers fired (its lag probe, its deadline queue)
    send_lateness,    ///< of late sends only: how much later than intended they went out
    count_
};

inline constexpr std::size_t counter_count = static_cast<std::size_t>(counter_id::count_);
inline constexpr std::size_t histogram_count = static_cast<std::size_t>(histogram_id::count_);

inline constexpr std::array<std::string_view, counter_count> counter_names{
    "connect_attempts",  "connect_successes", "active_connections", "messages_sent",
    "messages_received", "bytes_sent",        "bytes_received",     "pings_sent",
    "pongs_received",    "pongs_missed",      "requests_sent",      "requests_answered",
    "requests_timed_out", "requests_failed",  "users_started",      "users_finished",
    "behaviour_errors",  "inbox_dropped",     "requests_rejected",  "tls_sessions_resumed", "upload_bytes",
    "users_stopped",     "users_aborted",     "iterations",         "iteration_errors",   "dropped_iterations",
    "server_pings_answered", "unmatched_replies", "app_pings_sent", "app_pongs_received", "app_pongs_missed",
    "reconnects_given_up", "late_sends"};

inline constexpr std::array<std::string_view, histogram_count> histogram_names{
    "connect", "connect_tcp", "connect_tls", "connect_upgrade", "round_trip", "ping_round_trip", "upload", "iteration",
    "first_reply", "app_ping_round_trip", "event_loop_lag", "send_lateness"};

/// HTTP statuses and WebSocket close codes are counted per value, in flat arrays:
/// no map, no lock, a few KB per thread.
inline constexpr std::size_t http_status_limit = 600;
inline constexpr std::size_t close_code_limit = 5000;

/// One thread's figures. Written only by its owner thread.
struct shard {
    std::array<counter, counter_count> counters;
    std::array<counter, connect_failure_count> connect_failures;
    std::array<counter, disconnect_reason_count> disconnects;
    std::array<counter, http_status_limit> http_statuses;  ///< of http_status connect failures
    std::array<counter, close_code_limit> close_codes;     ///< of server_close disconnects
    std::array<counter, request_failure_count> request_failures;  ///< requests_failed, by class
    std::array<counter, http_status_limit> http_responses;  ///< HTTP responses to requests, per status code
    std::array<histogram, histogram_count> histograms;
    /// Round trips of the current second only; the owner thread moves it into its per-second
    /// record and resets it at each second boundary (time series).
    histogram round_trip_this_second;
    /// Requests by name (every request also counts in the counters and round_trip above).
    named_table requests;
    /// Exceptions of behaviours and iterations, by message.
    error_table errors;
    /// Messages no request claimed, by type, on connections that name their type (push_type).
    labelled_counts pushes;
    /// Reconnects (keep_connected), by the reason of the end that caused them.
    labelled_counts reconnects;
    /// The largest timer lateness of the current second (event_loop_lag's samples); the owner
    /// thread reads and resets it at each second boundary, and no other thread reads it.
    std::uint64_t lag_max_this_second = 0;

    counter& operator[](counter_id id) noexcept { return counters[static_cast<std::size_t>(id)]; }
    histogram& operator[](histogram_id id) noexcept { return histograms[static_cast<std::size_t>(id)]; }

    void count_failure(connect_failure f, unsigned http_status = 0) noexcept
    {
        connect_failures[static_cast<std::size_t>(f)].add();
        if (f == connect_failure::http_status && http_status < http_status_limit) http_statuses[http_status].add();
    }
    /// A request that failed, in its class (requests_failed counts it too).
    void count_request_failure(request_failure f) noexcept
    {
        (*this)[counter_id::requests_failed].add();
        request_failures[static_cast<std::size_t>(f)].add();
    }
    /// An HTTP response's status (a code outside 100..599 counts as 0: the response line said so).
    void count_http_response(unsigned status) noexcept
    {
        http_responses[status >= 100 && status < http_status_limit ? status : 0].add();
    }
    /// A send (or an arrival) that went out `late_ns` after its intended time, which is over
    /// late_send_threshold (the caller compared).
    void count_late_send(std::uint64_t late_ns) noexcept
    {
        (*this)[counter_id::late_sends].add();
        (*this)[histogram_id::send_lateness].record(late_ns);
    }
    /// A timer of this thread ran its handler `late_ns` after it was due: event-loop lag.
    void record_lag(std::uint64_t late_ns) noexcept
    {
        (*this)[histogram_id::event_loop_lag].record(late_ns);
        if (late_ns > lag_max_this_second) lag_max_this_second = late_ns;
    }
    void count_disconnect(disconnect_reason r, unsigned close_code = 0) noexcept
    {
        disconnects[static_cast<std::size_t>(r)].add();
        if (r == disconnect_reason::server_close && close_code < close_code_limit) close_codes[close_code].add();
    }
};

/// Merged counters of any number of shards: what the once-a-second progress line needs.
struct counter_totals {
    std::array<std::uint64_t, counter_count> counters{};
    std::array<std::uint64_t, connect_failure_count> connect_failures{};
    std::array<std::uint64_t, disconnect_reason_count> disconnects{};
    std::array<std::uint64_t, http_status_limit> http_statuses{};
    std::array<std::uint64_t, close_code_limit> close_codes{};
    std::array<std::uint64_t, request_failure_count> request_failures{};
    std::array<std::uint64_t, http_status_limit> http_responses{};

    std::uint64_t operator[](counter_id id) const noexcept { return counters[static_cast<std::size_t>(id)]; }
    std::uint64_t failures() const noexcept { return sum(connect_failures); }
    std::uint64_t disconnect_total() const noexcept { return sum(disconnects); }
    std::uint64_t failed(connect_failure f) const noexcept { return connect_failures[static_cast<std::size_t>(f)]; }
    std::uint64_t ended(disconnect_reason r) const noexcept { return disconnects[static_cast<std::size_t>(r)]; }
    std::uint64_t failed(request_failure f) const noexcept { return request_failures[static_cast<std::size_t>(f)]; }

    void add(const shard& s) noexcept
    {
        each_array(s, [](auto& into, const auto& from) { accumulate(into, from); });
    }
    void add(const counter_totals& t) noexcept
    {
        each_array(t, [](auto& into, const auto& from) { accumulate(into, from); });
    }
    /// Takes away `earlier`, an earlier reading of the same shards: what was counted between the
    /// two. The gauge (active_connections) keeps this reading's value: open at the later moment.
    void subtract(const counter_totals& earlier) noexcept
    {
        const auto gauge = (*this)[counter_id::active_connections];
        each_array(earlier, [](auto& from, const auto& before) { deduct(from, before); });
        counters[static_cast<std::size_t>(counter_id::active_connections)] = gauge;
    }

private:
    /// Calls f(ours, theirs) on each array of figures; `other` is a shard or counter_totals.
    template <class Other, class F>
    void each_array(const Other& other, F f) noexcept
    {
        f(counters, other.counters);
        f(connect_failures, other.connect_failures);
        f(disconnects, other.disconnects);
        f(http_statuses, other.http_statuses);
        f(close_codes, other.close_codes);
        f(request_failures, other.request_failures);
        f(http_responses, other.http_responses);
    }
    template <std::size_t N>
    static void deduct(std::array<std::uint64_t, N>& from, const std::array<std::uint64_t, N>& earlier) noexcept
    {
        for (std::size_t i = 0; i < N; ++i) from[i] -= earlier[i];
    }
    template <std::size_t N>
    static std::uint64_t sum(const std::array<std::uint64_t, N>& a) noexcept
    {
        std::uint64_t s = 0;
        for (auto v : a) s += v;
        return s;
    }
    template <std::size_t N>
    static void accumulate(std::array<std::uint64_t, N>& into, const std::array<counter, N>& from) noexcept
    {
        for (std::size_t i = 0; i < N; ++i) into[i] += from[i].get();
    }
    template <std::size_t N>
    static void accumulate(std::array<std::uint64_t, N>& into, const std::array<std::uint64_t, N>& from) noexcept
    {
        for (std::size_t i = 0; i < N; ++i) into[i] += from[i];
    }
};

/// Merged figures with the latency histograms (threads now, processes and machines later):
/// exact, since counters add and histograms merge bucket by bucket.
struct totals : counter_totals {
    std::array<histogram, histogram_count> histograms;
    named_map requests;
    error_counts errors;  ///< exceptions by message
    label_counts pushes;  ///< messages no request claimed, by type
    label_counts reconnects;  ///< reconnects by the reason that caused them

    using counter_totals::operator[];
    const histogram& operator[](histogram_id id) const noexcept
    {
        return histograms[static_cast<std::size_t>(id)];
    }

    void add(const shard& s)
    {
        counter_totals::add(s);
        for (std::size_t i = 0; i < histogram_count; ++i) histograms[i].merge(s.histograms[i]);
        s.requests.for_each([this](const named_request& r) { requests[r.key].add(r); });
        s.errors.add_to(errors);
        s.pushes.add_to(pushes);
        s.reconnects.add_to(reconnects);
    }
    void add(const totals& t)
    {
        counter_totals::add(t);
        for (std::size_t i = 0; i < histogram_count; ++i) histograms[i].merge(t.histograms[i]);
        for (const auto& [key, figures] : t.requests) requests[key].add(figures);
        merge_errors(errors, t.errors);
        merge_labels(pushes, t.pushes);
        merge_labels(reconnects, t.reconnects);
    }
    /// Takes away `earlier`, an earlier reading of the same shards (counter_totals::subtract;
    /// histograms bucket by bucket: histogram::subtract; errors and pushes by label). Names and
    /// labels with nothing since are dropped.
    /// Throws std::invalid_argument when `earlier` is not earlier.
    void subtract(const totals& earlier)
    {
        counter_totals::subtract(earlier);
        for (std::size_t i = 0; i < histogram_count; ++i) histograms[i].subtract(earlier.histograms[i]);
        for (auto it = requests.begin(); it != requests.end();) {
            if (const auto e = earlier.requests.find(it->first); e != earlier.requests.end())
                it->second.subtract(e->second);
            it = it->second.empty() ? requests.erase(it) : std::next(it);
        }
        subtract_labels(errors, earlier.errors);
        subtract_labels(pushes, earlier.pushes);
        subtract_labels(reconnects, earlier.reconnects);
    }
};

/// Merges the shards of a run: `Totals` is counter_totals (cheap, for progress) or totals.
template <class Totals>
std::unique_ptr<Totals> collect(std::span<const shard* const> shards)
{
    auto t = std::make_unique<Totals>();
    for (const auto* s : shards) t->add(*s);
    return t;
}

}  // namespace wsload::stats
