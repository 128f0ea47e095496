// libFuzzer target: the raw-TCP message framers (net/tcp/framing.hpp).
// Input: three option bytes, then the byte stream a peer sends.
//   byte 0: the framer. Bits 0-2: lines '\n', lines ';', lines NUL, lines '\r', length-prefixed,
//           fixed, a custom netstring framer that behaves, a custom one that answers nonsense;
//           for length-prefixed, bits 3-4 the header size (1, 2, 4, 8), bit 5 little-endian,
//           bit 6 the length includes the header.
//   byte 1: bits 0-4, the fixed size - 1; bits 5-7, max_payload: none (SIZE_MAX), 0, 1, 2, 7,
//           64, 255 or 1000.
//   byte 2: the split pattern: reads of 1 to (byte 2 & 63) + 1 bytes, sizes drawn from byte 2.
// Checked:
//   - every answer is safe: consumed within the buffer and not 0, the payload inside the frame
//     and within max_payload; nothing but complete carries a consumed count or a payload;
//   - cuts change nothing (for every framer but the nonsense one): the stream decoded as it
//     arrives in reads, into a growing buffer, gives the same frames and the same final status
//     as the whole stream decoded at once;
//   - encode then decode gives the payload back (but for the nonsense framer), for every payload
//     decoded and for the stream itself as one payload, or encode refuses with a one-line std::length_error and leaves its
//     output alone; length-prefixed and fixed re-encode a decoded frame to the very same bytes.
//   - decode allocates nothing (counted through ASan's allocator hooks).
// Each decode reads from a heap block of exactly the buffered size, so ASan sees a read past it.

#include "fuzz_check.hpp"

#include <wsload/net/tcp/framing.hpp>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <sanitizer/allocator_interface.h>

