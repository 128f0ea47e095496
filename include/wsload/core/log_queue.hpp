#pragma once
// The log file's path off the I/O threads: a thread that logs formats its line and hands it to
// a bounded lock-free queue (never waits: a full queue drops the line and counts it); one
// writer thread stamps the time, writes and flushes. Closed (drained, flushed, joined) at the
// end of the run.

#include <wsload/core/error.hpp>
#include <wsload/core/log_line.hpp>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <utility>

namespace wsload {

/// A bounded multi-producer queue (Dmitry Vyukov's array queue): push and pop are a compare and
/// swap each, no lock, no allocation. `capacity` is rounded up to a power of two.
template <class T>
class bounded_queue {
public:
    explicit bounded_queue(std::size_t capacity)
    {
        std::size_t n = 2;
        while (n < capacity) n *= 2;
        mask_ = n - 1;
        cells_ = std::make_unique<cell[]>(n);
        for (std::size_t i = 0; i < n; ++i) cells_[i].sequence.store(i, std::memory_order_relaxed);
    }

    std::size_t capacity() const noexcept { return mask_ + 1; }

    /// False, leaving `v` as it was, when the queue is full.
    bool try_push(T& v)
    {
        auto pos = tail_.load(std::memory_order_relaxed);
        for (;;) {
            auto& c = cells_[pos & mask_];
            const auto seq = c.sequence.load(std::memory_order_acquire);
            const auto diff = static_cast<std::intptr_t>(seq) - static_cast<std::intptr_t>(pos);
            if (diff == 0) {
                if (tail_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) {
                    c.value = std::move(v);
                    c.sequence.store(pos + 1, std::memory_order_release);
                    return true;
                }
            } else if (diff < 0) {
                return false;
            } else {
                pos = tail_.load(std::memory_order_relaxed);
            }
        }
    }

    /// False when the queue is empty.
    bool try_pop(T& out)
    {
        auto pos = head_.load(std::memory_order_relaxed);
        for (;;) {
            auto& c = cells_[pos & mask_];
            const auto seq = c.sequence.load(std::memory_order_acquire);
            const auto diff = static_cast<std::intptr_t>(seq) - static_cast<std::intptr_t>(pos + 1);
            if (diff == 0) {
                if (head_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) {
                    out = std::move(c.value);
                    c.sequence.store(pos + mask_ + 1, std::memory_order_release);
                    return true;
                }
            } else if (diff < 0) {
                return false;
            } else {
                pos = head_.load(std::memory_order_relaxed);
            }
        }
    }

private:
    struct cell {
        std::atomic<std::size_t> sequence{0};
        T value{};
    };
    std::unique_ptr<cell[]> cells_;
    std::size_t mask_ = 0;
    alignas(64) std::atomic<std::size_t> tail_{0};  // producers
    alignas(64) std::atomic<std::size_t> head_{0};  // the writer
};

/// One line on its way to the file: stamped when it was logged, formatted by the writer.
struct log_entry {
    std::chrono::system_clock::time_point at{};
    log_level level = log_level::debug;
    std::string text{};  ///< `component: text`
};

/// The --log-file: opened (truncated) at construction, written by its own thread until close().
class log_writer {
public:
    /// Opens `path` for writing; throws usage_error (`cannot write "path": reason`) when it
    /// cannot. `capacity` lines wait at most; more are dropped and counted.
    explicit log_writer(const std::string& path, std::size_t capacity = 65536) : queue_(capacity)
    {
        errno = 0;
        file_ = std::fopen(path.c_str(), "w");
        if (!file_)
            throw usage_error("cannot write " + wsload::detail::quoted(path) + ": " +
                              std::strerror(errno ? errno : EIO));
        writer_ = std::thread([this] { write_until_closed(); });
    }
    log_writer(const log_writer&) = delete;
    log_writer& operator=(const log_writer&) = delete;
    ~log_writer() { close(); }

    /// From any thread; never waits. False when the line was dropped (the queue is full).
    bool push(log_entry e)
    {
        if (queue_.try_push(e)) return true;
        dropped_.fetch_add(1, std::memory_order_relaxed);
        return false;
    }

    /// Lines dropped so far.
    std::uint64_t dropped() const noexcept { return dropped_.load(std::memory_order_relaxed); }

    /// Writes what is queued, flushes, joins the writer and closes the file; lines pushed
    /// afterwards are dropped. Reports the dropped lines on stderr once, if any
    /// (`wsload: warn: N log lines dropped (the log file could not keep up)`). Idempotent; from
    /// the thread that made the writer.
    void close()
    {
        if (!writer_.joinable()) return;
        closing_.store(true, std::memory_order_release);
        writer_.join();
        if (const auto n = dropped())
            std::fprintf(stderr, "wsload: warn: %llu log lines dropped (the log file could not keep up)\n",
                         static_cast<unsigned long long>(n));
        std::fclose(file_);
        file_ = nullptr;
    }

private:
    void write_until_closed()
    {
        log_entry e;
        std::string line;
        std::chrono::system_clock::time_point stamped_second{};
        std::string stamp;
        for (;;) {
            // Read before draining: a line pushed before close() began is always written.
            const bool last_round = closing_.load(std::memory_order_acquire);
            bool wrote = false;
            while (queue_.try_pop(e)) {
                // The time's text is made once per second and the milliseconds patched in.
                const auto second = std::chrono::time_point_cast<std::chrono::seconds>(e.at);
                if (stamp.empty() || second != stamped_second) {
                    stamped_second = second;
                    stamp = format_log_time(second);
                }
                const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(e.at - second).count();
                line.assign(stamp);
                if (ms >= 0 && ms < 1000 && line.size() >= 6) {
                    line[line.size() - 5] = static_cast<char>('0' + ms / 100);
                    line[line.size() - 4] = static_cast<char>('0' + ms / 10 % 10);
                    line[line.size() - 3] = static_cast<char>('0' + ms % 10);
                }
                line += file_name(e.level);
                line += '/';
                line += e.text;
                line += '\n';
                std::fwrite(line.data(), 1, line.size(), file_);
                wrote = true;
            }
            if (wrote) std::fflush(file_);
            if (last_round) return;
            // Polled, not signalled: a producer then never makes a system call to wake us.
            if (!wrote) std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
    }

    bounded_queue<log_entry> queue_;
    std::FILE* file_ = nullptr;
    std::atomic<bool> closing_{false};
    std::atomic<std::uint64_t> dropped_{0};
    std::thread writer_;
};

}  // namespace wsload
