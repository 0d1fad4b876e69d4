import type { Logger } from '../logging/logger';
import { basicAuthorization } from './credentials';
import { createIometerExecutor, type IometerExecutor, type UpstreamObservers, type UpstreamProtection } from './executor';

export type { IometerExecutor, UpstreamProtection };

/** Where IOmeter is and who the gateway is to it (src/config.ts: IOMETER_*). */
export interface IometerConnection {
  endpoint: string;
  wsEndpoint: string;
  token: string;
  secret: string;
  /** Bound on every HTTP request, including queueing and retries. */
  timeoutMs: number;
}

/** IOmeter as the gateway reaches it: the HTTP transport for queries and mutations, and the readings WebSocket. */
export interface IometerUpstream extends IometerExecutor {
  /** The upstream readings subscription's endpoint, and the Authorization its connection_init payload carries. */
  readingsSocket: { url: string; authorization: string };
}

/**
 * The gateway's credentials are built here and nowhere else, once, and handed to both ways the
 * gateway reaches IOmeter: every HTTP request and the readings WebSocket's connection_init. No client
 * ever holds them.
 */
export function createIometerUpstream(
  connection: IometerConnection,
  options: { protection: UpstreamProtection; logger: Logger; observers?: UpstreamObservers },
): IometerUpstream {
  const authorization = basicAuthorization(connection.token, connection.secret);
  return {
    ...createIometerExecutor({ endpoint: connection.endpoint, authorization, timeoutMs: connection.timeoutMs, ...options }),
    readingsSocket: { url: connection.wsEndpoint, authorization },
  };
}
