// The README's 20-line scenario, built by the Conan test package with wsload_add_scenario.
// The test gives --target (the echo server it started), --json and --quiet.
#include <wsload/wsload.hpp>

using namespace std::chrono_literals;

wsload::task<> echo_user(wsload::user& u)
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
    return wsload::scenario("conan-test-package")
        .target("ws://127.0.0.1:9000/ws")
        .users(4).ramp(500ms).hold(1500ms)
        .behavior(echo_user)
        .run(argc, argv);
}
