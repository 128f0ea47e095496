#pragma once
// One worker per thread: its io_context, its statistics shard and what it must close at the
// end. Users and their connections never leave their worker, so nothing here is locked.

#include <wsload/core/random.hpp>
#include <wsload/core/task.hpp>
#include <wsload/net/io_thread.hpp>
#include <wsload/runtime/run_config.hpp>
#include <wsload/sched/pacer.hpp>
#include <wsload/stats/metrics.hpp>
#include <wsload/stats/series_merge.hpp>

#include <time.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace wsload {
class user;
}  // namespace wsload

namespace wsload::runtime {

/// What every worker of a run shares, read-only on the hot path but for the stop flag.
struct run_state {
    explicit run_state(run_config c) : config(std::move(c)), tls(config.insecure, config.ca_file, config.tls_resume) {}

    run_config config;
    clock::time_point started_at{};
    std::atomic<bool> stopping{false};
    std::atomic<std::uint64_t> live_users{0};  ///< started and not yet finished
    net::tls_client_context tls;  ///< built at the first wss:// connect (a --ca-file at start)

    /// A behaviour misused the run (a URL its transport cannot take): the run ends, and exits
    /// with this one line as a usage error. The first one reported wins.
    void report_misuse(std::string what)
    {
        std::lock_guard lock(misuse_mutex_);
        if (misuse_.empty()) misuse_ = std::move(what);
        misused.store(true, std::memory_order_release);
        wake_control();
    }
    /// Set by the engine: its stop sequence looks at the run's state now (a misuse, the last
    /// user ended) instead of at its next poll. Any thread.
    std::function<void()> wake_control = [] {};
    std::string misuse() const
    {
        std::lock_guard lock(misuse_mutex_);
        return misuse_;
    }
    std::atomic<bool> misused{false};
    sched::pacer pacer;  ///< user::pace: run-wide slots of a behaviour's paced steps

    /// Takes one of the run's --iterations; false once they are all taken.
    bool claim_iteration() noexcept
    {
        return iterations_claimed_.fetch_add(1, std::memory_order_relaxed) < config.iterations;
    }

    net::connection_settings connection_settings() const
    {
        return {.connect_timeout = config.connect_timeout,
                .close_timeout = config.close_timeout,
                .headers = config.headers,
                .compression = config.compression,
                .timer_slack = config.timer_slack};
    }

private:
    mutable std::mutex misuse_mutex_;
    std::string misuse_;
    std::atomic<std::uint64_t> iterations_claimed_{0};
};

/// One thread of the engine: the connections' io_thread, plus the users it starts and the
/// seconds of the time series it cuts (handed to the engine as they are cut).
class worker : public net::io_thread {
public:
    worker(unsigned index, run_state& run)
        : net::io_thread(index, run.connection_settings(), run.tls, run.stopping), run_(run)
    {}

    run_state& run() noexcept { return run_; }
    const run_config& config() const noexcept { return run_.config; }

    /// Run on this worker's thread (post it there).
    void stop_all()
    {
        second_timer_.cancel();
        probe_timer_.cancel();
        net::io_thread::stop_all();
    }

    /// How often, on average, probe_lag() samples the event loop. Ten samples a second see a
    /// loop that keeps its timers waiting (a saturated worker) in every second; a stall shorter
    /// than this is seen when a sample falls in it, and where it delays a send, that send is
    /// counted late. Sparse on purpose: each sample is a wake-up of an otherwise idle thread (and
    /// of the callgrind guard's workload).
    static constexpr std::chrono::milliseconds lag_probe_interval{100};

    /// Event-loop lag: a timer every 50 to 150 ms (lag_probe_interval on average), its lateness
    /// (now - due) recorded in this thread's event_loop_lag, until the run ends. The gaps are
    /// random so that the samples cannot lock onto a periodic load: users on a 100 ms schedule,
    /// or bursts of work each as long as the gap, would otherwise be sampled at the same point of
    /// their cycle every time (a saturated test worker was seen on time in whole seconds).
    task<> probe_lag()
    {
        random_generator gaps(0x6c61675f70726f62ULL + index());
        const auto span = static_cast<std::uint64_t>(std::chrono::nanoseconds(lag_probe_interval).count());
        while (!stopping()) {
            const auto due = clock::now() + std::chrono::nanoseconds(span / 2 + gaps.below(span));
            probe_timer_.expires_at(due);
            const auto [ec] = co_await probe_timer_.async_wait(use_task);
            if (ec || stopping()) break;
            stats().record_lag(static_cast<std::uint64_t>(std::chrono::nanoseconds(clock::now() - due).count()));
        }
    }

    /// CPU time the calling thread has used since it started (user and kernel).
    static std::chrono::nanoseconds thread_cpu_time() noexcept
    {
        ::timespec ts{};
        ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
        return std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
    }

