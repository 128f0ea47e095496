// The README's 20-line scenario, built by a consumer project through find_package(wsload).
#include <wsload/wsload.hpp>

using namespace std::chrono_literals;

wsload::task<> chat_user(wsload::user& u)
{
    auto ws = co_await u.websocket();
    if (!ws) co_return;  // counted as a connect failure, with its reason
    while (u.running() && ws.is_open()) {
        const auto text = "hello from " + u.id();
        co_await ws.request(text, [&](std::string_view reply) { return reply == text; });
        co_await u.think(100ms);
    }
}

int main(int argc, char** argv)
{
    return wsload::scenario("consumer-echo")
        .target("ws://127.0.0.1:9000/ws")
        .users(10).ramp(1s).hold(2s)
        .behavior(chat_user)
        .run(argc, argv);
}
