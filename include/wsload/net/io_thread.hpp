#pragma once
// What a connection needs of the thread it lives on, owned by net/ so that transports know no
// engine: the thread's io_context, its statistics shard, its deadline queue, the run's TLS
// context and connection settings, the stop signal, and the list of what must be closed at the
// end. runtime::worker is one (it adds the users and the time series); a test or a tool can
// make one of its own.

#include <wsload/core/task.hpp>
#include <wsload/net/closable.hpp>
#include <wsload/net/deadline_queue.hpp>
#include <wsload/net/header.hpp>
#include <wsload/net/sleep_queue.hpp>
#include <wsload/net/tls.hpp>
#include <wsload/net/websocket/deflate_options.hpp>
#include <wsload/stats/metrics.hpp>

#include <boost/asio/io_context.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

namespace wsload::net {

/// The bounds every transport applies, and the headers every HTTP request and WebSocket upgrade
/// carries, from the run's configuration.
struct connection_settings {
    std::chrono::nanoseconds connect_timeout = std::chrono::seconds(10);  ///< resolve + TCP + TLS + handshake together
    std::chrono::nanoseconds close_timeout = std::chrono::seconds(5);     ///< a closing handshake, whoever started it
    std::vector<header_field> headers;  ///< --header, in the order given (checked there)
    /// --compression: permessage-deflate offered by every WebSocket whose options do not say
    /// (plain WebSocket and Socket.IO alike).
    std::optional<deflate_options> compression;
    /// Sleeps due within this of each other end on one wake-up of the thread (sleep_queue);
    /// each ends at most this late. Zero: each at its own time.
    std::chrono::nanoseconds timer_slack{0};
};

/// One thread's share of a run. Everything here is used from its own thread only, except the
/// stop flag (written by the run's controller) and the shard (read by snapshots).
class io_thread {
public:
    io_thread(unsigned index, connection_settings settings, tls_client_context& tls, const std::atomic<bool>& stopping)
        : index_(index), settings_(std::move(settings)), tls_(tls), stopping_(stopping), stats_(std::make_unique<stats::shard>())
    {
        deadlines_.start(context_.get_executor(), stats_.get());  // its timer's lateness is event-loop lag
        sleeps_.start(context_.get_executor(), stats_.get());
        sleeps_.set_slack(settings_.timer_slack);
    }
    io_thread(const io_thread&) = delete;
    io_thread& operator=(const io_thread&) = delete;
    ~io_thread()  // their timers go before the io_context
    {
        deadlines_.shutdown();
        sleeps_.shutdown();
    }

    unsigned index() const noexcept { return index_; }
    boost::asio::io_context& context() noexcept { return context_; }
    executor get_executor() noexcept { return context_.get_executor(); }
    stats::shard& stats() noexcept { return *stats_; }
    const stats::shard& stats() const noexcept { return *stats_; }
    /// This thread's timeouts (requests, receives) on one timer.
    deadline_queue& deadlines() noexcept { return deadlines_; }
    /// This thread's timed sleeps on one timer, woken in batches (net/sleep_queue.hpp).
    sleep_queue& sleeps() noexcept { return sleeps_; }
    const connection_settings& settings() const noexcept { return settings_; }
    /// The run's TLS client context (built at the first secure connect of any thread).
    boost::asio::ssl::context& tls() { return tls_.get(); }
    bool verifies_peers() const noexcept { return tls_.verifies(); }
    bool resumes_tls() const noexcept { return tls_.resumes(); }
    /// True once the run is ending: a connection that opens now closes at once.
    bool stopping() const noexcept { return stopping_.load(std::memory_order_relaxed); }

    /// One `T` per thread, made on first use as `T(io_thread&)`: what a transport keeps once per
    /// thread (buffers, a timer wheel). Only from this thread. It outlives the io_context, hence
    /// every connection (handlers still pending at the very end are destroyed with the
    /// io_context): T must own no I/O object of it.
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

    /// The run is ending (on this thread): everything tracked closes gracefully.
    void stop_all()
    {
        closables_.for_each([](closable& c) { c.on_stop(); });
    }
    /// The grace period is over: everything tracked ends now, and nothing waits any more, so
    /// that the io_context's run() returns.
    void abort_all()
    {
        closables_.for_each([](closable& c) { c.on_abort(); });
        deadlines_.cancel();
        sleeps_.cancel();
    }

private:
    unsigned index_;
    connection_settings settings_;
    tls_client_context& tls_;
    const std::atomic<bool>& stopping_;
    std::vector<std::pair<const void*, std::shared_ptr<void>>> locals_;  // before context_: see local()
    deadline_queue deadlines_;  // before context_: entries in frames destroyed with it leave it
    sleep_queue sleeps_;        // before context_, for the same reason
    // One thread runs it, and only posts come from others (the engine's control, a stop): the
    // scheduler's queue keeps its lock, the reactor (timers, descriptors, each socket's
    // operations) drops its own, all used from this thread only. Hint 1 alone kept every lock
    // (callgrind guard, one reading each: 9,969 -> 9,793 instructions a round trip, inside the
    // guard's ~3% spread between readings). TSan (CI) sees any use from another thread as the
    // race it would be.
    boost::asio::io_context context_{
        static_cast<int>(BOOST_ASIO_CONCURRENCY_HINT_ID | BOOST_ASIO_CONCURRENCY_HINT_LOCKING_SCHEDULER)};
    std::unique_ptr<stats::shard> stats_;
    closable_list closables_;
};

}  // namespace wsload::net
