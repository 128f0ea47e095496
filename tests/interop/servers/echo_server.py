#!/usr/bin/python3
"""Echo server for wsload's interop tests, on Debian's python3-websockets (10.x, legacy API).

    /usr/bin/python3 echo_server.py [--host 127.0.0.1] [--port 0] [--tls-cert FILE --tls-key FILE] [--deflate]

With --tls-cert and --tls-key (PEM) it serves wss:// instead of ws://, through python's ssl
module. Prints `listening on HOST:PORT` on stdout once it accepts connections; SIGTERM or SIGINT
closes every connection with 1001 and exits 0. Every message is echoed as it came (text as
text, binary as binary, a fragmented one reassembled into one frame), except these text
commands:

    close:CODE:REASON   the server closes the connection with CODE and REASON
    extensions?         answered with `extensions:E`, E the Sec-WebSocket-Extensions the
                        server answered (with --deflate: permessage-deflate and its terms)
    frames?             answered with `frames:N`, N the number of data frames the previous
                        message arrived in (1 unless the client fragmented it)

When a connection ends it prints `closed CODE`, CODE being the client's close code (1006 when
the client sent none). echo_server.js speaks the same protocol.
"""

import argparse
import asyncio
import collections
import signal
import ssl

import websockets
from websockets.legacy.server import WebSocketServerProtocol


class FrameCountingProtocol(WebSocketServerProtocol):
    """Counts the data frames of each message; websockets itself only hands out whole messages."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.frames_per_message = collections.deque()  # one entry per complete message, in order
        self._frames = 0

    async def read_data_frame(self, max_size):
        frame = await super().read_data_frame(max_size)
        if frame is not None:
            self._frames += 1
            if frame.fin:
                self.frames_per_message.append(self._frames)
                self._frames = 0
        return frame


async def handle(ws):
    previous_frames = 0
    try:
        async for message in ws:
            frames = ws.frames_per_message.popleft()
            if isinstance(message, str) and message.startswith("close:"):
                _, code, reason = message.split(":", 2)
                await ws.close(int(code), reason)
                break
            if message == "extensions?":  # what the server agreed to in its 101
                await ws.send("extensions:" + ws.response_headers.get("Sec-WebSocket-Extensions", ""))
                continue
            if message == "frames?":
                await ws.send(f"frames:{previous_frames}")
                continue
            previous_frames = frames
            await ws.send(message)
    except websockets.ConnectionClosed:
        pass
    await ws.wait_closed()
    print(f"closed {ws.close_code}", flush=True)


async def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--tls-cert", metavar="FILE", help="PEM certificate chain: serve wss:// (needs --tls-key)")
    parser.add_argument("--tls-key", metavar="FILE", help="PEM private key of --tls-cert")
    parser.add_argument("--deflate", action="store_true", help="accept permessage-deflate (websockets' default)")
    args = parser.parse_args()
    if (args.tls_cert is None) != (args.tls_key is None):
        parser.error("--tls-cert and --tls-key go together: give both for wss://, or neither")
    tls = None
    if args.tls_cert:
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(args.tls_cert, args.tls_key)

    stop = asyncio.get_running_loop().create_future()
    for s in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(s, lambda: stop.done() or stop.set_result(None))

    # No size limit (the tests send 1 MiB), no server pings (they would disturb the client's
    # ping counts), no compression unless --deflate, and a backlog for 1,000 simultaneous connects.
    async with websockets.serve(handle, args.host, args.port, create_protocol=FrameCountingProtocol,
                                max_size=None, ping_interval=None, compression="deflate" if args.deflate else None,
                                backlog=2048, ssl=tls) as server:
        host, port = server.sockets[0].getsockname()[:2]
        print(f"listening on {host}:{port}", flush=True)
        await stop


if __name__ == "__main__":
    asyncio.run(main())
