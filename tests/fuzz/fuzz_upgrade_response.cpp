// libFuzzer target: the server's reply to the WebSocket upgrade, as wsload's client reads it.
// Input: one options byte (fuzz_websocket.hpp: how many bytes each socket read returns), then
// the bytes the server sends before closing. Three readers get them:
// 1. Beast's HTTP response parser alone, fed read by read as http::read feeds it: with the
//    body type the handshake uses (string_body) and with empty_body;
// 2. the real client handshake, synchronous: it must end with an error or an open stream;
// 3. the real client handshake as wsload runs it (async_handshake), with every "{accept}" in
//    the input replaced by the Sec-WebSocket-Accept the client's random key calls for, so that
//    the success path and what follows it are reached too. A declined upgrade must leave the
//    status wsload reports as http_status in the response.

#include "fuzz_websocket.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace {

using namespace wsload::fuzz;

template <class Body>
void parse_alone(std::string_view bytes, std::size_t read_size)
{
    http::response_parser<Body> parser;
    std::string pending;  // received, not yet consumed by the parser
    error_code ec;
    while (!parser.is_done()) {
        if (bytes.empty()) {
            // End of stream: as http::read, only a parser that got bytes is told (else: eof).
            if (parser.got_some()) parser.put_eof(ec);
            break;
        }
        const std::size_t n = read_size == 0 ? bytes.size() : std::min(read_size, bytes.size());
        pending.append(bytes.substr(0, n));
        bytes.remove_prefix(n);
        for (;;) {
            const std::size_t used = parser.put(boost::asio::buffer(pending), ec);
            WSLOAD_FUZZ_CHECK(used <= pending.size());
            pending.erase(0, used);
            if (ec == http::error::need_more) {
                ec = {};
                break;
            }
            if (ec) return;
            if (parser.is_done() || used == 0) break;
        }
    }
    if (!ec && parser.is_header_done()) {
        const unsigned status = parser.get().result_int();
        WSLOAD_FUZZ_CHECK(status <= 999);
    }
}

void handshake_sync(std::string_view bytes, std::size_t read_size)
{
    client c(read_size, 64 * 1024);
    c.server_sends(bytes);
    error_code ec;
    c.ws.handshake(c.response, "example.test", "/ws", ec);
    if (verbose()) std::fprintf(stderr, "upgrade: sync handshake \"%s\"\n", ec.message().c_str());
    // The accept value cannot match a random key except by chance: an error, without a crash.
    WSLOAD_FUZZ_CHECK(ec ? !c.ws.is_open() : c.ws.is_open());
}

void handshake_async(std::string_view bytes, std::size_t read_size)
{
    client c(read_size, 64 * 1024);
    const std::string accept = c.begin_async_handshake("example.test:8080", "/ws?room=1");
    std::string reply(bytes);
    constexpr std::string_view placeholder = "{accept}";
    for (auto at = reply.find(placeholder); at != std::string::npos; at = reply.find(placeholder, at + accept.size()))
        reply.replace(at, placeholder.size(), accept);
    c.server_sends(reply);
    c.run();
    WSLOAD_FUZZ_CHECK(c.async_handshake_result.has_value(), reply);  // it cannot still be waiting
    const error_code ec = *c.async_handshake_result;
    if (verbose())
        std::fprintf(stderr, "upgrade: async handshake \"%s\", status %u\n", ec.message().c_str(),
                     c.response.result_int());
    if (!ec) {
        WSLOAD_FUZZ_CHECK(c.ws.is_open(), reply);
        WSLOAD_FUZZ_CHECK(c.response.result() == http::status::switching_protocols, reply);
        // What followed the headers is frame data: one read must end (message or error).
        beast::flat_buffer buffer;
        std::optional<error_code> read;
        c.ws.async_read(buffer, [&](error_code e, std::size_t) { read = e; });
        c.run();
        WSLOAD_FUZZ_CHECK(read.has_value(), reply);
    } else {
        WSLOAD_FUZZ_CHECK(!c.ws.is_open(), reply);
        if (ec == websocket::error::upgrade_declined)
            WSLOAD_FUZZ_CHECK(c.response.result() != http::status::switching_protocols, reply);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    std::string_view bytes(reinterpret_cast<const char*>(data), size);
    const auto options = input_options::take(bytes);
    parse_alone<http::string_body>(bytes, options.read_size);
    parse_alone<http::empty_body>(bytes, options.read_size);
    handshake_sync(bytes, options.read_size);
    handshake_async(bytes, options.read_size);
    return 0;
}
