import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createClient } from 'graphql-ws';
import WebSocket, { WebSocketServer } from 'ws';

/**
 * The fan-out baseline (issue 13): the least a live-readings server on the same `ws` library can do. It
 * holds one upstream `readings` subscription (BENCH_UPSTREAM_WS_URL with BENCH_UPSTREAM_AUTHORIZATION),
 * serializes each reading once and writes it, framed as a graphql-transport-ws `next`, to every socket
 * subscribed to it: every subscriber, or with `externalId` in connection_init's payload (a customer),
 * those of that installation. No authentication, no parsing or validation of the client's document, no
 * execution: whatever the client subscribes to gets the upstream reading. Prints `READY <url>`.
 */
const upstreamUrl = process.env.BENCH_UPSTREAM_WS_URL!;
const upstreamAuthorization = process.env.BENCH_UPSTREAM_AUTHORIZATION!;
const UPSTREAM_QUERY = 'subscription { readings { time receiveTime installation { id externalId } meter { id } values { obisCode value } } }';
const EVERY_INSTALLATION = '';

type Message = { type?: string; id?: string; payload?: { externalId?: string } | null };
type Reading = { installation: { externalId: string | null } };

/** Subscribed sockets with their operation ids, by the installation they want (EVERY_INSTALLATION: all). */
const subscribers = new Map<string, Map<WebSocket, Set<string>>>();

function subscribed(scope: string): Map<WebSocket, Set<string>> {
  let sockets = subscribers.get(scope);
  if (!sockets) {
    sockets = new Map();
    subscribers.set(scope, sockets);
  }
  return sockets;
}

const server = createServer();
const wsServer = new WebSocketServer({ server, path: '/graphql' });
wsServer.on('connection', (socket) => {
  let scope = EVERY_INSTALLATION;
  socket.on('close', () => subscribers.get(scope)?.delete(socket));
  socket.on('message', (data) => {
    const message = JSON.parse(String(data)) as Message;
    if (message.type === 'connection_init') {
      scope = message.payload?.externalId ?? EVERY_INSTALLATION;
      socket.send('{"type":"connection_ack"}');
    } else if (message.type === 'ping') {
      socket.send('{"type":"pong"}');
    } else if (message.type === 'subscribe' && message.id) {
      const sockets = subscribed(scope);
      sockets.set(socket, (sockets.get(socket) ?? new Set()).add(message.id));
    } else if (message.type === 'complete' && message.id) {
      subscribers.get(scope)?.get(socket)?.delete(message.id);
    }
  });
});

function send(sockets: Map<WebSocket, Set<string>> | undefined, payload: string): void {
  for (const [socket, ids] of sockets ?? []) {
    for (const id of ids) socket.send(`{"id":${JSON.stringify(id)},"type":"next","payload":${payload}}`);
  }
}

const upstream = createClient({ url: upstreamUrl, webSocketImpl: WebSocket, connectionParams: { authorization: upstreamAuthorization }, retryAttempts: Infinity });
upstream.subscribe<{ readings: Reading }>(
  { query: UPSTREAM_QUERY },
  {
    next: (result) => {
      const payload = JSON.stringify(result);
      send(subscribers.get(EVERY_INSTALLATION), payload);
      const externalId = result.data?.readings.installation.externalId;
      if (externalId) send(subscribers.get(externalId), payload);
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
  for (const socket of wsServer.clients) socket.terminate();
  server.close(() => process.exit(0));
});
