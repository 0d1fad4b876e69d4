import { GraphQLError } from 'graphql';

/**
 * Stable codes for upstream failures. Clients can branch on these; the messages never carry
 * upstream bodies, URLs or credentials (those go to the log).
 */
export const UpstreamErrorCode = {
  unavailable: 'UPSTREAM_UNAVAILABLE',
  unauthorized: 'UPSTREAM_UNAUTHORIZED',
  timeout: 'UPSTREAM_TIMEOUT',
  error: 'UPSTREAM_ERROR',
} as const;

export type UpstreamErrorCode = (typeof UpstreamErrorCode)[keyof typeof UpstreamErrorCode];

const messages: Record<UpstreamErrorCode, string> = {
  UPSTREAM_UNAVAILABLE: 'The IOmeter API is unavailable. Try again later.',
  UPSTREAM_UNAUTHORIZED: 'The IOmeter API rejected the gateway credentials.',
  UPSTREAM_TIMEOUT: 'The IOmeter API did not answer in time.',
  UPSTREAM_ERROR: 'The IOmeter API returned an unexpected response.',
};

export function upstreamError(code: UpstreamErrorCode, cause?: unknown): GraphQLError {
  return new GraphQLError(messages[code], {
    extensions: { code },
    originalError: cause instanceof Error ? cause : undefined,
  });
}

export function isUpstreamErrorCode(code: unknown): code is UpstreamErrorCode {
  return typeof code === 'string' && code in messages;
}

/** The upstream code an error carries, on itself or on an error it wraps (delegation re-wraps them). */
export function upstreamCodeOf(error: unknown): UpstreamErrorCode | undefined {
  for (let current = error; current instanceof GraphQLError; current = current.originalError) {
    const code = current.extensions?.code;
    if (isUpstreamErrorCode(code)) return code;
  }
  return undefined;
}

/**
 * Failures that say IOmeter itself is in trouble (unreachable, too slow, 5xx, overloaded, or the
 * circuit open). Rejected credentials, GraphQL errors and a client that went away say nothing about
 * IOmeter's health.
 */
export function isUpstreamOutage(error: unknown): boolean {
  const code = upstreamCodeOf(error);
  return code === UpstreamErrorCode.unavailable || code === UpstreamErrorCode.timeout;
}
