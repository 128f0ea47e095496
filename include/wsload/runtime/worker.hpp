#pragma once
// One worker per thread: its io_context, its statistics shard and what it must close at the
// end. Users and their connections never leave their worker, so nothing here is locked.

#include <wsload/core/task.hpp>
#include <wsload/net/tls.hpp>
#include <wsload/runtime/closable.hpp>
#include <wsload/runtime/deadline_queue.hpp>
#include <wsload/runtime/run_config.hpp>
#include <wsload/stats/metrics.hpp>
#include <wsload/stats/timeseries.hpp>

#include <boost/asio/ssl/context.hpp>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

namespace wsload::runtime {

/// What every worker of a run shares, read-only on the hot path but for the stop flag.
struct run_state {
    explicit run_state(run_config c) : config(std::move(c)) {}

    run_config config;
    clock::time_point started_at{};
    std::atomic<bool> stopping{false};
    std::atomic<std::uint64_t> live_users{0};  ///< started and not yet finished

    /// The TLS client context, built at the first secure connect of any worker: loading the
    /// system CA store costs milliseconds of start-up that a ws:// run should not pay. A
    /// `--ca-file` is loaded eagerly instead (prepare_tls), so a bad one fails at start.
    /// OpenSSL's SSL_CTX is thread-safe once built.
    boost::asio::ssl::context& tls()
    {
        std::call_once(tls_once_, [this] {
            if (!tls_) tls_ = net::make_client_tls_context(config.insecure, config.ca_file);
        });
        return *tls_;
    }
    /// At start, on the main thread: checks what the user gave now rather than mid-run.
    void prepare_tls()
    {
        if (!config.ca_file.empty() && !config.insecure)
            tls_ = net::make_client_tls_context(config.insecure, config.ca_file);
    }

private:
    std::once_flag tls_once_;
    std::unique_ptr<boost::asio::ssl::context> tls_;
};

class worker {
public:
    worker(unsigned index, run_state& run)
        : index_(index), run_(run), stats_(std::make_unique<stats::shard>())
    {
        deadlines_.start(context_.get_executor());
    }
    ~worker() { deadlines_.shutdown(); }  // its timer goes before the io_context

    unsigned index() const noexcept { return index_; }
    boost::asio::io_context& context() noexcept { return context_; }
    executor get_executor() noexcept { return context_.get_executor(); }
    stats::shard& stats() noexcept { return *stats_; }
    /// This thread's timeouts (requests, receives) on one timer.
    deadline_queue& deadlines() noexcept { return deadlines_; }
    const stats::shard& stats() const noexcept { return *stats_; }
    run_state& run() noexcept { return run_; }
    const run_config& config() const noexcept { return run_.config; }
    bool stopping() const noexcept { return run_.stopping.load(std::memory_order_relaxed); }

    /// One `T` per worker, made on first use as `T(worker&)`: what a connection layer keeps once
    /// per thread (buffers, a timer wheel). Only from this worker's thread. It outlives the
    /// io_context, hence every connection (handlers still pending at the very end are destroyed
    /// with the io_context): T must own no I/O object of it.
    template <class T>
    T& local()
    {
        static const char key = 0;  // one address per T
        for (auto& [k, p] : locals_)
            if (k == &key) return *static_cast<T*>(p.get());
        auto p = std::make_shared<T>(*this);
        auto& made = *p;
        locals_.emplace_back(&key, std::move(p));
        return made;
    }

    /// Registers something to reach at stop and abort; it unlinks itself when it ends.
    void track(closable& c) noexcept { closables_.link(c); }
    void untrack(closable& c) noexcept { closables_.unlink(c); }

    /// Run on this worker's thread (post it there).
    void stop_all()
    {
        second_timer_.cancel();
        closables_.for_each([](closable& c) { c.on_stop(); });
    }
    void abort_all()
    {
        closables_.for_each([](closable& c) { c.on_abort(); });
        deadlines_.cancel();  // nothing waits any more: let run() return
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

    /// One second of this worker: its counts, cut at the same instant as its round trips.
    struct second_record {
        std::chrono::nanoseconds end;  ///< since the start; the last one may be partial
        stats::second row;             ///< without percentiles (merged over workers later)
        stats::histogram::state round_trips;
    };

    /// This worker's seconds since the start; read it once the worker's thread has ended.
    const std::vector<second_record>& seconds() const noexcept { return seconds_; }

private:
    void close_second()
    {
        using stats::counter_id;
        auto now = std::make_unique<stats::counter_totals>();
        now->add(*stats_);
        const auto& before = *last_second_;
        const auto delta = [&](counter_id id) { return (*now)[id] - before[id]; };
        second_record r;
        r.end = clock::now() - run_.started_at;
        r.row.active = (*now)[counter_id::active_connections];
        r.row.new_connections = delta(counter_id::connect_successes);
        r.row.connect_failures = now->failures() - before.failures();
        r.row.disconnects = now->disconnect_total() - before.disconnect_total();
        r.row.messages_sent = delta(counter_id::messages_sent);
        r.row.messages_received = delta(counter_id::messages_received);
        r.row.bytes_sent = delta(counter_id::bytes_sent);
        r.row.bytes_received = delta(counter_id::bytes_received);
        r.round_trips = stats_->round_trip_this_second.export_state();
        stats_->round_trip_this_second.reset();
        seconds_.push_back(std::move(r));
        last_second_ = std::move(now);
    }

    unsigned index_;
    run_state& run_;
    std::vector<std::pair<const void*, std::shared_ptr<void>>> locals_;  // before context_: see local()
    deadline_queue deadlines_;  // before context_: entries in frames destroyed with it leave it
    boost::asio::io_context context_{1};  // concurrency hint 1: one thread, no locking inside asio
    std::unique_ptr<stats::shard> stats_;
    closable_list closables_;
    timer second_timer_{context_.get_executor()};
    std::vector<second_record> seconds_;
    std::unique_ptr<stats::counter_totals> last_second_ = std::make_unique<stats::counter_totals>();
};

}  // namespace wsload::runtime
