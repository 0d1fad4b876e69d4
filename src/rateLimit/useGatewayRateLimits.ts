import type { Plugin } from 'graphql-yoga';
import type { GatewayConfig } from '../config';
import type { Logger } from '../logger';
import type { RequestIdentities } from '../plugins/requestIdentity';
import type { RedisConnection } from '../redis/connection';

export interface RateLimitOptions {
  config: GatewayConfig['rateLimit'];
  redis?: RedisConnection;
  identities: RequestIdentities;
  logger: Logger;
}

/** Placeholder until rate limiting lands (issue: rate limiting that holds across replicas). */
export function useGatewayRateLimits(_options: RateLimitOptions): Plugin[] {
  return [];
}
