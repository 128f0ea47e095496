// Echo server for wsload's interop tests, on Debian's node-ws (ws 8.x, in /usr/share/nodejs:
// run it with NODE_PATH=/usr/share/nodejs).
//
//     node echo_server.js [--host 127.0.0.1] [--port 0]
//
// Prints `listening on HOST:PORT` on stdout once it accepts connections; SIGTERM or SIGINT
// closes every connection with 1001 and exits 0. Every message is echoed as it came (text as
// text, binary as binary, a fragmented one reassembled into one frame), except these text
// commands:
//
//     close:CODE:REASON   the server closes the connection with CODE and REASON
//     extensions?         answered with `extensions:E`, E the Sec-WebSocket-Extensions the
//                         server answered (with --deflate: permessage-deflate)
//     frames?             answered with `frames:N`, N the number of data frames the previous
//                         message arrived in (1 unless the client fragmented it)
//
// When a connection ends it prints `closed CODE`, CODE being the client's close code (1005
// when its close frame had none, 1006 when it sent no close frame). echo_server.py speaks the
// same protocol.
'use strict';

const { WebSocketServer, Receiver } = require('ws');

// ws hands out whole messages only; its receiver keeps the fragments of the message being
// assembled until the final frame, so count them there, just before the message is emitted.
// (Empty fragments are not kept: the tests fragment non-empty messages only.)
const dataMessage = Receiver.prototype.dataMessage;
Receiver.prototype.dataMessage = function () {
  if (this._fin) this.wsloadFrames = this._fragments.length || 1;
  return dataMessage.call(this);
};

function option(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const host = option('host', '127.0.0.1');
const port = Number(option('port', '0'));

// No size limit below 16 MiB (the tests send 1 MiB), no compression unless --deflate (then
// ws's permessage-deflate with its defaults, every message compressed), and a backlog for
// 1,000 simultaneous connects.
const deflate = process.argv.includes('--deflate');
const server = new WebSocketServer({
  host, port, backlog: 2048, maxPayload: 16 * 1024 * 1024,
  perMessageDeflate: deflate ? { threshold: 0 } : false,
});

server.on('listening', () => {
  const address = server.address();
  process.stdout.write(`listening on ${address.address}:${address.port}\n`);
});

server.on('connection', (ws) => {
  let previousFrames = 0;
  ws.on('message', (data, isBinary) => {
    const frames = ws._receiver.wsloadFrames;
    if (!isBinary) {
      const text = data.toString();
      if (text.startsWith('close:')) {
        const [, code, ...reason] = text.split(':');
        ws.close(Number(code), reason.join(':'));
        return;
      }
      if (text === 'extensions?') {  // what the server agreed to in its 101
        ws.send(`extensions:${ws.extensions}`);
        return;
      }
      if (text === 'frames?') {
        ws.send(`frames:${previousFrames}`);
        return;
      }
    }
    previousFrames = frames;
    ws.send(data, { binary: isBinary });
  });
  ws.on('close', (code) => process.stdout.write(`closed ${code}\n`));
  ws.on('error', () => {});  // the close event follows and reports it
});

function shutdown() {
  for (const ws of server.clients) ws.close(1001, 'server shutting down');
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
