#pragma once
// A received WebSocket message, owned by whoever received it.

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <string>
#include <string_view>

namespace wsload {

struct message {
    message() = default;
    message(std::string d, bool b) : data(std::move(d)), binary(b) {}

    std::string data;
    bool binary = false;

    std::string_view text() const noexcept { return data; }
    /// Parses the payload as JSON; throws boost::system::system_error if it is not.
    boost::json::value json() const { return boost::json::parse(data); }
};

}  // namespace wsload
