import { GraphQLError } from 'graphql';

/**
 * Every message a client can get for a failed authentication. Callers pick a reason, never a text,
 * so a message cannot echo the token, the API key or anything else the client sent.
 */
const messages = {
  missing: 'Authentication required.',
  invalidToken: 'Invalid or expired token.',
  unknownApiKey: 'Unknown API key.',
  unsupportedScheme: 'Unsupported authorization scheme; use "Authorization: Bearer <token>".',
  ambiguous: 'Send either an Authorization Bearer token or an x-api-key header, not both.',
} as const;

export type UnauthenticatedReason = keyof typeof messages;

/**
 * The 401 the gateway returns for missing or rejected credentials. `detail` is for the server log only
 * (it becomes `originalError`, which is never serialized to clients); pass a code such as
 * 'ERR_JWT_EXPIRED', never the credential.
 */
export function unauthenticatedError(reason: UnauthenticatedReason, detail?: string): GraphQLError {
  return new GraphQLError(messages[reason], {
    originalError: detail ? new Error(detail) : undefined,
    extensions: {
      code: 'UNAUTHENTICATED',
      http: { status: 401, headers: { 'WWW-Authenticate': 'Bearer' } },
    },
  });
}

/**
 * The token could not be checked because the JWKS endpoint is unreachable, times out or serves garbage.
 * That is our outage, not the client's mistake, so it is a 503 rather than a 401 (a 401 would make
 * clients throw away good tokens). `cause` may name the JWKS URL; it is for the log only.
 */
export function authUnavailableError(cause: unknown): GraphQLError {
  return new GraphQLError('Authentication is temporarily unavailable. Try again later.', {
    originalError: cause instanceof Error ? cause : new Error(String(cause)),
    extensions: { code: 'AUTH_UNAVAILABLE', http: { status: 503 } },
  });
}
