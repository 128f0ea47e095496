#pragma once
// What a raw TCP connection is opened with: its framing and its bounds.

#include <wsload/net/reply_key.hpp>
#include <wsload/net/tcp/framing.hpp>

#include <cstddef>
#include <memory>
#include <utility>

namespace wsload::tcp {

/// Per-connection settings, set fluently: `tcp::options().framing(tcp::framing::length_prefixed(4))`.
class options {
public:
    options() {}
    /// How the byte stream is cut into messages (default: lines ending in "\n").
    options& framing(tcp::framing f) { framing_ = std::move(f); return *this; }
    /// A larger incoming message ends the connection as message_too_big, before it is buffered.
    options& max_message_bytes(std::size_t n) { max_message_bytes_ = n; return *this; }
    /// Unclaimed messages kept for receive(); the oldest is dropped beyond it (0: none kept).
    options& inbox_limit(std::size_t n) { inbox_limit_ = n; return *this; }
    /// Every incoming message must be JSON: one that is not ends the connection as
    /// protocol_error (an unparsable frame), counted once, instead of reaching a matcher.
    options& expect_json(bool on = true) { expect_json_ = on; return *this; }
    /// How replies name their requests: `reply_key::json_field("msgid")` lets requests made
    /// with `{.key = ...}` be answered by key (a hash lookup) in any order.
    options& reply_key(wsload::reply_key k)
    {
        reply_key_ = std::make_shared<const wsload::reply_key>(std::move(k));
        return *this;
    }

    /// How pushes (messages no request claims) name their type: they are then counted by type
    /// in the report (pushes by type).
    options& push_type(wsload::reply_key k)
    {
        push_type_ = std::make_shared<const wsload::reply_key>(std::move(k));
        return *this;
    }

    const tcp::framing& framing() const noexcept { return framing_; }
    std::size_t max_message_bytes() const noexcept { return max_message_bytes_; }
    std::size_t inbox_limit() const noexcept { return inbox_limit_; }
    bool expects_json() const noexcept { return expect_json_; }
    const std::shared_ptr<const wsload::reply_key>& reply_key() const noexcept { return reply_key_; }
    const std::shared_ptr<const wsload::reply_key>& push_type() const noexcept { return push_type_; }

private:
    tcp::framing framing_ = tcp::framing::lines();
    std::size_t max_message_bytes_ = 1024 * 1024;
    std::size_t inbox_limit_ = 64;
    bool expect_json_ = false;
    std::shared_ptr<const wsload::reply_key> reply_key_;
    std::shared_ptr<const wsload::reply_key> push_type_;
};

}  // namespace wsload::tcp