namespace {

using wsload::tcp::byte_order;
using wsload::tcp::decoded;
using wsload::tcp::framing;
using status = decoded::status;

constexpr std::size_t unbounded = std::numeric_limits<std::size_t>::max();

decoded netstring_decode(std::string_view in)
{
    auto const colon = in.find(':');
    if (colon == std::string_view::npos) return {.what = in.size() > 20 ? status::invalid : status::incomplete};
    if (colon == 0 || colon > 20) return {.what = status::invalid};
    std::size_t length = 0;
    for (char c : in.substr(0, colon)) {
        if (c < '0' || c > '9') return {.what = status::invalid};
        length = length * 10 + static_cast<std::size_t>(c - '0');
    }
    if (in.size() - colon - 1 <= length) return {};
    if (in[colon + 1 + length] != ',') return {.what = status::invalid};
    return {status::complete, colon + length + 2, in.substr(colon + 1, length)};
}

void netstring_encode(std::string_view payload, std::string& out)
{
    out += std::to_string(payload.size()) + ':';
    out.append(payload);
    out += ',';
}

char const elsewhere[] = "not in the buffer";

// Answers from its first four bytes whatever they say: status, consumed, payload offset
// (from -8) and size, some pointing outside the buffer or at another object.
decoded nonsense_decode(std::string_view in)
{
    if (in.size() < 4) return {};
    auto const byte = [&](std::size_t i) { return static_cast<unsigned char>(in[i]); };
    decoded d;
    d.what = static_cast<status>(byte(0) % 5);
    d.consumed = byte(1) & 0x80 ? in.size() + (byte(1) & 3) : byte(1);
    auto const offset = static_cast<std::intptr_t>(byte(2) & 0x7f) - 8;
    auto const base = byte(2) & 0x80 ? reinterpret_cast<std::uintptr_t>(elsewhere)
                                     : reinterpret_cast<std::uintptr_t>(in.data());
    // An address only, never read through: the framer must reject it before anyone does.
    d.payload = std::string_view(reinterpret_cast<char const*>(base + static_cast<std::uintptr_t>(offset)), byte(3));
    return d;
}

// Counted by ASan's allocator hook: decode must allocate nothing (the custom decoders here
// allocate nothing either, so the check holds for every framer).
std::atomic<std::uint64_t> allocations{0};
void count_allocation(void const volatile*, std::size_t) { allocations.fetch_add(1, std::memory_order_relaxed); }
void ignore_free(void const volatile*) {}

struct setup {
    framing framer;
    bool trusted = true; // cuts must not matter
    bool canonical = false; // a decoded frame re-encodes to the same bytes
    std::size_t max_payload = unbounded;
};

setup make_setup(std::uint8_t how, std::uint8_t param)
{
    static constexpr std::size_t limits[] = {unbounded, 0, 1, 2, 7, 64, 255, 1000};
    setup s;
    s.max_payload = limits[param >> 5];
    switch (how & 7) {
    case 0: s.framer = framing::lines(); break;
    case 1: s.framer = framing::lines(';'); break;
    case 2: s.framer = framing::lines('\0'); break;
    case 3: s.framer = framing::lines('\r'); break;
    case 4: {
        static constexpr unsigned headers[] = {1, 2, 4, 8};
        s.framer = framing::length_prefixed(headers[(how >> 3) & 3], how & 0x20 ? byte_order::little : byte_order::big,
                                            (how & 0x40) != 0);
        s.canonical = true;
        break;
    }
    case 5:
        s.framer = framing::fixed((param & 0x1f) + 1u);
        s.canonical = true;
        break;
    case 6: s.framer = framing::custom(netstring_decode, netstring_encode); break;
    default:
        s.framer = framing::custom(nonsense_decode);
        s.trusted = false;
        break;
    }
    return s;
}

/// Decodes `buffered` from a heap block of exactly its size, and checks the answer is safe.
/// The payload is returned as an offset into `buffered` (the block dies here).
struct answer {
    status what;
    std::size_t consumed;
    std::size_t payload_at;
    std::size_t payload_size;
};

answer decode_checked(setup const& s, std::string_view buffered)
{
    auto block = std::make_unique<char[]>(buffered.size());
    if (!buffered.empty()) std::memcpy(block.get(), buffered.data(), buffered.size());
    std::string_view const in(block.get(), buffered.size());
    auto const allocations_before = allocations.load(std::memory_order_relaxed);
    auto const d = s.framer.decode(in, s.max_payload);
    WSLOAD_FUZZ_CHECK(allocations.load(std::memory_order_relaxed) == allocations_before); // decode allocates nothing
    if (d.what != status::complete) {
        WSLOAD_FUZZ_CHECK(d.what == status::incomplete || d.what == status::too_big || d.what == status::invalid);
        WSLOAD_FUZZ_CHECK(d.consumed == 0 && d.payload.empty());
        return {d.what, 0, 0, 0};
    }
    WSLOAD_FUZZ_CHECK(d.consumed > 0 && d.consumed <= in.size());
    WSLOAD_FUZZ_CHECK(d.payload.size() <= s.max_payload);
    auto const at = reinterpret_cast<std::uintptr_t>(d.payload.data()) - reinterpret_cast<std::uintptr_t>(in.data());
    WSLOAD_FUZZ_CHECK(reinterpret_cast<std::uintptr_t>(d.payload.data()) >= reinterpret_cast<std::uintptr_t>(in.data()));
    WSLOAD_FUZZ_CHECK(at <= d.consumed && d.payload.size() <= d.consumed - at);
    // Read every payload byte: ASan checks the view really lies in the block.
    volatile char sink = 0;
    for (char c : d.payload) sink = static_cast<char>(sink ^ c);
    return {d.what, d.consumed, at, d.payload.size()};
}

char const* name_of(status what)
{
    switch (what) {
    case status::incomplete: return "incomplete";
    case status::complete: return "complete";
    case status::too_big: return "too_big";
    case status::invalid: return "invalid";
    }
    return "?";
}

struct outcome {
    std::vector<std::string> frames;
    status last = status::incomplete;
    std::string rest; // bytes left undecoded
};

outcome decode_whole(setup const& s, std::string_view stream)
{
    outcome o;
    for (;;) {
        auto const a = decode_checked(s, stream);
        o.last = a.what;
        if (a.what != status::complete) break;
        o.frames.emplace_back(stream.substr(a.payload_at, a.payload_size));
        stream.remove_prefix(a.consumed);
    }
    o.rest = stream;
    return o;
}

// As a transport would: append each read, decode what is there, keep what is left.
outcome decode_in_reads(setup const& s, std::string_view stream, std::uint8_t pattern)
{
    outcome o;
    std::string buffer;
    std::uint32_t state = pattern * 2654435761u + 1;
    std::size_t const largest = (pattern & 0x3f) + 1u;
    while (!stream.empty()) {
        state = state * 1103515245u + 12345u;
        auto const n = std::min<std::size_t>(stream.size(), 1 + (state >> 16) % largest);
        buffer.append(stream.substr(0, n));
        stream.remove_prefix(n);
        for (;;) {
            auto const a = decode_checked(s, buffer);
            o.last = a.what;
            if (a.what != status::complete) break;
            o.frames.push_back(buffer.substr(a.payload_at, a.payload_size));
            buffer.erase(0, a.consumed);
        }
        if (o.last == status::too_big || o.last == status::invalid) {
            // A transport closes here; what would have followed must be the same verdict.
            buffer.append(stream);
            break;
        }
    }
    o.rest = buffer;
    return o;
}

// Encodes `payload` and decodes it back; true when it was encoded.
bool round_trip(setup const& s, std::string_view payload, std::string_view original_frame = {})
{
    std::string out = "pre";
    try {
        s.framer.encode(payload, out);
    } catch (std::length_error const& e) {
        WSLOAD_FUZZ_CHECK(out == "pre");
        WSLOAD_FUZZ_CHECK(wsload::fuzz::one_line(e.what()), e.what());
        return false;
    }
    WSLOAD_FUZZ_CHECK(out.compare(0, 3, "pre") == 0);
    std::string_view const frame = std::string_view(out).substr(3);
    setup roomy = s;
    roomy.max_payload = unbounded;
    auto const a = decode_checked(roomy, frame);
    WSLOAD_FUZZ_CHECK(a.what == status::complete, payload);
    WSLOAD_FUZZ_CHECK(a.consumed == frame.size(), payload);
    WSLOAD_FUZZ_CHECK(frame.substr(a.payload_at, a.payload_size) == payload, payload);
    if (s.canonical && !original_frame.empty()) WSLOAD_FUZZ_CHECK(frame == original_frame, payload);
    return true;
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***)
{
    if (__sanitizer_install_malloc_and_free_hooks(count_allocation, ignore_free) == 0)
        wsload::fuzz::fail("cannot install the allocation hooks (build with -fsanitize=address)", __FILE__, __LINE__);
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size)
{
    if (size < 3) return 0;
    auto const s = make_setup(data[0], data[1]);
    std::uint8_t const pattern = data[2];
    std::string_view const stream(reinterpret_cast<char const*>(data) + 3, size - 3);

    auto const whole = decode_whole(s, stream);
    if (s.trusted) {
        auto const pieces = decode_in_reads(s, stream, pattern);
        WSLOAD_FUZZ_CHECK(pieces.frames == whole.frames);
        WSLOAD_FUZZ_CHECK(pieces.last == whole.last);
        WSLOAD_FUZZ_CHECK(pieces.rest == whole.rest);

        // Each decoded payload goes back on the wire; length-prefixed and fixed byte for byte.
        std::string_view left = stream;
        for (auto const& payload : whole.frames) {
            auto const a = decode_checked(s, left);
            round_trip(s, payload, left.substr(0, a.consumed));
            left.remove_prefix(a.consumed);
        }
    }
    // The nonsense framer's decode is no inverse of its encode (the payload as is).
    bool const encoded = s.trusted && round_trip(s, stream);
    if (wsload::fuzz::verbose())
        std::fprintf(stderr, "tcp_framing: %s, max_payload %zu: %zu frame(s), then %s with %zu byte(s) left; "
                             "the stream as one payload %s\n",
                     s.framer.describe().c_str(), s.max_payload, whole.frames.size(), name_of(whole.last),
                     whole.rest.size(), !s.trusted ? "is not tried" : encoded ? "round-trips" : "is refused");
    return 0;
}
