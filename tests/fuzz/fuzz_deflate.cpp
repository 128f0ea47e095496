// libFuzzer target: permessage-deflate (net/websocket/detail/permessage_deflate.hpp).
// Input: one options byte (bit 0: offer client_no_context_takeover, bit 1: offer
// client_max_window_bits=10, bit 2: offer server_max_window_bits=10), then the server's
// Sec-WebSocket-Extensions up to the first newline, then bytes that are both a compressed
// payload to inflate (as a server's message) and a message to compress and inflate back.
// Checks: an agreement has windows of 8-15 bits within the offer; inflating never yields or
// holds more than the limit; what the client compresses inflates back to itself.

#include "fuzz_check.hpp"

#include <wsload/net/websocket/detail/permessage_deflate.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace wd = wsload::net::detail;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size == 0) return 0;
    const std::uint8_t options = data[0];
    std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
    const auto newline = rest.find('\n');
    const auto header = rest.substr(0, newline);
    const auto payload = newline == std::string_view::npos ? std::string_view{} : rest.substr(newline + 1);

    wsload::deflate_options offer;
    if (options & 1) offer.client_no_context_takeover();
    if (options & 2) offer.client_max_window_bits(10);
    if (options & 4) offer.server_max_window_bits(10);
    wd::deflate_agreement terms;
    const auto verdict = wd::negotiate_deflate(header, &offer, terms);
    if (verdict == wd::extension_verdict::deflate) {
        WSLOAD_FUZZ_CHECK(terms.client_bits >= 8 && terms.client_bits <= 15, header);
        WSLOAD_FUZZ_CHECK(terms.server_bits >= 8 && terms.server_bits <= 15, header);
        if (options & 2) WSLOAD_FUZZ_CHECK(terms.client_bits <= 10, header);
        if (options & 4) WSLOAD_FUZZ_CHECK(terms.server_bits <= 10, header);
        if (options & 1) WSLOAD_FUZZ_CHECK(terms.client_no_context, header);
    }
    wd::deflate_agreement nothing;
    WSLOAD_FUZZ_CHECK(wd::negotiate_deflate(header, nullptr, nothing) != wd::extension_verdict::deflate, header);
    if (verdict != wd::extension_verdict::deflate) terms = wd::deflate_agreement{};

    wd::deflate_thread_state thread;
    constexpr std::size_t limit = 64 * 1024;
    std::string out;
    wd::deflate_codec server_side(terms, offer);
    const auto status = server_side.inflate(payload, limit, out, thread);
    WSLOAD_FUZZ_CHECK(out.size() <= limit + 1 && out.capacity() <= 2 * (limit + 1));
    if (status == wd::inflate_status::ok) WSLOAD_FUZZ_CHECK(out.size() <= limit);

    if (terms.client_bits >= 9) {
        wd::deflate_codec client(terms, offer), reader(terms, offer);
        std::string wire, back;
        client.compress(payload, wire, thread);
        const auto st = reader.inflate(wire, payload.size() + 1, back, thread);
        WSLOAD_FUZZ_CHECK(st == wd::inflate_status::ok && back == payload);
    }
    return 0;
}
