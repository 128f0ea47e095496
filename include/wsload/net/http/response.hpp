#pragma once
// What an HTTP request gives back: the response, or why there was none.

#include <wsload/stats/taxonomy.hpp>

#include <boost/beast/http/fields.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace wsload::http {

/// A response (status != 0), or none: then `timed_out` or `failure` says why. Either way the
/// request is already counted, in exactly one of answered, rejected, timed out or failed.
struct response {
    unsigned status = 0;  ///< 0 when no response came
    boost::beast::http::fields headers;
    std::string body;
    /// From the request's (intended) start to the response's last byte.
    std::chrono::nanoseconds elapsed{};
    /// How long sending the request body took (an upload's time), first byte to last.
    std::chrono::nanoseconds upload_time{};
    std::uint64_t uploaded_bytes = 0;
    bool timed_out = false;
    std::optional<stats::request_failure> failure;

    /// A response came (whatever its status).
    explicit operator bool() const noexcept { return status != 0; }
    /// It counted as answered: the status expected (by default, any below 400).
    bool ok = false;

    std::string_view header(std::string_view name) const
    {
        const auto it = headers.find(name);
        return it == headers.end() ? std::string_view() : std::string_view(it->value());
    }
    /// The body as JSON; throws boost::system::system_error when it is not.
    boost::json::value json() const { return boost::json::parse(body); }
};

}  // namespace wsload::http
