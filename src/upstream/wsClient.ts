import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import type { Logger } from '../logger';

export interface UpstreamWsOptions {
  url: string;
  authorization: string;
  logger: Logger;
  /** Reconnect attempts before a subscription fails; kept small so clients hear about an outage in seconds. */
  retryAttempts?: number;
}

/** Close codes after which retrying cannot help: the upstream refused these credentials. */
export const CREDENTIALS_REJECTED_CLOSE_CODES = new Set([4401, 4403]);

function isCloseEvent(value: unknown): value is { code: number; reason: string } {
  return typeof value === 'object' && value !== null && 'code' in value && 'reason' in value;
}

/**
 * One graphql-ws client per gateway: all upstream subscriptions share its socket. The credential
 * travels in the connection_init payload, the way IOmeter's own client examples send it.
 */
export function createUpstreamWsClient({ url, authorization, logger, retryAttempts = 2 }: UpstreamWsOptions): Client {
  return createClient({
    url,
    webSocketImpl: WebSocket,
    connectionParams: { authorization },
    lazy: true,
    keepAlive: 10_000,
    retryAttempts,
    // graphql-ws retries 4403 by default ("might grant access after retry"); IOmeter never will.
    shouldRetry: (errOrCloseEvent) =>
      !(isCloseEvent(errOrCloseEvent) && CREDENTIALS_REJECTED_CLOSE_CODES.has(errOrCloseEvent.code)),
    retryWait: (retries) =>
      new Promise((resolve) => setTimeout(resolve, Math.min(4_000, 500 * 2 ** retries) * (0.5 + Math.random() / 2))),
    on: {
      connected: () => logger.info({ upstream: 'iometer' }, 'upstream WebSocket connected'),
      closed: (event) => {
        if (isCloseEvent(event) && event.code !== 1000) {
          logger.warn({ upstream: 'iometer', code: event.code }, 'upstream WebSocket closed');
        }
      },
    },
  });
}

export { isCloseEvent };
