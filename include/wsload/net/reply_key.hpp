#pragma once
// How a reply names the request it answers, when the protocol gives it a key (a `msgid`, a
// `respId`, an ack id): requests with a key are then found by a hash lookup, O(1) per message
// however many are in flight, instead of asking each waiting request's matcher in turn.

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <charconv>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace wsload {

/// The key a message carries, or none: set on a connection (`options.reply_key(...)`) and
/// shared by all its requests. A request made with `request_options{.key = "42"}` is answered
/// by the first message whose key is "42".
class reply_key {
public:
    using extractor = std::function<std::optional<std::string>(std::string_view message)>;

    /// Any function of the message's text.
    explicit reply_key(extractor f) : f_(std::move(f)) {}

    /// The member `field` of a JSON object message: a string as it is, an integer in decimal
    /// (`{"msgid": 42}` has the key "42"). A message that is not a JSON object, or lacks the
    /// field, has no key.
    static reply_key json_field(std::string field)
    {
        return reply_key([field = std::move(field)](std::string_view message) -> std::optional<std::string> {
            // Parsed into a per-thread arena that is reused: a small message costs no allocation.
            thread_local unsigned char arena[4096];
            boost::json::monotonic_resource memory(arena, sizeof arena);
            boost::system::error_code ec;
            const auto v = boost::json::parse(message, ec, &memory);
            if (ec || !v.is_object()) return std::nullopt;
            const auto* found = v.get_object().if_contains(field);
            if (!found) return std::nullopt;
            if (found->is_string()) return std::string(found->get_string());
            char text[24];
            std::to_chars_result r{};
            if (found->is_int64()) r = std::to_chars(text, text + sizeof text, found->get_int64());
            else if (found->is_uint64()) r = std::to_chars(text, text + sizeof text, found->get_uint64());
            else return std::nullopt;
            return std::string(text, r.ptr);
        });
    }

    std::optional<std::string> operator()(std::string_view message) const { return f_(message); }

private:
    extractor f_;
};

}  // namespace wsload
