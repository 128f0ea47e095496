#pragma once
// What an HTTP client is opened with (http::options) and what one request is given
// (http::request_options).

#include <wsload/core/task.hpp>

#include <chrono>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace wsload::http {

/// A client's settings, set fluently: `http::options().timeout(5s).follow_redirects(3)`.
class options {
public:
    options() {}
    /// How long a request may take, from its (intended) start to the last byte of the response,
    /// unless the request says otherwise.
    options& timeout(std::chrono::nanoseconds d) { timeout_ = d; return *this; }
    /// A larger response body fails the request as too_large (and ends its connection) before
    /// it is held in memory.
    options& max_body_bytes(std::size_t n) { max_body_bytes_ = n; return *this; }
    /// Follows at most `n` redirects (301, 302, 303, 307, 308) per request; 0 (the default):
    /// a redirect is the response. Each hop is counted as a request of its own, under the same
    /// name, as k6 does.
    options& follow_redirects(unsigned n) { max_redirects_ = n; return *this; }
    /// A header sent with every request of this client (a request's own header of the same name wins).
    options& header(std::string name, std::string value)
    {
        headers_.emplace_back(std::move(name), std::move(value));
        return *this;
    }
    /// `Authorization: Bearer <token>` on every request.
    options& bearer(std::string token) { return header("Authorization", "Bearer " + token); }
    /// Keeps cookies the server sets and sends them back (on by default).
    options& cookies(bool on) { cookies_ = on; return *this; }

    std::chrono::nanoseconds timeout() const noexcept { return timeout_; }
    std::size_t max_body_bytes() const noexcept { return max_body_bytes_; }
    unsigned max_redirects() const noexcept { return max_redirects_; }
    const std::vector<std::pair<std::string, std::string>>& headers() const noexcept { return headers_; }
    bool cookies() const noexcept { return cookies_; }

private:
    std::chrono::nanoseconds timeout_ = std::chrono::seconds(30);
    std::size_t max_body_bytes_ = 16 * 1024 * 1024;
    unsigned max_redirects_ = 0;
    bool cookies_ = true;
    std::vector<std::pair<std::string, std::string>> headers_;
};

/// A header of one request.
struct header {
    std::string_view name;
    std::string_view value;
};

/// Options of one request: its name (its row in the report, with the method as its type: a
/// request `GET /api/lessons/42` named "lesson" is the row `GET lesson`; unnamed, the row is its
/// path), its timeout (zero: the client's), the time it was meant to start (see coordinated
/// omission in the README), the status that counts as success (0: any below 400), and headers
/// of its own. Strings are read when the request starts: views of temporaries are fine.
/// An aggregate for designated initializers; keep its members trivially destructible (g++ 12
/// destroys aggregate temporaries in co_await expressions twice: see websocket_options).
/// Headers are a span, not a braced list: g++ 12 cannot compile the array behind a braced list
/// inside a co_await expression ("array used as initializer"), so a behaviour names its array:
///     const http::header auth[] = {{"X-Token", token}};
///     co_await api.get("/me", {.headers = auth});
struct request_options {
    std::string_view name = {};
    std::chrono::nanoseconds timeout = {};
    std::optional<clock::time_point> intended_at = {};
    unsigned expect = 0;
    std::span<const header> headers = {};
};

}  // namespace wsload::http
