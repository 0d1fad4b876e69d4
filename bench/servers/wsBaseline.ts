import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createClient } from 'graphql-ws';
import WebSocket, { WebSocketServer } from 'ws';

/**
 * The fan-out baseline (issue 13): the least a live-readings server on the same `ws` library can do. It
 * holds one upstream subscription (BENCH_UPSTREAM_WS_URL with BENCH_UPSTREAM_AUTHORIZATION, selecting
 * BENCH_QUERY), serializes each reading once and writes it, framed as a graphql-transport-ws `next`, to
 * every subscribed socket. No authentication, no parsing or validation of the client's document, no
 * execution: it answers whatever the client subscribes to with the upstream's reading. Prints `READY <url>`.
 */
const upstreamUrl = process.env.BENCH_UPSTREAM_WS_URL!;
const upstreamAuthorization = process.env.BENCH_UPSTREAM_AUTHORIZATION!;
const query = process.env.BENCH_QUERY!;

type Message = { type?: string; id?: string };
const subscribers = new Map<WebSocket, Set<string>>();

const server = createServer();
const wsServer = new WebSocketServer({ server, path: '/graphql' });
wsServer.on('connection', (socket) => {
  subscribers.set(socket, new Set());
  socket.on('close', () => subscribers.delete(socket));
  socket.on('message', (data) => {
    const message = JSON.parse(String(data)) as Message;
    if (message.type === 'connection_init') socket.send('{"type":"connection_ack"}');
    else if (message.type === 'ping') socket.send('{"type":"pong"}');
    else if (message.type === 'subscribe' && message.id) subscribers.get(socket)?.add(message.id);
    else if (message.type === 'complete' && message.id) subscribers.get(socket)?.delete(message.id);
  });
});

const upstream = createClient({ url: upstreamUrl, webSocketImpl: WebSocket, connectionParams: { authorization: upstreamAuthorization }, retryAttempts: Infinity });
upstream.subscribe(
  { query },
  {
    next: (result) => {
      const payload = JSON.stringify(result);
      for (const [socket, ids] of subscribers) {
        for (const id of ids) socket.send(`{"id":${JSON.stringify(id)},"type":"next","payload":${payload}}`);
      }
    },
    error: (error) => {
      process.stderr.write(`upstream subscription failed: ${JSON.stringify(error)}\n`);
      process.exit(1);
    },
    complete: () => undefined,
  },
);

server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`READY http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql\n`);
});
process.once('SIGTERM', () => {
  void upstream.dispose();
  for (const socket of subscribers.keys()) socket.terminate();
  server.close(() => process.exit(0));
});
