// tcp_echo_server: the raw TCP peer of bench/run's tcp-fixed-rate workload. Echoes every byte it
// reads, whatever the framing (so wsload's line-framed client and tcpkali's raw messages both
// get their messages back), on one thread, with one coroutine and one 4 KB buffer per connection.
// No wsload code: the server must not share the client's costs or bugs.
//
//   tcp_echo_server [--port 0]
//
// Once listening it prints `tcp_echo_server listening on 127.0.0.1:<port>` on stdout.
// SIGINT/SIGTERM: exit 0 (connections are dropped). Exit 1 when it cannot listen, 2 for a bad
// command line.

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>

namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

asio::awaitable<void> echo(tcp::socket socket)
{
    char buffer[4096];
    socket.set_option(tcp::no_delay(true));
    for (;;) {
        auto [rec, n] = co_await socket.async_read_some(asio::buffer(buffer), use_tuple);
        if (rec) co_return;
        auto [wec, written] = co_await asio::async_write(socket, asio::buffer(buffer, n), use_tuple);
        if (wec) co_return;
    }
}

asio::awaitable<void> accept(tcp::acceptor& acceptor)
{
    for (;;) {
        auto [ec, socket] = co_await acceptor.async_accept(use_tuple);
        if (ec == asio::error::operation_aborted) co_return;
        if (ec) continue;  // out of descriptors, say: the client sees the refusal
        asio::co_spawn(acceptor.get_executor(), echo(std::move(socket)), asio::detached);
    }
}

}  // namespace

int main(int argc, char** argv)
{
    unsigned long port = 0;
    for (int i = 1; i < argc; ++i) {
        char* end = nullptr;
        if (std::strcmp(argv[i], "--port") == 0 && i + 1 < argc &&
            (port = std::strtoul(argv[i + 1], &end, 10), *end == '\0') && port <= 65535) {
            ++i;
            continue;
        }
        std::fprintf(stderr, "tcp_echo_server: unknown argument \"%s\" (use --port N)\n", argv[i]);
        return 2;
    }
    try {
        asio::io_context io(1);
        tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)});
        acceptor.listen(4096);
        std::printf("tcp_echo_server listening on 127.0.0.1:%u\n", acceptor.local_endpoint().port());
        std::fflush(stdout);
        asio::signal_set signals(io, SIGINT, SIGTERM);
        signals.async_wait([&](auto, int) { io.stop(); });
        asio::co_spawn(io, accept(acceptor), asio::detached);
        io.run();
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "tcp_echo_server: %s\n", e.what());
        return 1;
    }
}
