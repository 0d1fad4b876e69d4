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

/** An error the gateway itself raised about IOmeter (never one IOmeter sent): its text is the gateway's own. */
class GatewayUpstreamError extends GraphQLError {}

export function upstreamError(code: UpstreamErrorCode, cause?: unknown): GraphQLError {
  return new GatewayUpstreamError(messages[code], {
    extensions: { code },
    originalError: cause instanceof Error ? cause : undefined,
  });
}

/** Codes of IOmeter's own errors a client may see, each with the gateway's message for it. */
const answeredCodes: Record<string, { code: string; message: string }> = {
  BAD_USER_INPUT: { code: 'BAD_USER_INPUT', message: 'IOmeter refused the input of this request.' },
  NOT_FOUND: { code: 'NOT_FOUND', message: 'IOmeter has no such object.' },
  UNAUTHENTICATED: { code: UpstreamErrorCode.unauthorized, message: messages.UPSTREAM_UNAUTHORIZED },
  FORBIDDEN: { code: UpstreamErrorCode.unauthorized, message: messages.UPSTREAM_UNAUTHORIZED },
};

/**
 * An error in IOmeter's answer, rebuilt from the gateway's own message table by its code: nothing of
 * IOmeter's text, `http` or other extensions reaches a client (an upstream that echoes the request
 * would hand the gateway's credentials out). Only the path stays, so the error lands on its field.
 * Errors the gateway raised itself (upstreamError) are kept as they are.
 */
export function rebuiltUpstreamError(error: GraphQLError): GraphQLError {
  if (error instanceof GatewayUpstreamError) return error;
  const known = answeredCodes[String(error.extensions?.code)];
  const { code, message } = known ?? { code: UpstreamErrorCode.error, message: messages.UPSTREAM_ERROR };
  return new GraphQLError(message, { path: error.path, extensions: { code } });
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
