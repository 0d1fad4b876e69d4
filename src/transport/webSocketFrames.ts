import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import type { FrameSink } from '../subscriptions';

/**
 * Writes graphql-transport-ws `next` messages around payloads serialized elsewhere (once for a whole
 * live group), so nothing is serialized per client. A socket's writes are corked until the event loop
 * moves on: the readings of one upstream tick leave in one write, not one write per message.
 */
class CorkedSocket {
  private corked = false;
  /** Messages written that the socket has not yet handed to the kernel. */
  backlog = 0;

  constructor(
    private readonly socket: WebSocket,
    private readonly tcp: Socket,
  ) {}

  send(message: string): void {
    if (this.socket.readyState !== this.socket.OPEN) return;
    if (!this.corked) {
      this.corked = true;
      this.tcp.cork();
      setImmediate(() => {
        this.corked = false;
        this.tcp.uncork();
      });
    }
    this.backlog += 1;
    this.socket.send(message, () => {
      this.backlog -= 1;
    });
  }
}

const corkedSockets = new WeakMap<WebSocket, CorkedSocket>();

/** The sink for operation `id` on `socket`, whose TCP connection (the upgrade request's) is `tcp`. */
export function nextFrameSink(socket: WebSocket, tcp: Socket, id: string): FrameSink {
  let corked = corkedSockets.get(socket);
  if (!corked) {
    corked = new CorkedSocket(socket, tcp);
    corkedSockets.set(socket, corked);
  }
  const writer = corked;
  const prefix = `{"id":${JSON.stringify(id)},"type":"next","payload":`;
  return {
    next: (payloadJson) => writer.send(`${prefix}${payloadJson}}`),
    get backlog() {
      return writer.backlog;
    },
  };
}
