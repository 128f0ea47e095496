// libFuzzer target: the WebSocket frame parser wsload's client uses today (Beast's
// websocket::stream read path, set up as net/websocket/detail/beast_connection.hpp does).
// Input: one options byte (fuzz_websocket.hpp: bytes per socket read; bit 6: synchronous reads,
// Beast's other read path, instead of async_read as wsload uses; bit 7: a 125-byte message
// limit instead of 64 KiB), then what the server sends after a valid 101 response, then end
// of stream. The client reads messages as wsload's reader does until an error.
// Checked: it ends; no message exceeds the limit; every frame the client writes (pongs,
// closes) is well formed and masked; a connection the client fails is closed with the code
// RFC 6455 asks for (1009 message too big, 1007 invalid UTF-8, 1002 other protocol errors),
// and a close from the server is answered with its own code.

#include "fuzz_websocket.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace wsload::fuzz;

struct written_frame {
    bool fin = false;
    unsigned opcode = 0;
    std::string payload;  // unmasked
};

/// The frames the client wrote, each checked to be well formed and masked.
std::vector<written_frame> frames_written(std::string_view out)
{
    std::vector<written_frame> frames;
    while (!out.empty()) {
        WSLOAD_FUZZ_CHECK(out.size() >= 2);
        const auto b0 = static_cast<unsigned char>(out[0]), b1 = static_cast<unsigned char>(out[1]);
        written_frame f;
        f.fin = (b0 & 0x80) != 0;
        f.opcode = b0 & 0x0f;
        WSLOAD_FUZZ_CHECK((b0 & 0x70) == 0);  // no reserved bits: no extension was negotiated
        WSLOAD_FUZZ_CHECK((b1 & 0x80) != 0);  // every client frame is masked
        std::uint64_t len = b1 & 0x7f;
        std::size_t header = 2;
        if (len >= 126) {
            const std::size_t bytes = len == 126 ? 2 : 8;
            WSLOAD_FUZZ_CHECK(out.size() >= 2 + bytes);
            len = 0;
            for (std::size_t i = 0; i < bytes; ++i) len = len << 8 | static_cast<unsigned char>(out[2 + i]);
            header += bytes;
        }
        WSLOAD_FUZZ_CHECK(out.size() >= header + 4 && out.size() - header - 4 >= len);
        const std::string_view key = out.substr(header, 4);
        f.payload.assign(out.substr(header + 4, len));
        for (std::size_t i = 0; i < f.payload.size(); ++i) f.payload[i] = char(f.payload[i] ^ key[i % 4]);
        out.remove_prefix(header + 4 + len);
        // The client sends only control frames here: pongs and a close, unfragmented, <= 125 bytes.
        WSLOAD_FUZZ_CHECK(f.opcode == 0x8 || f.opcode == 0xa);
        WSLOAD_FUZZ_CHECK(f.fin && f.payload.size() <= 125);
        frames.push_back(std::move(f));
    }
    return frames;
}

unsigned close_code_of(const written_frame& f)
{
    if (f.payload.size() < 2) return 0;  // a close without a code
    return static_cast<unsigned char>(f.payload[0]) << 8 | static_cast<unsigned char>(f.payload[1]);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    std::string_view frames(reinterpret_cast<const char*>(data), size);
    const auto options = input_options::take(frames);
    const bool sync = options.flag6;
    const std::size_t limit = options.flag7 ? 125 : 64 * 1024;

    client c(options.read_size, limit);
    const std::string accept = c.begin_async_handshake("example.test", "/ws");
    c.server_sends(switching_protocols(accept) + std::string(frames));
    c.run();
    WSLOAD_FUZZ_CHECK(c.async_handshake_result && !*c.async_handshake_result);

    // As ws_connection's read_loop: one buffer, emptied after each message, shrunk after a big one.
    beast::flat_buffer buffer;
    error_code ec;
    std::size_t messages = 0;
    for (;;) {
        if (sync) {
            c.ws.read(buffer, ec);
        } else {
            std::optional<error_code> result;
            c.ws.async_read(buffer, [&](error_code e, std::size_t) { result = e; });
            c.run();
            WSLOAD_FUZZ_CHECK(result.has_value());  // all input is there: a read cannot hang
            ec = *result;
        }
        if (ec) break;
        WSLOAD_FUZZ_CHECK(buffer.size() <= limit);
        ++messages;
        WSLOAD_FUZZ_CHECK(messages <= frames.size() / 2);  // a frame is at least 2 bytes
        buffer.consume(buffer.size());
        if (buffer.capacity() > 64 * 1024) buffer.shrink_to_fit();
    }
    WSLOAD_FUZZ_CHECK(!c.ws.is_open());

    const auto written = frames_written(c.server.str());
    const written_frame* last = written.empty() ? nullptr : &written.back();
    const bool closed_by_client = last && last->opcode == 0x8;
    unsigned expected = 0;  // the close code the client owes, if any
    if (ec == websocket::error::closed) {
        expected = c.ws.reason().code == websocket::close_code::none ? 1000u : unsigned(c.ws.reason().code);
    } else if (ec == websocket::error::message_too_big) {
        expected = 1009;
    } else if (ec == websocket::error::bad_frame_payload) {
        expected = 1007;
    } else if (ec == websocket::condition::protocol_violation) {
        expected = 1002;
    }
    if (verbose())
        std::fprintf(stderr, "frames: %zu message(s), then \"%s\"; the client wrote %zu frame(s), close code %u\n",
                     messages, ec.message().c_str(), written.size(), closed_by_client ? close_code_of(*last) : 0u);
    if (expected != 0) {
        WSLOAD_FUZZ_CHECK(closed_by_client, ec.message());
        WSLOAD_FUZZ_CHECK(close_code_of(*last) == expected, ec.message());
    }
    return 0;
}
