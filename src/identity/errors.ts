import { GraphQLError } from 'graphql';

/**
 * Every message a client can get for a failed authentication. Callers pick a reason, never a text,
 * so a message cannot echo the token, the API key or anything else the client sent. The claim
 * reasons name the claim (the gateway's configured claim name, AUTH_ROLE_CLAIM or
 * AUTH_EXTERNAL_ID_CLAIM), never its value: a well-signed token with a wrong claim is a setup
 * mistake its issuer can only fix when told which claim.
 */
const messages = {
  missing: () => 'Authentication required.',
  invalidToken: () => 'Invalid or expired token.',
  expiredToken: () => 'The token has expired.',
  missingSubject: () => 'The token has no subject: the "sub" claim is required.',
  missingRole: (claim: string) => `The token has no "${claim}" claim: it must be "staff" or "customer".`,
  unknownRole: (claim: string) => `The token's "${claim}" claim must be "staff" or "customer".`,
  missingExternalId: (claim: string) => `A customer token needs the "${claim}" claim with the customer's number (at most 128 characters).`,
  unknownApiKey: () => 'Unknown API key.',
  unsupportedScheme: () => 'Unsupported authorization scheme; use "Authorization: Bearer <token>".',
  ambiguous: () => 'Send either an Authorization Bearer token or an x-api-key header, not both.',
} as const;

export type UnauthenticatedReason = keyof typeof messages;

/** Added to a rejected token's 401 in sandbox mode, where the token is usually a demo token from an earlier start. */
const SANDBOX_TOKEN_HINT =
  'Sandbox mode: use a demo token printed at start-up; they stay valid across restarts while the sandbox-jwt-secret file beside EMBEDDED_DB_DIR is kept.';

/** The same 401 with the sandbox's hint. */
export function withSandboxHint(error: GraphQLError): GraphQLError {
  return new GraphQLError(`${error.message} ${SANDBOX_TOKEN_HINT}`, { originalError: error.originalError, extensions: error.extensions });
}

/**
 * The 401 the gateway returns for missing or rejected credentials. `detail` is for the server log only
 * (it becomes `originalError`, which is never serialized to clients); pass a code such as
 * 'ERR_JWT_EXPIRED', never the credential. `claim` is the claim name the claim reasons mention.
 */
export function unauthenticatedError(reason: UnauthenticatedReason, detail?: string, claim = ''): GraphQLError {
  return new GraphQLError(messages[reason](claim), {
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
