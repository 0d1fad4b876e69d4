import type { WebSocket, WebSocketServer } from 'ws';

/**
 * The ws library's heartbeat: every interval each client socket is pinged, and one that did not
 * answer the previous ping is terminated. A client that vanished without a TCP close (a phone that
 * lost its network) would otherwise hold its subscription, and its slot, until the OS gives up.
 * graphql-ws sees the termination as a close and ends that socket's subscriptions.
 * Returns the function that stops it.
 */
export function keepClientsAlive(wsServer: WebSocketServer, intervalMs: number): () => void {
  const answered = new WeakMap<WebSocket, boolean>();
  wsServer.on('connection', (socket) => {
    answered.set(socket, true);
    socket.on('pong', () => answered.set(socket, true));
  });
  const timer = setInterval(() => {
    for (const socket of wsServer.clients) {
      if (!answered.get(socket)) {
        socket.terminate();
        continue;
      }
      answered.set(socket, false);
      socket.ping();
    }
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
