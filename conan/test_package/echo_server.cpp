// A WebSocket echo server on Boost.Beast for the Conan test package: listens on 127.0.0.1 on a
// port the system picks, prints "listening on 127.0.0.1:PORT" once it accepts, sends every
// message back as it came, and exits on SIGTERM or SIGINT.
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include <csignal>
#include <iostream>

namespace asio = boost::asio;
namespace beast = boost::beast;
using asio::ip::tcp;

asio::awaitable<void> echo(tcp::socket socket)
{
    beast::websocket::stream<tcp::socket> ws(std::move(socket));
    constexpr auto no_throw = asio::as_tuple(asio::use_awaitable);
    if (auto [ec] = co_await ws.async_accept(no_throw); ec) co_return;
    beast::flat_buffer buffer;
    for (;;) {
        // Ends on the client's close (Beast answers it) or a dropped connection.
        if (auto [ec, n] = co_await ws.async_read(buffer, no_throw); ec) co_return;
        ws.text(ws.got_text());
        if (auto [ec, n] = co_await ws.async_write(buffer.data(), no_throw); ec) co_return;
        buffer.consume(buffer.size());
    }
}

asio::awaitable<void> listen(tcp::acceptor acceptor)
{
    for (;;) {
        auto [ec, socket] = co_await acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
        if (ec) co_return;
        asio::co_spawn(acceptor.get_executor(), echo(std::move(socket)), asio::detached);
    }
}

int main()
{
    asio::io_context io;
    tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
    asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](boost::system::error_code, int) { io.stop(); });
    std::cout << "listening on 127.0.0.1:" << acceptor.local_endpoint().port() << std::endl;
    asio::co_spawn(io, listen(std::move(acceptor)), asio::detached);
    io.run();
}
