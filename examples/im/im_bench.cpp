// im_bench: the IM gateway benchmark of seed 002 (wsbench) as a wsload scenario.
//
//   im_bench --target ws://127.0.0.1:9000/ws --conns 10000 --ramp 10s --duration 30s
//            --ping-interval 5s --mode connect-only
//
// connect-only: each user opens a WebSocket and holds it (heartbeat per --ping-interval).
// messaging:    each user also sends a message every --message-interval and waits for the
//               echo, recording the round trip from the time the send was due (an interval
//               of 0 is a closed loop: the next message when the echo came, measured from
//               its own send).

#include <wsload/wsload.hpp>

#include <cstdio>
#include <string>

using namespace std::chrono_literals;

namespace {

std::string mode = "connect-only";  // wsbench's default
std::chrono::nanoseconds message_interval = 1s;
std::chrono::nanoseconds reply_timeout = 5s;
std::size_t message_bytes = 64;

wsload::task<> im_user(wsload::user& u)
{
    auto ws = co_await u.websocket();
    if (!ws) co_return;  // the failure is counted with its reason
    if (mode == "connect-only") {
        co_await ws.wait_closed();  // until the server, the network or the run's end closes it
        co_return;
    }

    // One send per interval, each user's first at a random point of it (a client whose users
    // all send on the same tick measures its own burst, not the server); an interval of 0 is
    // a closed loop: the next message when the echo came.
    wsload::send_pacer sends(u, wsload::pacing::every(message_interval));
    std::string payload;
    for (std::uint64_t seq = 0; ws.is_open(); ++seq) {
        if (!co_await sends.next()) break;  // the user is stopping
        payload = "{\"from\":\"" + u.id() + "\",\"seq\":" + std::to_string(seq) + ",\"pad\":\"";
        if (payload.size() + 2 < message_bytes) payload.append(message_bytes - payload.size() - 2, 'x');
        payload += "\"}";
        // The echo is the reply; measured from the send's due time, so a late send shows as latency.
        co_await ws.request(payload, [&](std::string_view reply) { return reply == payload; },
                            {.timeout = reply_timeout, .intended_at = sends.due()});
    }
}

}  // namespace

int main(int argc, char** argv)
{
    return wsload::scenario("im_bench")
        .target("ws://127.0.0.1:9000/ws")
        .users(1000)
        .ramp(30s)
        .duration(60s)
        .ping_interval(30s)
        .flag("mode", mode, "what each user does", {"connect-only", "messaging"})
        .flag("message-interval", message_interval, "messaging: each user sends one message per interval (0: a closed loop)")
        .flag("message-bytes", message_bytes, "messaging: size of each message")
        .flag("reply-timeout", reply_timeout, "messaging: how long to wait for each echo")
        .behavior(im_user)
        .run(argc, argv);
}
