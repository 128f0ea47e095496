#pragma once
// What a scenario includes: the builder, the user API and the clients (WebSocket, raw TCP, HTTP,
// Socket.IO).

#include <wsload/core/duration.hpp>
#include <wsload/core/random.hpp>
#include <wsload/core/task.hpp>
#include <wsload/dsl/scenario.hpp>
#include <wsload/net/http/client.hpp>
#include <wsload/net/socketio/client.hpp>
#include <wsload/net/tcp/connection.hpp>
#include <wsload/net/websocket.hpp>
#include <wsload/runtime/reconnect.hpp>
#include <wsload/runtime/send_pacer.hpp>
#include <wsload/runtime/user.hpp>

namespace wsload {
using runtime::behavior;
}  // namespace wsload
