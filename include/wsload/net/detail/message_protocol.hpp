#pragma once
// A protocol spoken over a connection's messages, between the transport and the behaviour:
// Engine.IO and Socket.IO over a WebSocket. The connection counts every message and hands it
// here first; the protocol answers what is its own (a ping), and hands on what the behaviour
// should see (connection_base::dispatch, claim_by_key). Owned by the connection it reads.

#include <string_view>

namespace wsload::net::detail {

class message_protocol {
public:
    virtual ~message_protocol() = default;
    /// A data message, counted already (bytes and messages of the transport).
    virtual void on_message(std::string_view data, bool binary) = 0;
    /// The connection has ended (its waiters woken): whatever the protocol waits for ends too.
    virtual void on_end() noexcept {}
    /// What requests over it are recorded as: the Type column of their rows ("SIO").
    virtual std::string_view request_type() const noexcept = 0;
};

}  // namespace wsload::net::detail
