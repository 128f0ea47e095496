#!/usr/bin/env node
// The Socket.IO v4 server of seed 003's stress test, on npm's socket.io: what socketio_bench and
// the tests run against on 127.0.0.1.
//
//   node socketio_server.js [--host 127.0.0.1] [--port 3000] [--delay MS] [--token T]
//                           [--push-interval MS] [--ping-interval MS] [--ping-timeout MS]
//                           [--compression 0|1]
//
// Events, on the default namespace and on /chat:
//   "request" (with ack)  acks {ok: true, id, echo} after --delay ms (the seed's handler delay)
//   "echo"                emits "echo" back with the same arguments, no ack
//   "ask"                 emits "question" to the client with an ack callback; the client's answer
//                         comes back as a "answered" event carrying it
//   "binary" (with ack)   given a number: acks with a Buffer of that size (a binary attachment);
//                         given other arguments (Buffers among them, at any depth): acks with the
//                         same arguments, each Buffer sent back as one (the client's binary emits)
//   "bye"                 disconnects the socket (a server-side DISCONNECT)
//   "whoami" (with ack)   acks with the handshake as the server saw it: namespace, query,
//                         headers, auth
// A binary packet whose attachments do not follow it back to back (another message between
// them) is a parse error in socket.io-parser: it ends that client's connection and is counted
// in the stop line's "parse errors", as the Buffers and their bytes received are.
// --token T makes the namespaces' middleware refuse a connect whose auth.token is not T
// (a CONNECT_ERROR "unauthorized"). --push-interval pushes a "tick" event to every client.
// --compression 1 accepts permessage-deflate and compresses every message.
// Prints "socketio_server.js listening on HOST:PORT" when ready; on SIGTERM or SIGINT prints its
// counts on stderr and exits 0.

'use strict';

const http = require('http');
const { Server } = require('socket.io');

function parseArgs(argv) {
  const options = { host: '127.0.0.1', port: 3000, delay: 0, token: '', pushInterval: 0, pingInterval: 25000,
                    pingTimeout: 20000, compression: 0 };
  const numeric = { '--port': 'port', '--delay': 'delay', '--push-interval': 'pushInterval',
                    '--ping-interval': 'pingInterval', '--ping-timeout': 'pingTimeout',
                    '--compression': 'compression' };
  for (let i = 0; i < argv.length; i += 2) {
    const flag = argv[i];
    const value = argv[i + 1];
    if (value === undefined) fail(`${flag} needs a value`);
    if (flag === '--host') options.host = value;
    else if (flag === '--token') options.token = value;
    else if (numeric[flag]) {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 0) fail(`${flag} takes a whole number, not "${value}"`);
      options[numeric[flag]] = n;
    } else fail(`unknown option ${flag}`);
  }
  return options;
}

function fail(message) {
  process.stderr.write(`socketio_server.js: ${message}\n`);
  process.exit(2);
}

const options = parseArgs(process.argv.slice(2));
const counts = { connections: 0, refused: 0, requests: 0, acks: 0, echoes: 0, disconnects: 0,
                 binaries: 0, buffers: 0, bufferBytes: 0, parseErrors: 0 };

// The Buffers among a packet's arguments, at any depth: counted into `counts`.
function countBuffers(value) {
  if (Buffer.isBuffer(value)) {
    counts.buffers++;
    counts.bufferBytes += value.length;
  } else if (Array.isArray(value)) {
    value.forEach(countBuffers);
  } else if (value !== null && typeof value === 'object') {
    Object.values(value).forEach(countBuffers);
  }
}

const httpServer = http.createServer();
const io = new Server(httpServer, {
  transports: ['websocket'],
  pingInterval: options.pingInterval,
  pingTimeout: options.pingTimeout,
  serveClient: false,
  // --compression 1: permessage-deflate when the client offers it, every message compressed.
  perMessageDeflate: options.compression ? { threshold: 0 } : false,
});

function serve(nsp) {
  if (options.token) {
    nsp.use((socket, next) => {
      if (socket.handshake.auth && socket.handshake.auth.token === options.token) return next();
      counts.refused++;
      next(new Error('unauthorized'));
    });
  }
  nsp.on('connection', (socket) => {
    counts.connections++;
    socket.on('request', (payload, ack) => {
      counts.requests++;
      if (typeof ack !== 'function') return;
      const answer = () => {
        counts.acks++;
        ack({ ok: true, id: payload && payload.id !== undefined ? payload.id : null, echo: payload });
      };
      if (options.delay > 0) setTimeout(answer, options.delay);
      else answer();
    });
    socket.on('echo', (...args) => {
      counts.echoes++;
      socket.emit('echo', ...args);
    });
    socket.on('ask', (question) => {
      socket.emit('question', question, (answer) => socket.emit('answered', answer));
    });
    socket.on('binary', (...args) => {
      const ack = typeof args[args.length - 1] === 'function' ? args.pop() : null;
      if (args.length === 1 && typeof args[0] === 'number') {
        if (ack) ack(Buffer.alloc(Number.isInteger(args[0]) && args[0] > 0 ? Math.min(args[0], 1 << 24) : 0, 0x61));
        return;
      }
      counts.binaries++;
      countBuffers(args);
      if (ack) ack(...args);
    });
    // Raised by socket.io for a packet its parser refused (the connection is then closed).
    socket.on('error', (e) => {
      counts.parseErrors++;
      process.stderr.write(`socketio_server.js: ${e.message}\n`);
    });
    socket.on('bye', () => socket.disconnect(true));
    socket.on('whoami', (ack) => {
      if (typeof ack === 'function') {
        const h = socket.handshake;
        ack({ nsp: socket.nsp.name, query: h.query, headers: h.headers, auth: h.auth });
      }
    });
    socket.on('disconnect', () => counts.disconnects++);
  });
}
serve(io.of('/'));
serve(io.of('/chat'));

if (options.pushInterval > 0) {
  let tick = 0;
  setInterval(() => io.of('/').emit('tick', { n: ++tick }), options.pushInterval);
}

httpServer.listen(options.port, options.host, () => {
  const address = httpServer.address();
  process.stdout.write(`socketio_server.js listening on ${address.address}:${address.port}\n`);
});
httpServer.on('error', (e) => fail(e.message));

function stop() {
  process.stderr.write(`socketio_server.js: ${counts.connections} connections, ${counts.refused} refused, ` +
                       `${counts.requests} requests, ${counts.acks} acks, ${counts.echoes} echoes, ` +
                       `${counts.disconnects} disconnects, ${counts.binaries} binaries, ${counts.buffers} buffers, ` +
                       `${counts.bufferBytes} buffer bytes, ${counts.parseErrors} parse errors\n`);
  process.exit(0);
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
