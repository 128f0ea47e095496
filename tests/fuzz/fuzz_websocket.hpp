#pragma once
// A WebSocket client as wsload sets one up (net/websocket/detail/beast_connection.hpp: Beast's
// websocket::stream, small write buffer, no auto-fragment, a control callback, a message
// limit), over Beast's in-memory test::stream instead of a socket, for the fuzz targets that
// play the server. Everything runs on one thread; nothing waits on a clock.

#include "fuzz_check.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/beast/_experimental/test/stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace wsload::fuzz {

namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace websocket = boost::beast::websocket;
using boost::system::error_code;

/// How the server's bytes reach the client, from the input's first byte: low 6 bits, the most
/// bytes one read of the socket returns (0: everything available); bits 6 and 7 for the target.
struct input_options {
    std::size_t read_size = 0;
    bool flag6 = false;
    bool flag7 = false;

    static input_options take(std::string_view& input)
    {
        input_options o;
        if (input.empty()) return o;
        const auto b = static_cast<unsigned char>(input.front());
        input.remove_prefix(1);
        o.read_size = b & 0x3f;
        o.flag6 = (b & 0x40) != 0;
        o.flag7 = (b & 0x80) != 0;
        return o;
    }
};

struct client {
    boost::asio::io_context ioc;
    beast::test::stream server{ioc};  ///< the peer: what the client writes lands in its input
    websocket::stream<beast::test::stream> ws{ioc};
    websocket::response_type response;
    std::optional<error_code> async_handshake_result;
    std::uint16_t pong_count = 0;

    client(std::size_t read_size, std::size_t max_message_bytes)
    {
        ws.next_layer().connect(server);
        if (read_size > 0) ws.next_layer().read_size(read_size);
        // As ws_connection::init() and connect() do.
        ws.write_buffer_bytes(256);
        ws.auto_fragment(false);
        ws.control_callback([this](websocket::frame_type kind, beast::string_view) {
            if (kind == websocket::frame_type::pong) ++pong_count;
        });
        ws.set_option(websocket::stream_base::decorator(
            [](websocket::request_type& req) { req.set(http::field::user_agent, "wsload"); }));
        ws.read_message_max(max_message_bytes);
    }

    /// The server's reply: these bytes, then end of stream.
    void server_sends(std::string_view bytes)
    {
        ws.next_layer().append(bytes);
        ws.next_layer().close_remote();
    }

    /// Starts the handshake as wsload does (async) and runs until the request is written;
    /// returns the Sec-WebSocket-Accept value that the request's key calls for.
    std::string begin_async_handshake(std::string_view host, std::string_view target)
    {
        ws.async_handshake(response, host, target, [this](error_code ec) { async_handshake_result = ec; });
        ioc.poll();
        const std::string_view request = server.str();
        http::request_parser<http::empty_body> parser;
        error_code ec;
        parser.put(boost::asio::buffer(request.data(), request.size()), ec);
        WSLOAD_FUZZ_CHECK(!ec && parser.is_done(), request);
        const auto key = parser.get()[http::field::sec_websocket_key];
        WSLOAD_FUZZ_CHECK(key.size() == 24, request);  // base64 of 16 random bytes
        websocket::detail::sec_ws_accept_type accept;
        websocket::detail::make_sec_ws_accept(accept, key);
        server.clear();
        return std::string(accept.data(), accept.size());
    }

    /// Runs the posted work to completion: every read ends at the latest at end of stream.
    void run()
    {
        ioc.run();
        ioc.restart();
    }
};

inline std::string switching_protocols(std::string_view accept)
{
    return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Accept: " +
           std::string(accept) + "\r\n\r\n";
}

}  // namespace wsload::fuzz
