// libFuzzer target: the Engine.IO / Socket.IO packet codec (net/socketio/packet.hpp), what a
// Socket.IO server's every text message goes through.
// Input: one byte choosing what reads the rest, then the text.
//   byte 0 & 3: 0, 1: parse_packet; 2: event_name; 3: parse_open_packet.
// Checked:
//   - a parsed packet's views lie inside the text; its type is one of the seven; a binary
//     packet's attachment count is within max_attachments, others carry none; events and acks
//     carry an array, acks an id;
//   - encode then parse gives the same header and data back (namespace, id, attachments, data);
//   - event_name of a packet's data agrees with JSON: when it names one, the array's first element
//     is that string;
//   - an open packet read has a sid and ping settings within a day.
// Each parse reads from a heap block of exactly the text's size, so ASan sees a read past it.

#include "fuzz_check.hpp"

#include <wsload/net/socketio/packet.hpp>

#include <boost/json/src.hpp>  // Boost.JSON's definitions: this target links no library

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

namespace sio = wsload::socketio;

namespace {

void check_name(std::string_view array);

bool inside(std::string_view part, std::string_view whole)
{
    return part.empty() || (part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size());
}

void check_packet(std::string_view text)
{
    const auto p = sio::parse_packet(text);
    if (!p) return;
    WSLOAD_FUZZ_CHECK(p->type >= sio::packet_type::connect && p->type <= sio::packet_type::binary_ack, text);
    WSLOAD_FUZZ_CHECK(p->nsp == "/" || inside(p->nsp, text), text);
    WSLOAD_FUZZ_CHECK(!p->nsp.empty() && p->nsp[0] == '/', text);
    WSLOAD_FUZZ_CHECK(inside(p->data, text), text);
    const bool binary = p->type == sio::packet_type::binary_event || p->type == sio::packet_type::binary_ack;
    WSLOAD_FUZZ_CHECK(binary || p->attachments == 0, text);
    WSLOAD_FUZZ_CHECK(p->attachments <= sio::max_attachments, text);
    const bool ack = p->type == sio::packet_type::ack || p->type == sio::packet_type::binary_ack;
    if (ack || p->type == sio::packet_type::event || p->type == sio::packet_type::binary_event)
        WSLOAD_FUZZ_CHECK(!p->data.empty() && p->data[0] == '[', text);
    if (ack) WSLOAD_FUZZ_CHECK(p->id.has_value(), text);

    const auto again_text = sio::encode_packet(p->type, p->nsp, p->id, p->data, p->attachments);
    WSLOAD_FUZZ_CHECK(again_text.size() >= 2 && again_text[0] == '4', again_text);
    const auto again = sio::parse_packet(std::string_view(again_text).substr(1));
    WSLOAD_FUZZ_CHECK(again.has_value(), again_text);
    WSLOAD_FUZZ_CHECK(again->type == p->type && again->nsp == p->nsp && again->id == p->id &&
                          again->attachments == p->attachments && again->data == p->data,
                      again_text);
    check_name(p->data);
}

}  // namespace

namespace {

void check_name(std::string_view array)
{
    const auto name = sio::event_name(array);
    if (!name) return;
    // What the reader names is what JSON says the first element is, when the array parses.
    boost::system::error_code ec;
    const auto v = boost::json::parse(array, ec);
    if (ec) return;  // the rest may be broken: only the name was read
    WSLOAD_FUZZ_CHECK(v.is_array() && !v.get_array().empty() && v.get_array()[0].is_string(), array);
    const auto& first = v.get_array()[0].get_string();
    // A lone surrogate escape is read as U+FFFD; JSON may keep it otherwise.
    if (array.find("\\u") == std::string_view::npos)
        WSLOAD_FUZZ_CHECK(std::string_view(first) == *name, array);
}

void check_open(std::string_view json)
{
    const auto p = sio::parse_open_packet(json);
    if (!p) return;
    WSLOAD_FUZZ_CHECK(p->ping_interval.count() > 0 && p->ping_interval.count() <= 24LL * 3600 * 1000, json);
    WSLOAD_FUZZ_CHECK(p->ping_timeout.count() > 0 && p->ping_timeout.count() <= 24LL * 3600 * 1000, json);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size < 1) return 0;
    const auto mode = data[0] & 3;
    const auto n = size - 1;
    const std::unique_ptr<char[]> copy(new char[n ? n : 1]);
    if (n) std::memcpy(copy.get(), data + 1, n);
    const std::string_view text(copy.get(), n);
    switch (mode) {
    case 0:
    case 1: check_packet(text); break;
    case 2: check_name(text); break;
    case 3: check_open(text); break;
    }
    return 0;
}
