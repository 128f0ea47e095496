#pragma once
// The metric catalogue: one list of the latency histograms and one of the counters, with what
// every output needs of each (its identifier, the words people read, the other names they may
// type, the Prometheus docstring). The outputs and the thresholds iterate them instead of
// naming each metric, so a metric added here shows up everywhere at once, and a name given once
// is the same everywhere. (The console's sections still pick the counters they explain.)

#include <wsload/stats/metrics.hpp>

#include <array>
#include <optional>
#include <string_view>

namespace wsload::stats {

/// What a histogram's timed events belong to: a connect (its whole and its phases), a request
/// (its round trip, or a phase of it: an upload), the transport's keep-alive, an iteration, or
/// the generator itself (how late its timers and sends were: stats/generator.hpp). The stats
/// table's Type column, and the report's grouping.
enum class histogram_group { connect, request, heartbeat, iteration, generator };

struct histogram_info {
    histogram_id id;
    std::string_view name;     ///< the identifier: JSON keys, thresholds, `wsload_<name>_seconds`
    std::string_view label;    ///< in the console and HTML latency tables ("tls", "ping rtt")
    std::string_view row;      ///< its row in the Locust-style stats table ("connect tls")
    histogram_group group;
    std::array<std::string_view, 2> aliases;  ///< other names a threshold may use
    std::string_view help;     ///< the Prometheus docstring
    bool always_shown;         ///< listed even when nothing was timed (else only when it was)
};

/// Every histogram, in report order (the order of histogram_id).
inline constexpr std::array<histogram_info, histogram_count> histogram_catalogue{{
    {histogram_id::connect, "connect", "total", "connect", histogram_group::connect, {},
     "Whole connect: DNS, TCP, TLS and the transport's handshake.", true},
    {histogram_id::connect_tcp, "connect_tcp", "tcp", "connect tcp", histogram_group::connect, {},
     "TCP handshake.", true},
    {histogram_id::connect_tls, "connect_tls", "tls", "connect tls", histogram_group::connect, {},
     "TLS handshake (wss://, tls://).", false},
    // The transport's own handshake after TCP and TLS: a WebSocket upgrade (raw TCP has none).
    {histogram_id::connect_upgrade, "connect_upgrade", "upgrade", "connect upgrade", histogram_group::connect,
     {"connect_handshake", {}}, "The transport's handshake after TCP and TLS (a WebSocket upgrade to its 101).",
     false},
    {histogram_id::round_trip, "round_trip", "rtt", "round trip", histogram_group::request, {"rtt", {}},
     "Request to matched reply, from the intended send time.", true},
    {histogram_id::ping_round_trip, "ping_round_trip", "ping rtt", "ping", histogram_group::heartbeat,
     {"ping", {}}, "Heartbeat ping to its pong.", false},
    {histogram_id::upload, "upload", "upload", "upload", histogram_group::request, {},
     "Sending a request body sent in pieces (an HTTP upload), first byte to last.", false},
    {histogram_id::iteration, "iteration", "iteration", "iteration", histogram_group::iteration,
     {"iteration_duration", {}}, "One iteration of a behaviour (its iteration form), start to end, failed ones too.",
     false},
    {histogram_id::first_reply, "first_reply", "first reply", "first reply", histogram_group::request,
     {"time_to_first_reply", {}}, "Request to the first part of a reply that comes in several messages (its last part is in round_trip).",
     false},
    {histogram_id::app_ping_round_trip, "app_ping_round_trip", "app ping rtt", "app ping", histogram_group::heartbeat,
     {"app_ping", {}}, "Application heartbeat (a message of the scenario's) to its reply.", false},
    {histogram_id::event_loop_lag, "event_loop_lag", "loop lag", "event loop lag", histogram_group::generator,
     {"lag", {}}, "How late the generator's timers fired (a probe about every 100 ms per worker, and its deadline queue).",
     false},
    {histogram_id::send_lateness, "send_lateness", "late send", "late send", histogram_group::generator, {},
     "Sends and arrivals that went out over 1 ms later than intended: how much later.", false},
}};

/// A counter counts up; a gauge goes up and down (open connections).
enum class counter_kind { counter, gauge };

struct counter_info {
    counter_id id;
    std::string_view name;  ///< the identifier: JSON keys, thresholds, `wsload_<name>_total`
    counter_kind kind;
    std::string_view help;  ///< the Prometheus docstring
};

/// Every counter, in counter_id order. The words say what every transport counts alike.
inline constexpr std::array<counter_info, counter_count> counter_catalogue{{
    {counter_id::connect_attempts, "connect_attempts", counter_kind::counter, "Connection attempts started."},
    {counter_id::connect_successes, "connect_successes", counter_kind::counter,
     "Connection attempts that opened a connection (its handshake included)."},
    {counter_id::active_connections, "active_connections", counter_kind::gauge,
     "Connections open now (every transport)."},
    {counter_id::messages_sent, "messages_sent", counter_kind::counter, "Messages sent (every transport)."},
    {counter_id::messages_received, "messages_received", counter_kind::counter,
     "Messages received (every transport)."},
    {counter_id::bytes_sent, "bytes_sent", counter_kind::counter, "Payload bytes sent."},
    {counter_id::bytes_received, "bytes_received", counter_kind::counter, "Payload bytes received."},
    {counter_id::pings_sent, "pings_sent", counter_kind::counter, "Heartbeat pings sent."},
    {counter_id::pongs_received, "pongs_received", counter_kind::counter, "Heartbeat pongs received."},
    {counter_id::pongs_missed, "pongs_missed", counter_kind::counter,
     "Pings whose pong had not come back when the next ping was due."},
    {counter_id::requests_sent, "requests_sent", counter_kind::counter,
     "Requests sent (messages that wait for a reply)."},
    {counter_id::requests_answered, "requests_answered", counter_kind::counter, "Requests whose reply came back."},
    {counter_id::requests_timed_out, "requests_timed_out", counter_kind::counter,
     "Requests with no reply within their timeout."},
    {counter_id::requests_failed, "requests_failed", counter_kind::counter,
     "Requests that failed without a reply in their time: by class in request_failures."},
    {counter_id::users_started, "users_started", counter_kind::counter, "Simulated users started."},
    {counter_id::users_finished, "users_finished", counter_kind::counter,
     "Simulated users whose behaviour returned or threw."},
    {counter_id::behaviour_errors, "behaviour_errors", counter_kind::counter,
     "Behaviours that threw (the user ended, the run went on)."},
    {counter_id::inbox_dropped, "inbox_dropped", counter_kind::counter,
     "Received messages nobody took, dropped beyond the inbox limit."},
    {counter_id::requests_rejected, "requests_rejected", counter_kind::counter,
     "Requests answered with a reply that said they failed."},
    {counter_id::tls_sessions_resumed, "tls_sessions_resumed", counter_kind::counter,
     "TLS handshakes that resumed a session the server offered earlier (--tls-resume)."},
    {counter_id::upload_bytes, "upload_bytes", counter_kind::counter,
     "Request body bytes sent in pieces (HTTP uploads); bytes_sent counts them too."},
    {counter_id::users_stopped, "users_stopped", counter_kind::counter,
     "Users the load shape stopped before the run's end (a ramp-down)."},
    {counter_id::users_aborted, "users_aborted", counter_kind::counter,
     "Users the load shape stopped that were still running after the ramp-down timeout (their connections aborted)."},
    {counter_id::iterations, "iterations", counter_kind::counter, "Iterations that ran to their end."},
    {counter_id::iteration_errors, "iteration_errors", counter_kind::counter,
     "Iterations ended by an exception (the user went on with its next iteration)."},
    {counter_id::dropped_iterations, "dropped_iterations", counter_kind::counter,
     "Iterations an arrival-rate shape could not start: no free user, and no more users allowed."},
    {counter_id::server_pings_answered, "server_pings_answered", counter_kind::counter,
     "Keep-alive pings the server's protocol sent and the client answered (Engine.IO's heartbeat)."},
    {counter_id::unmatched_replies, "unmatched_replies", counter_kind::counter,
     "Replies that named no waiting request: an unknown or repeated ack id, or one that came after its request timed out."},
    {counter_id::app_pings_sent, "app_pings_sent", counter_kind::counter,
     "Application heartbeats sent (a message of the scenario's, apart from WebSocket pings)."},
    {counter_id::app_pongs_received, "app_pongs_received", counter_kind::counter,
     "Replies to application heartbeats within their timeout."},
    {counter_id::app_pongs_missed, "app_pongs_missed", counter_kind::counter,
     "Application heartbeats with no reply within their timeout."},
    {counter_id::reconnects_given_up, "reconnects_given_up", counter_kind::counter,
     "Users that ran out of reconnect attempts (their reconnects are counted by reason)."},
    {counter_id::late_sends, "late_sends", counter_kind::counter,
     "Sends with an intended time, and arrivals, that went out over 1 ms later than intended."},
}};

/// The catalogues are in identifier order, under the names metrics.hpp gives the identifiers.
inline constexpr bool catalogue_in_order() noexcept
{
    for (std::size_t i = 0; i < histogram_count; ++i)
        if (histogram_catalogue[i].id != static_cast<histogram_id>(i) || histogram_catalogue[i].name != histogram_names[i])
            return false;
    for (std::size_t i = 0; i < counter_count; ++i)
        if (counter_catalogue[i].id != static_cast<counter_id>(i) || counter_catalogue[i].name != counter_names[i])
            return false;
    return true;
}
static_assert(catalogue_in_order(), "the catalogues must list every histogram_id and counter_id in order, under its name");

inline constexpr const histogram_info& info(histogram_id id) noexcept
{
    return histogram_catalogue[static_cast<std::size_t>(id)];
}

/// The histogram a name (or an alias) denotes.
inline std::optional<histogram_id> find_histogram(std::string_view name) noexcept
{
    for (const auto& h : histogram_catalogue) {
        if (h.name == name) return h.id;
        for (auto alias : h.aliases)
            if (!alias.empty() && alias == name) return h.id;
    }
    return std::nullopt;
}

/// The stats table's Type column of a histogram that is no request (request rows carry their
/// transport's type: WS, TCP, GET...).
inline constexpr std::string_view row_type(histogram_group g) noexcept
{
    switch (g) {
    case histogram_group::connect: return "CONNECT";
    case histogram_group::heartbeat: return "PING";
    case histogram_group::request: return "REQUEST";
    case histogram_group::iteration: return "ITER";
    case histogram_group::generator: return "GEN";
    }
    return "";
}

/// The failures that belong to a histogram's kind of event (the stats table's failures). The
/// parts of a connect have none of their own: a failed attempt is one failure, on `connect`.
inline std::uint64_t failures_of(histogram_id id, const counter_totals& t) noexcept
{
    switch (id) {
    case histogram_id::connect: return t.failures();
    case histogram_id::round_trip:
        return t[counter_id::requests_timed_out] + t[counter_id::requests_failed] + t[counter_id::requests_rejected];
    case histogram_id::ping_round_trip: return t[counter_id::pongs_missed];
    case histogram_id::iteration: return t[counter_id::iteration_errors];
    default: return 0;
    }
}

}  // namespace wsload::stats