    /// This worker over the run: its seconds' figures with its lag and late sends. After its
    /// thread has ended (or on it).
    stats::worker_health health() const
    {
        auto h = health_;
        h.worker = index();
        const auto& lag = stats().histograms[static_cast<std::size_t>(stats::histogram_id::event_loop_lag)];
        const auto& late = stats().histograms[static_cast<std::size_t>(stats::histogram_id::send_lateness)];
        h.lag_p99_ns = lag.percentile(99);
        h.lag_max_ns = lag.max();
        h.late_sends = stats().counters[static_cast<std::size_t>(stats::counter_id::late_sends)].get();
        h.late_p99_ns = late.percentile(99);
        return h;
    }

    /// Closes a second of the time series every second from the start until the run ends:
    /// this thread's round trips of that second, kept in compact form.
    task<> record_seconds()
    {
        for (std::uint32_t k = 1; !stopping(); ++k) {
            second_timer_.expires_at(run_.started_at + std::chrono::seconds(k));
            co_await second_timer_.async_wait(use_task);
            close_second();
        }
    }

    /// Open model: the users of this thread free to run an iteration (parked in await_arrival).
    inline void park(user& u);
    inline void unpark(user& u) noexcept;
    /// A free user, out of the list; null when none is free.
    inline user* take_free_user() noexcept;

    /// The running user with this index (null: none, or it is being stopped). User i lives on
    /// worker i mod threads: one pointer per user of the shape's peak, made as users start.
    user*& slot(std::uint64_t index)
    {
        const auto k = index / run_.config.threads;
        if (k >= slots_.size()) slots_.resize(k + 1, nullptr);
        return slots_[k];
    }

    /// The seconds this worker has cut since the last call, in order; any thread. The engine
    /// takes them every second, so none accumulate here however long the run.
    std::vector<stats::second_record> take_seconds()
    {
        std::lock_guard lock(seconds_mutex_);
        return std::exchange(seconds_, {});
    }

private:
    void close_second()
    {
        using stats::counter_id;
        auto now = std::make_unique<stats::counter_totals>();
        now->add(stats());
        const auto& before = *last_second_;
        const auto delta = [&](counter_id id) { return (*now)[id] - before[id]; };
        stats::second_record r;
        r.end = clock::now() - run_.started_at;
        r.row.active = (*now)[counter_id::active_connections];
        r.row.new_connections = delta(counter_id::connect_successes);
        r.row.connect_failures = now->failures() - before.failures();
        r.row.disconnects = now->disconnect_total() - before.disconnect_total();
        r.row.messages_sent = delta(counter_id::messages_sent);
        r.row.messages_received = delta(counter_id::messages_received);
        r.row.bytes_sent = delta(counter_id::bytes_sent);
        r.row.bytes_received = delta(counter_id::bytes_received);
        r.round_trips = stats().round_trip_this_second.export_state();
        stats().round_trip_this_second.reset();
        // The generator's own second: this thread's CPU share (CLOCK_THREAD_CPUTIME_ID counts
        // from the thread's start, the run's), its latest timer, its late sends. A last slice
        // under 100 ms is too short to call busy.
        const auto cpu = thread_cpu_time();
        const auto wall = r.end - last_end_;
        stats::worker_second g;
        g.busy_pct = wall >= std::chrono::milliseconds(100) ? stats::busy_pct(cpu - last_cpu_, wall) : 0;
        g.lag_max_ns = std::exchange(stats().lag_max_this_second, 0);
        health_.add_second(g, cpu - last_cpu_, wall);
        last_cpu_ = cpu;
        last_end_ = r.end;
        r.row.late_sends = delta(counter_id::late_sends);
        r.row.event_loop_lag_max_ns = g.lag_max_ns;
        r.row.busiest_worker_pct = g.busy_pct;
        r.row.generator_limited = g.limited() ? 1 : 0;
        {
            std::lock_guard lock(seconds_mutex_);  // once a second: the engine's tick takes them
            seconds_.push_back(std::move(r));
        }
        last_second_ = std::move(now);
    }

    run_state& run_;
    timer second_timer_{get_executor()};
    timer probe_timer_{get_executor()};
    stats::worker_health health_;         ///< its seconds so far (owner thread)
    std::chrono::nanoseconds last_cpu_{0};  ///< thread CPU time at the last second's cut
    std::chrono::nanoseconds last_end_{0};  ///< the last second's end, since the start
    std::mutex seconds_mutex_;
    std::vector<stats::second_record> seconds_;  ///< cut and not yet taken (guarded by seconds_mutex_)
    std::vector<user*> slots_;
    std::vector<user*> free_users_;
    std::unique_ptr<stats::counter_totals> last_second_ = std::make_unique<stats::counter_totals>();
};

}  // namespace wsload::runtime
