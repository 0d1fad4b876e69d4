import type { GraphQLFormattedError } from 'graphql';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import type { Logger } from '../logging/logger';
import { CREDENTIALS_REJECTED_CLOSE_CODES, isCloseEvent } from '../upstream/closeCodes';
import { METER_READING_FIELDS, type MeterReading } from './payload';

const READINGS_SUBSCRIPTION = /* GraphQL */ `
  subscription GatewayReadingFeed($startTime: DateTime) {
    readings(startTime: $startTime) { ${METER_READING_FIELDS} }
  }
`;

/** Bounds on a connection attempt, so a black-holed upstream fails over to a retry in seconds. */
const HANDSHAKE_TIMEOUT_MS = 5_000;
const ACK_TIMEOUT_MS = 5_000;

export type ConnectionEnd =
  /** Socket lost, refused, timed out or completed by the server: worth a retry. */
  | { reason: 'dropped'; closeCode?: number }
  /** IOmeter refused the credentials (close 4401/4403): a retry cannot help. */
  | { reason: 'unauthorized'; closeCode: number }
  /** IOmeter answered the subscription with GraphQL errors: the same request would fail again. */
  | { reason: 'rejected'; errors: readonly GraphQLFormattedError[] };

export interface UpstreamConnectionOptions {
  url: string;
  authorization: string;
  startTime: string;
  /** Ping interval; a pong must come back before the next ping is due, or the socket is dropped. */
  keepAliveMs: number;
  logger: Logger;
  onConnected: () => void;
  onReading: (reading: MeterReading) => void;
  /** Called at most once, and never after close(). */
  onEnd: (end: ConnectionEnd) => void;
}

export interface UpstreamConnection {
  /** Completes the upstream subscription and closes the socket. */
  close(): Promise<void>;
}

class UpstreamSocket extends WebSocket {
  constructor(address: string, protocols?: string | string[]) {
    super(address, protocols, { handshakeTimeout: HANDSHAKE_TIMEOUT_MS });
  }
}

/**
 * One connection attempt carrying one `readings` subscription. graphql-ws's own retries are off:
 * they would resubscribe with the original startTime, while a resume needs a fresh one, so the feed
 * opens a new connection instead. Every way the attempt can end is reported once, as a ConnectionEnd.
 */
export function openUpstreamConnection(options: UpstreamConnectionOptions): UpstreamConnection {
  const { logger } = options;
  let socket: WebSocket | undefined;
  let pongTimer: NodeJS.Timeout | undefined;
  let finished = false;

  /** Ends the subscription and the socket; false if the connection had already ended. */
  const tearDown = (): boolean => {
    if (finished) return false;
    finished = true;
    clearTimeout(pongTimer);
    unsubscribe();
    void dispose();
    return true;
  };

  const finish = (end: ConnectionEnd) => {
    if (tearDown()) options.onEnd(end);
  };

  const client = createClient({
    url: options.url,
    webSocketImpl: UpstreamSocket,
    connectionParams: { authorization: options.authorization },
    lazy: true,
    retryAttempts: 0,
    keepAlive: options.keepAliveMs,
    connectionAckWaitTimeout: ACK_TIMEOUT_MS,
    on: {
      opened: (opened) => {
        socket = opened as WebSocket;
      },
      connected: () => options.onConnected(),
      ping: (received) => {
        if (received) return;
        clearTimeout(pongTimer);
        pongTimer = setTimeout(() => {
          logger.warn({ upstream: 'iometer', keepAliveMs: options.keepAliveMs }, 'upstream missed a pong; dropping the socket');
          // terminate, not close: a half-open peer would never finish a close handshake.
          socket?.terminate();
        }, options.keepAliveMs);
      },
      pong: (received) => {
        if (received) clearTimeout(pongTimer);
      },
      // Decided here rather than in the sink: graphql-ws reconnects by itself after a 1000 close
      // (with the stale startTime), and reports 4403 as a plain completion once disposed.
      closed: (event) => {
        if (isCloseEvent(event) && CREDENTIALS_REJECTED_CLOSE_CODES.has(event.code)) {
          finish({ reason: 'unauthorized', closeCode: event.code });
        } else {
          finish({ reason: 'dropped', closeCode: isCloseEvent(event) ? event.code : undefined });
        }
      },
    },
  });

  // dispose() rejects if the socket never opened; that is an ending already reported, not an error.
  const dispose = () => Promise.resolve(client.dispose()).catch(() => undefined);

  const unsubscribe = client.subscribe<{ readings: MeterReading }>(
    { query: READINGS_SUBSCRIPTION, variables: { startTime: options.startTime } },
    {
      next: (result) => {
        if (result.data?.readings) options.onReading(result.data.readings);
        else logger.warn({ upstream: 'iometer', errors: result.errors }, 'upstream sent a reading without data; skipped');
      },
      error: (error) => {
        if (Array.isArray(error)) finish({ reason: 'rejected', errors: error });
        else finish({ reason: 'dropped', closeCode: isCloseEvent(error) ? error.code : undefined });
      },
      complete: () => finish({ reason: 'dropped' }),
    },
  );

  return {
    async close() {
      tearDown();
    },
  };
}
