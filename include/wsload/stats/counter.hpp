#pragma once
// A counter with one writer (the thread that owns the shard) and any number of readers.

#include <atomic>
#include <cstdint>

namespace wsload::stats {

/// Relaxed load+store instead of fetch_add: one writer means no lock prefix is needed, so an
/// increment costs what a plain one does, and readers on other threads see a torn-free value.
class counter {
public:
    void add(std::uint64_t n = 1) noexcept
    {
        value_.store(value_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
    }
    void sub(std::uint64_t n = 1) noexcept
    {
        value_.store(value_.load(std::memory_order_relaxed) - n, std::memory_order_relaxed);
    }
    std::uint64_t get() const noexcept { return value_.load(std::memory_order_relaxed); }

private:
    std::atomic<std::uint64_t> value_{0};
};

}  // namespace wsload::stats
