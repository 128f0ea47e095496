#pragma once
// What a traced connection (--log-users: its owner's traced()) keeps to name itself in its
// lines: its owner's tag and the URL of its attempt. Kept per thread, by connection, so that an
// untraced connection pays nothing but the bool connection_base tests before each event.

#include <wsload/core/log.hpp>
#include <wsload/core/task.hpp>
#include <wsload/net/io_thread.hpp>

#include <chrono>
#include <cstdio>
#include <string>
#include <string_view>
#include <unordered_map>

namespace wsload::net::detail {

/// The traced connections of one thread (io_thread::local).
class trace_registry {
public:
    struct entry {
        std::string tag;  ///< `user_3`
        std::string url;  ///< the attempt's URL, secrets masked
    };

    explicit trace_registry(io_thread&) {}

    entry& operator[](const void* connection) { return entries_[connection]; }
    void erase(const void* connection) noexcept { entries_.erase(connection); }

private:
    std::unordered_map<const void*, entry> entries_;
};

/// The component of a transport's lines: `websocket`, `tcp`, `http`.
inline std::string_view trace_component(std::string_view request_type) noexcept
{
    if (request_type == "WS") return "websocket";
    if (request_type == "TCP") return "tcp";
    if (request_type == "HTTP") return "http";
    return request_type;
}

/// `1.234 ms`.
inline std::string trace_ms(clock::duration d)
{
    char buffer[32];
    const auto n = std::snprintf(buffer, sizeof buffer, "%.3f ms",
                                 std::chrono::duration<double, std::milli>(d).count());
    return std::string(buffer, n > 0 ? static_cast<std::size_t>(n) : 0);
}

}  // namespace wsload::net::detail
