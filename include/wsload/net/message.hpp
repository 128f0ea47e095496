#pragma once
// A received message (WebSocket, TCP, Socket.IO), owned by whoever received it.

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace wsload {

struct message {
    message() = default;
    message(std::string d, bool b) : data(std::move(d)), binary(b) {}

    std::string data;
    bool binary = false;
    /// The binary parts that came with it (a Socket.IO packet's attachments; empty otherwise).
    std::vector<std::string> attachments;

    std::string_view text() const noexcept { return data; }
    /// Parses the payload as JSON; throws boost::system::system_error if it is not.
    boost::json::value json() const { return boost::json::parse(data); }
};

}  // namespace wsload
