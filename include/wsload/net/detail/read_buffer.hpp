#pragma once
// The buffer every connection of a thread reads into, whatever its transport: a read is framed
// or parsed in place before its connection suspends again, so one buffer per thread serves them
// all (io_thread::local), and an idle connection holds none.

#include <cstddef>
#include <memory>

namespace wsload::net {
class io_thread;
}  // namespace wsload::net

namespace wsload::net::detail {

class thread_read_buffer {
public:
    static constexpr std::size_t size = 64 * 1024;

    explicit thread_read_buffer(io_thread&) {}
    /// Made at the first read of any connection of the thread.
    char* get()
    {
        if (!data_) data_ = std::make_unique<char[]>(size);
        return data_.get();
    }

private:
    std::unique_ptr<char[]> data_;
};

}  // namespace wsload::net::detail
