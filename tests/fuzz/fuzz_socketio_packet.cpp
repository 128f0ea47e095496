// libFuzzer target: the Engine.IO / Socket.IO packet codec (net/socketio/packet.hpp), what a
// Socket.IO server's every text message goes through.
// Input: one byte choosing what reads the rest, then the text.
//   byte 0 & 4 clear, byte 0 & 3: 0, 1: parse_packet; 2: event_name; 3: parse_open_packet.
//   byte 0 & 4 set: an emit encoded (net/socketio/arguments.hpp): the text split at NUL bytes
//   into the event's name and its arguments, each JSON text, or bytes sent as an attachment
//   (first byte 'b') or as one inside an object (first byte 'n'); byte 0 & 8 asks for an ack.
// Checked:
//   - a parsed packet's views lie inside the text; its type is one of the seven; a binary
//     packet's attachment count is within max_attachments, others carry none; events and acks
//     carry an array, acks an id;
//   - encode then parse gives the same header and data back (namespace, id, attachments, data);
//   - event_name of a packet's data agrees with JSON: when it names one, the array's first element
//     is that string;
//   - an open packet read has a sid and ping settings within a day;
//   - an encoded emit parses back: a binary event exactly when it has attachments, their count,
//     its ack id, its name; when its JSON arguments parse, the whole data does and holds one
//     placeholder per attachment, numbered in order.
// Each parse reads from a heap block of exactly the text's size, so ASan sees a read past it.

#include "fuzz_check.hpp"

#include <wsload/net/socketio/arguments.hpp>
#include <wsload/net/socketio/packet.hpp>

#include <boost/json/src.hpp>  // Boost.JSON's definitions: this target links no library

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

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

/// The placeholders in `v`, depth first in document order: their numbers into `nums`.
void collect_placeholders(const boost::json::value& v, std::vector<std::int64_t>& nums)
{
    if (const auto* a = v.if_array()) {
        for (const auto& e : *a) collect_placeholders(e, nums);
    } else if (const auto* o = v.if_object()) {
        if (const auto* ph = o->if_contains("_placeholder"); ph && ph->is_bool() && ph->get_bool()) {
            const auto* num = o->if_contains("num");
            nums.push_back(num && num->is_int64() ? num->get_int64() : -1);
            return;
        }
        for (const auto& [key, e] : *o) collect_placeholders(e, nums);
    }
}

void check_emit(std::string_view text, bool with_ack)
{
    std::vector<std::string_view> pieces;
    for (std::size_t at = 0;;) {
        const auto nul = text.find('\0', at);
        pieces.push_back(text.substr(at, nul == std::string_view::npos ? std::string_view::npos : nul - at));
        if (nul == std::string_view::npos) break;
        at = nul + 1;
    }
    const auto event = pieces[0];
    sio::arguments a;
    bool json_parses = true;  // every JSON argument parses alone, and names no placeholder itself
    for (std::size_t i = 1; i < pieces.size() && a.attachments().size() < sio::max_attachments; ++i) {
        const auto piece = pieces[i];
        if (!piece.empty() && piece[0] == 'b') {
            a.binary(std::string(piece.substr(1)));
        } else if (!piece.empty() && piece[0] == 'n') {
            a.json(R"({"in":)" + a.attach(std::string(piece.substr(1))) + "}");
        } else if (!piece.empty()) {
            boost::system::error_code ec;
            boost::json::parse(piece, ec);
            if (ec || piece.find("_placeholder") != std::string_view::npos) json_parses = false;
            a.json(piece);
        }
    }
    const std::optional<std::uint64_t> id = with_ack ? std::optional<std::uint64_t>(pieces.size()) : std::nullopt;
    const auto encoded = sio::encode_emit("/", id, event, a);
    WSLOAD_FUZZ_CHECK(encoded.size() >= 2 && encoded[0] == '4', encoded);
    const auto p = sio::parse_packet(std::string_view(encoded).substr(1));
    WSLOAD_FUZZ_CHECK(p.has_value(), encoded);
    const auto n = a.attachments().size();
    WSLOAD_FUZZ_CHECK((p->type == (n ? sio::packet_type::binary_event : sio::packet_type::event)), encoded);
    WSLOAD_FUZZ_CHECK(p->attachments == n && p->id == id && p->nsp == "/", encoded);
    const auto name = sio::event_name(p->data);
    WSLOAD_FUZZ_CHECK(name && *name == event, encoded);
    if (!json_parses) return;
    boost::system::error_code ec;
    const auto v = boost::json::parse(p->data, ec);
    // The name is raw bytes: JSON refuses it when it is not UTF-8.
    if (ec) {
        bool ascii = true;
        for (const char c : event) ascii = ascii && static_cast<unsigned char>(c) < 0x80;
        WSLOAD_FUZZ_CHECK(!ascii, encoded);
        return;
    }
    std::vector<std::int64_t> nums;
    collect_placeholders(v, nums);
    WSLOAD_FUZZ_CHECK(nums.size() == n, encoded);
    for (std::size_t i = 0; i < n; ++i) WSLOAD_FUZZ_CHECK(nums[i] == static_cast<std::int64_t>(i), encoded);
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
    if (data[0] & 4) {
        check_emit(text, (data[0] & 8) != 0);
        return 0;
    }
    switch (mode) {
    case 0:
    case 1: check_packet(text); break;
    case 2: check_name(text); break;
    case 3: check_open(text); break;
    }
    return 0;
}
