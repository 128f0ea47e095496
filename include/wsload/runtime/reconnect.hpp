#pragma once
// Reconnects: a user whose connection drops opens it again, as real clients do (seed 000's
// max_reconnect_attempts = 5), after a backoff, and resumes its session (logs in again, rejoins
// its rooms). Each reconnect is counted by the reason that caused it (stats::shard::reconnects);
// a user that runs out of attempts is counted in reconnects_given_up.
//
//     co_await wsload::keep_connected(u,
//         [&] { return u.websocket(options); },                      // opens (again)
//         [&](wsload::websocket& ws) -> wsload::task<> { ... },      // the session, resumed each time
//         wsload::reconnect_policy().max_attempts(5).backoff(1s, 30s));

#include <wsload/core/error.hpp>
#include <wsload/core/random.hpp>
#include <wsload/core/task.hpp>
#include <wsload/runtime/user.hpp>
#include <wsload/runtime/worker.hpp>
#include <wsload/stats/taxonomy.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <initializer_list>
#include <string_view>
#include <type_traits>

namespace wsload {

/// When a connection is opened again, how often, and after how long. A class with a
/// constructor (g++ 12 double-destroys aggregate temporaries in co_await expressions).
class reconnect_policy {
public:
    /// The ends that are worth a reconnect by default: the network's and the server's doing,
    /// not the client's own (client_close, client_stop) nor an orderly goodbye (normal, peer_close).
    reconnect_policy()
    {
        for (const auto why : {stats::disconnect_reason::going_away, stats::disconnect_reason::protocol_error,
                               stats::disconnect_reason::server_close, stats::disconnect_reason::network,
                               stats::disconnect_reason::ping_timeout, stats::disconnect_reason::app_heartbeat_timeout,
                               stats::disconnect_reason::message_too_big})
            reasons_[static_cast<std::size_t>(why)] = true;
    }

    /// Reconnects in a row before the user gives up (counted in reconnects_given_up). 0: never
    /// reconnect. The count starts again after a connection that stayed open reset_after().
    reconnect_policy& max_attempts(unsigned n) { max_attempts_ = n; return *this; }
    /// How long a connection must stay open for its end to start the count of attempts again
    /// (default 10 s): a server that accepts and drops at once uses up the attempts.
    reconnect_policy& reset_after(std::chrono::nanoseconds d) { reset_after_ = d; return *this; }
    /// The wait before reconnect k (1, 2, ...): `first * factor^(k-1)`, at most `most`.
    reconnect_policy& backoff(std::chrono::nanoseconds first, std::chrono::nanoseconds most, double factor = 2.0)
    {
        if (first.count() < 0 || most < first || !(factor >= 1.0) || !std::isfinite(factor))
            throw usage_error("reconnect_policy::backoff: give 0 <= first <= most and a factor of at least 1");
        first_ = first;
        most_ = most;
        factor_ = factor;
        return *this;
    }
    /// Each wait is drawn uniformly in [d * (1 - fraction), d]: users that dropped together do
    /// not come back together. 0 (none) to 1.
    reconnect_policy& jitter(double fraction)
    {
        if (!(fraction >= 0.0 && fraction <= 1.0)) throw usage_error("reconnect_policy::jitter: give a fraction in [0, 1]");
        jitter_ = fraction;
        return *this;
    }
    /// Exactly these ends are reasons to reconnect (replacing the default list).
    reconnect_policy& on(std::initializer_list<stats::disconnect_reason> reasons)
    {
        reasons_.fill(false);
        for (const auto why : reasons) reasons_[static_cast<std::size_t>(why)] = true;
        return *this;
    }
    /// Whether a connect that failed (the first one or a reconnect) is tried again, counted under
    /// "connect_failed" (default: yes).
    reconnect_policy& retry_failed_connects(bool on) { retry_failed_connects_ = on; return *this; }

    unsigned max_attempts() const noexcept { return max_attempts_; }
    std::chrono::nanoseconds reset_after() const noexcept { return reset_after_; }
    bool reconnects_on(stats::disconnect_reason why) const noexcept { return reasons_[static_cast<std::size_t>(why)]; }
    bool retries_failed_connects() const noexcept { return retry_failed_connects_; }

    /// The wait before reconnect `k` (1-based), its jitter drawn from `random`.
    std::chrono::nanoseconds delay(unsigned k, random_generator& random) const noexcept
    {
        const double grown = static_cast<double>(first_.count()) * std::pow(factor_, static_cast<double>(std::max(k, 1u) - 1));
        const auto d = std::chrono::nanoseconds(static_cast<std::int64_t>(std::min(grown, static_cast<double>(most_.count()))));
        const auto spread = std::chrono::nanoseconds(static_cast<std::int64_t>(static_cast<double>(d.count()) * jitter_));
        return d - random.phase(spread);
    }

private:
    unsigned max_attempts_ = 5;
    std::chrono::nanoseconds reset_after_ = std::chrono::seconds(10);
    std::chrono::nanoseconds first_ = std::chrono::seconds(1);
    std::chrono::nanoseconds most_ = std::chrono::seconds(30);
    double factor_ = 2.0;
    double jitter_ = 0.5;
    bool retry_failed_connects_ = true;
    std::array<bool, stats::disconnect_reason_count> reasons_{};
};

/// The label a reconnect after a failed connect is counted under.
inline constexpr std::string_view reconnect_after_failed_connect = "connect_failed";

/// Opens a connection with `open()` (a `task<Connection>`: u.websocket(...), socketio::connect,
/// tcp::connect) and runs `session(connection)` (or `session(connection, reconnects)`, told how
/// many reconnects came before) on it; when the connection ends for a reason `policy` names,
/// waits its backoff, opens it again and runs the session again. Returns when the session
/// returns with the connection still open (its work is done), the connection ends for another
/// reason, the run (or the user) stops, or the attempts run out (reconnects_given_up). Every
/// attempt is counted by its transport as any connect is.
template <class Open, class Session>
task<> keep_connected(user& u, Open open, Session session, reconnect_policy policy = {})
{
    unsigned in_a_row = 0, reconnects = 0;
    std::string_view again;  // why the next open is a reconnect (empty: the first open)
    while (u.running()) {
        if (!again.empty()) {  // counted when it is made, not when it was decided
            u.worker().stats().reconnects.count(again);
            ++reconnects;
        }
        auto c = co_await open();
        if (!c) {
            if (!policy.retries_failed_connects()) co_return;
            again = reconnect_after_failed_connect;
        } else {
            const auto opened = clock::now();
            if constexpr (std::is_invocable_v<Session&, decltype(c)&, unsigned>)
                co_await session(c, reconnects);
            else
                co_await session(c);
            if (!u.running() || c.is_open()) co_return;  // stopped, or the session's work is done
            if (!policy.reconnects_on(c.end_reason())) co_return;
            again = stats::name(c.end_reason());
            if (clock::now() - opened >= policy.reset_after()) in_a_row = 0;  // it was a session, not a flap
        }
        if (++in_a_row > policy.max_attempts()) {
            u.worker().stats()[stats::counter_id::reconnects_given_up].add();
            co_return;
        }
        co_await u.think(policy.delay(in_a_row, u.random()));
    }
}

}  // namespace wsload
