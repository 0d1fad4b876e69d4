import { GraphQLError } from 'graphql';

/**
 * 429 with Retry-After in whole seconds; never names the client or its key. `message` is a
 * `@rateLimit` directive's own, set by whoever wrote the schema.
 */
export function rateLimitedError(retryAfterSeconds: number, message?: string): GraphQLError {
  return new GraphQLError(message ?? `Rate limit exceeded. Retry in ${retryAfterSeconds} s.`, {
    extensions: { code: 'RATE_LIMITED', http: { status: 429, headers: { 'Retry-After': String(retryAfterSeconds) } } },
  });
}

/** 429 without Retry-After: a slot frees when one of the client's own subscriptions ends. */
export function tooManySubscriptionsError(maxSubscriptions: number): GraphQLError {
  return new GraphQLError(`Too many open subscriptions: at most ${maxSubscriptions} at a time. Close one first.`, {
    extensions: { code: 'RATE_LIMITED', http: { status: 429 } },
  });
}

/** RATE_LIMIT_ON_REDIS_ERROR=closed and Redis cannot be reached: refuse rather than run unmetered. */
export function rateLimitUnavailableError(): GraphQLError {
  return new GraphQLError('Rate limiting is temporarily unavailable. Try again later.', {
    extensions: { code: 'RATE_LIMIT_UNAVAILABLE', http: { status: 503, headers: { 'Retry-After': '5' } } },
  });
}
