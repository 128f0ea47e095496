#pragma once
// The arguments of a Socket.IO emit that carries binary data, as socket.io-client's
//     socket.emit("upload", {name: "a.png"}, buffer, ack)
// sends them: the buffers leave the JSON as placeholders (`{"_placeholder":true,"num":0}`) and
// follow the packet as binary WebSocket messages (client::emit_binary). A small builder rather
// than JSON text with placeholders written by hand: the caller says where the bytes go, and the
// numbering, which the server checks against the messages that follow, cannot be got wrong.
//     wsload::socketio::arguments a;
//     a.json(R"({"name":"a.png"})").binary(png);              // an object, then a Buffer
//     a.json(R"({"name":"b.png","data":)" + a.attach(png2) + "}");  // a Buffer inside an object
//     auto ack = co_await io.emit_binary_with_ack("upload", a);
// JSON text is taken as given (as client::emit takes its arguments): the server parses it.

#include <wsload/net/socketio/packet.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace wsload::socketio {

class arguments {
public:
    /// Adds one argument given as JSON text (`{"a":1}`, `"text"`, `2`). Throws
    /// std::invalid_argument for empty text (use `null`).
    arguments& json(std::string_view value)
    {
        if (value.empty()) throw std::invalid_argument("wsload: an empty Socket.IO argument (use null for none)");
        separate();
        text_ += value;
        return *this;
    }

    /// Adds one argument that the server receives as a Buffer (an attachment).
    arguments& binary(std::string bytes)
    {
        auto placeholder = attach(std::move(bytes));
        separate();
        text_ += placeholder;
        return *this;
    }

    /// Keeps `bytes` as the next attachment and returns its placeholder, for JSON text the caller
    /// places it in (`{"data":` + a.attach(b) + `}`). Throws std::length_error past
    /// max_attachments (a server would refuse the packet).
    std::string attach(std::string bytes)
    {
        if (attachments_.size() >= max_attachments)
            throw std::length_error("wsload: more than " + std::to_string(max_attachments) +
                                    " binary attachments in one Socket.IO emit");
        auto placeholder = R"({"_placeholder":true,"num":)" + std::to_string(attachments_.size()) + "}";
        attachments_.push_back(std::move(bytes));
        return placeholder;
    }

    /// The arguments' JSON text, comma-separated (what client::emit takes as `args`).
    const std::string& text() const noexcept { return text_; }
    /// The attachments, in the order of their placeholders' numbers.
    const std::vector<std::string>& attachments() const noexcept { return attachments_; }

private:
    void separate()
    {
        if (!text_.empty()) text_ += ',';
    }

    std::string text_;
    std::vector<std::string> attachments_;
};

/// The Engine.IO message of an emit of `event` with `a` on namespace `nsp`: a BINARY_EVENT when
/// `a` has attachments (`451-["upload",{"_placeholder":true,"num":0}]`), else a plain EVENT, as
/// socket.io-client chooses. `id` asks for an acknowledgement.
inline std::string encode_emit(std::string_view nsp, std::optional<std::uint64_t> id, std::string_view event,
                               const arguments& a)
{
    const auto n = static_cast<std::uint32_t>(a.attachments().size());
    return encode_packet(n ? packet_type::binary_event : packet_type::event, nsp, id, event_data(event, a.text()), n);
}

}  // namespace wsload::socketio
