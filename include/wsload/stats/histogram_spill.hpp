#pragma once
// A sequence of exact histogram states kept out of memory: the run's per-second round trips,
// appended as each second closes and read back in order when the result file is written. A
// second of 5,000 round trips is ~1,000 buckets (~12 KB here, ~28 KB as a histogram::state in
// memory); an hour of them in memory grew the client by ~100 MB (issue 18).

#include <wsload/stats/histogram.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>

namespace wsload::stats {

/// Histogram states appended one after the other, read back in order, exactly. They live in an
/// unlinked temporary file under $TMPDIR (else /tmp), which the system removes when it closes,
/// however the process ends; where no such file can be made or written, in memory instead, in
/// the same compact form. Move-only; one thread at a time.
class histogram_spill {
public:
    histogram_spill() = default;
    histogram_spill(histogram_spill&& o) noexcept
        : fd_(std::exchange(o.fd_, -1)), tried_(o.tried_), size_(std::exchange(o.size_, 0)),
          bytes_(std::exchange(o.bytes_, 0)), memory_(std::move(o.memory_))
    {}
    histogram_spill& operator=(histogram_spill&& o) noexcept
    {
        if (this != &o) {
            close();
            fd_ = std::exchange(o.fd_, -1);
            tried_ = o.tried_;
            size_ = std::exchange(o.size_, 0);
            bytes_ = std::exchange(o.bytes_, 0);
            memory_ = std::move(o.memory_);
        }
        return *this;
    }
    ~histogram_spill() { close(); }

    /// Appends `s`.
    void push_back(const histogram::state& s)
    {
        encode(s, scratch_);
        append(scratch_);
        ++size_;
    }

    std::size_t size() const noexcept { return size_; }
    bool empty() const noexcept { return size_ == 0; }
    /// Bytes written so far (on disk, or in memory when no file could be used).
    std::uint64_t bytes() const noexcept { return bytes_; }
    /// True while the states are in a file (false: none yet, or kept in memory).
    bool on_disk() const noexcept { return fd_ >= 0; }

    /// Calls f(const histogram::state&) for each state, in the order they were appended; one
    /// state is in memory at a time. Throws std::runtime_error if the file cannot be read back.
    template <class F>
    void for_each(F f) const
    {
        histogram::state s;
        std::uint64_t at = 0;
        for (std::size_t i = 0; i < size_; ++i) {
            header h;
            read_at(at, &h, sizeof h);
            at += sizeof h;
            s.digits = h.digits;
            s.highest = h.highest;
            s.count = h.count;
            s.clamped = h.clamped;
            s.min = h.min;
            s.max = h.max;
            s.sum = {h.sum[0], h.sum[1]};
            s.sum_squares = {h.sum_squares[0], h.sum_squares[1], h.sum_squares[2]};
            buffer_.resize(std::size_t(h.buckets) * bucket_bytes);
            read_at(at, buffer_.data(), buffer_.size());
            at += buffer_.size();
            s.buckets.resize(h.buckets);
            for (std::size_t b = 0; b < h.buckets; ++b) {
                std::memcpy(&s.buckets[b].first, buffer_.data() + b * bucket_bytes, 4);
                std::memcpy(&s.buckets[b].second, buffer_.data() + b * bucket_bytes + 4, 8);
            }
            f(std::as_const(s));
        }
    }

private:
    // The layout is this process's own (native byte order): the file never outlives it.
    struct header {
        std::uint64_t highest, count, clamped, min, max;
        std::uint64_t sum[2], sum_squares[3];
        std::int32_t digits;
        std::uint32_t buckets;
    };
    static constexpr std::size_t bucket_bytes = 12;  // {u32 flat index, u64 count}, packed

    static void encode(const histogram::state& s, std::string& out)
    {
        header h{s.highest, s.count, s.clamped, s.min, s.max, {s.sum[0], s.sum[1]},
                 {s.sum_squares[0], s.sum_squares[1], s.sum_squares[2]}, s.digits,
                 static_cast<std::uint32_t>(s.buckets.size())};
        out.resize(sizeof h + s.buckets.size() * bucket_bytes);
        std::memcpy(out.data(), &h, sizeof h);
        char* p = out.data() + sizeof h;
        for (const auto& [index, count] : s.buckets) {
            std::memcpy(p, &index, 4);
            std::memcpy(p + 4, &count, 8);
            p += bucket_bytes;
        }
    }

    void append(const std::string& data)
    {
        if (!tried_) {
            tried_ = true;
            fd_ = make_unlinked_file();
        }
        if (fd_ >= 0 && !write_all(data)) to_memory();  // disk full: go on in memory
        if (fd_ < 0) memory_ += data;
        bytes_ += data.size();
    }

    /// A file no other process can reach and the system deletes on close; -1 if none.
    static int make_unlinked_file()
    {
        const char* dir = std::getenv("TMPDIR");
        std::string path = std::string(dir && *dir ? dir : "/tmp") + "/wsload-series-XXXXXX";
        const int fd = ::mkostemp(path.data(), O_CLOEXEC);
        if (fd >= 0) ::unlink(path.c_str());
        return fd;
    }

    bool write_all(const std::string& data)
    {
        std::size_t done = 0;
        while (done < data.size()) {
            const auto n = ::pwrite(fd_, data.data() + done, data.size() - done, static_cast<off_t>(bytes_ + done));
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) return false;
            done += static_cast<std::size_t>(n);
        }
        return true;
    }

    /// Moves what the file holds into memory and closes it.
    void to_memory()
    {
        memory_.resize(bytes_);
        read_at(0, memory_.data(), bytes_);
        close();
    }

    void read_at(std::uint64_t at, void* into, std::size_t n) const
    {
        if (fd_ < 0) {
            if (at + n > memory_.size()) throw std::runtime_error("histogram_spill: read past the end");
            std::memcpy(into, memory_.data() + at, n);
            return;
        }
        auto* p = static_cast<char*>(into);
        std::size_t done = 0;
        while (done < n) {
            const auto r = ::pread(fd_, p + done, n - done, static_cast<off_t>(at + done));
            if (r < 0 && errno == EINTR) continue;
            if (r < 0) throw std::system_error(errno, std::generic_category(), "histogram_spill: reading back");
            if (r == 0) throw std::runtime_error("histogram_spill: the file is shorter than written");
            done += static_cast<std::size_t>(r);
        }
    }

    void close() noexcept
    {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
    }

    int fd_ = -1;
    bool tried_ = false;  ///< a file was asked for (once: no retry per second)
    std::size_t size_ = 0;
    std::uint64_t bytes_ = 0;
    std::string memory_;            ///< the states when no file is used
    std::string scratch_;           ///< one encoded state, reused
    mutable std::string buffer_;    ///< one state's buckets while reading, reused
};

}  // namespace wsload::stats
