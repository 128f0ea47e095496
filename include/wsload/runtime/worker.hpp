#pragma once
// One worker per thread: its io_context, its statistics shard and what it must close at the
// end. Users and their connections never leave their worker, so nothing here is locked.

#include <wsload/core/task.hpp>
#include <wsload/runtime/closable.hpp>
#include <wsload/runtime/run_config.hpp>
#include <wsload/stats/metrics.hpp>

#include <boost/asio/ssl/context.hpp>

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

namespace wsload::runtime {

/// What every worker of a run shares, read-only on the hot path but for the stop flag.
struct run_state {
    explicit run_state(run_config c) : config(std::move(c)) {}

    run_config config;
    clock::time_point started_at{};
    std::atomic<bool> stopping{false};
    std::atomic<std::uint64_t> live_users{0};  ///< started and not yet finished
    std::unique_ptr<boost::asio::ssl::context> tls;  ///< built once; OpenSSL's SSL_CTX is thread-safe
};

class worker {
public:
    worker(unsigned index, run_state& run)
        : index_(index), run_(run), stats_(std::make_unique<stats::shard>())
    {}

    unsigned index() const noexcept { return index_; }
    boost::asio::io_context& context() noexcept { return context_; }
    executor get_executor() noexcept { return context_.get_executor(); }
    stats::shard& stats() noexcept { return *stats_; }
    const stats::shard& stats() const noexcept { return *stats_; }
    run_state& run() noexcept { return run_; }
    const run_config& config() const noexcept { return run_.config; }
    bool stopping() const noexcept { return run_.stopping.load(std::memory_order_relaxed); }

    /// Registers something to reach at stop and abort; it unlinks itself when it ends.
    void track(closable& c) noexcept { closables_.link(c); }
    void untrack(closable& c) noexcept { closables_.unlink(c); }

    /// Run on this worker's thread (post it there).
    void stop_all()
    {
        second_timer_.cancel();
        closables_.for_each([](closable& c) { c.on_stop(); });
    }
    void abort_all() { closables_.for_each([](closable& c) { c.on_abort(); }); }

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

    /// Round trips by second since the start (index 0 = second 1); the last one may be partial.
    /// Read it once the worker's thread has ended.
    const std::vector<stats::histogram::state>& round_trips_by_second() const noexcept
    {
        return round_trips_by_second_;
    }

private:
    void close_second()
    {
        round_trips_by_second_.push_back(stats_->round_trip_this_second.export_state());
        stats_->round_trip_this_second.reset();
    }

    unsigned index_;
    run_state& run_;
    boost::asio::io_context context_{1};  // concurrency hint 1: one thread, no locking inside asio
    std::unique_ptr<stats::shard> stats_;
    closable_list closables_;
    timer second_timer_{context_.get_executor()};
    std::vector<stats::histogram::state> round_trips_by_second_;
};

}  // namespace wsload::runtime
