import type { Plugin } from 'graphql-yoga';
import type { GatewayConfig } from '../config';
import type { Logger } from '../logger';
import type { RequestIdentities } from '../plugins/requestIdentity';
import type { RedisConnection } from '../redis/connection';

export interface ResponseCacheOptions {
  config: GatewayConfig['cache'];
  redis?: RedisConnection;
  identities: RequestIdentities;
  logger: Logger;
}

/** Placeholder until the response cache lands (issue: Redis-backed response cache). */
export function useGatewayResponseCache(_options: ResponseCacheOptions): Plugin[] {
  return [];
}
