import type { JWTPayload, JWTVerifyGetKey, JWTVerifyOptions } from 'jose' with { 'resolution-mode': 'import' };
import { authUnavailableError, unauthenticatedError } from './errors';
import { jose } from './jose';
import type { Identity } from './types';
import { isRole } from './types';
import { rememberVerifiedTokens } from './verifiedTokens';

export interface JwtOptions {
  /** HS256 shared secret, used as its UTF-8 bytes. At least 32 characters. */
  jwtSecret?: string;
  /** JWKS URL for RS256/ES256 tokens. */
  jwksUrl?: string;
  issuer?: string;
  audience?: string;
  roleClaim: string;
  externalIdClaim: string;
}

export const MIN_JWT_SECRET_LENGTH = 32;
/** Allowed clock skew between the token issuer and the gateway when checking `exp` and `nbf`. */
const CLOCK_TOLERANCE_SECONDS = 5;
const MAX_EXTERNAL_ID_LENGTH = 128;

/** Each key source accepts only its own algorithms, so `alg: none` and HS256-signed-with-a-public-key confusion fail. */
const SECRET_ALGORITHMS = ['HS256'];
const JWKS_ALGORITHMS = ['RS256', 'ES256'];

/** jose failures that mean "this token is no good" (everything else while fetching the JWKS is our outage). */
const TOKEN_PROBLEMS_FROM_JWKS = new Set(['ERR_JWKS_NO_MATCHING_KEY', 'ERR_JWKS_MULTIPLE_MATCHING_KEYS', 'ERR_JOSE_NOT_SUPPORTED']);

/** Marks a failure to obtain the JWKS (network, timeout, non-200, malformed set), as opposed to a bad token. */
class JwksUnavailable extends Error {
  constructor(cause: unknown) {
    super('The JWKS could not be loaded', { cause });
  }
}

function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * Returns a verifier from a Bearer token to an Identity, or undefined when no JWT source is configured.
 * It throws the UNAUTHENTICATED error for any token problem, and AUTH_UNAVAILABLE (503) only when
 * the JWKS endpoint cannot be used.
 */
export function createJwtVerifier(options: JwtOptions): ((token: string) => Promise<Identity>) | undefined {
  const { jwtSecret, jwksUrl } = options;
  if (jwtSecret === undefined && jwksUrl === undefined) return undefined;
  if (jwtSecret !== undefined && jwtSecret.length < MIN_JWT_SECRET_LENGTH) {
    throw new Error(`The JWT secret must be at least ${MIN_JWT_SECRET_LENGTH} characters long.`);
  }
  if (jwksUrl !== undefined && !/^https?:\/\//.test(jwksUrl)) throw new Error('The JWKS URL must be an http:// or https:// URL.');
  if (!options.roleClaim || !options.externalIdClaim || options.roleClaim === options.externalIdClaim) {
    throw new Error('The role claim and the externalId claim must be two different, non-empty claim names.');
  }

  const secret = jwtSecret === undefined ? undefined : new TextEncoder().encode(jwtSecret);
  const jwks = jwksUrl === undefined ? undefined : jose.createRemoteJWKSet(new URL(jwksUrl));

  const getKey: JWTVerifyGetKey = async (header, token) => {
    if (secret && SECRET_ALGORITHMS.includes(header.alg)) return secret;
    if (jwks && JWKS_ALGORITHMS.includes(header.alg)) {
      try {
        return await jwks(header, token);
      } catch (error) {
        if (TOKEN_PROBLEMS_FROM_JWKS.has(errorCode(error) ?? '')) throw error;
        throw new JwksUnavailable(error);
      }
    }
    // Unreachable while `algorithms` below matches the configured sources; kept as a second lock.
    throw new jose.errors.JOSEAlgNotAllowed('unexpected "alg" value');
  };

  const verifyOptions: JWTVerifyOptions = {
    algorithms: [...(secret ? SECRET_ALGORITHMS : []), ...(jwks ? JWKS_ALGORITHMS : [])],
    issuer: options.issuer,
    audience: options.audience,
    requiredClaims: ['exp', 'sub'],
    clockTolerance: CLOCK_TOLERANCE_SECONDS,
  };

  return rememberVerifiedTokens(async (token) => {
    let payload: JWTPayload;
    try {
      payload = await verifyToken(token, getKey, verifyOptions);
    } catch (error) {
      if (error instanceof JwksUnavailable) throw authUnavailableError(error.cause);
      const code = errorCode(error) ?? 'ERR_JWT_UNVERIFIABLE';
      throw unauthenticatedError(code === 'ERR_JWT_EXPIRED' ? 'expiredToken' : 'invalidToken', code);
    }
    // `exp` is a required claim: jose has checked it is a number in the future (within the clock tolerance).
    return { identity: identityFromClaims(payload, options), expiresAt: payload.exp! };
  });
}

async function verifyToken(token: string, getKey: JWTVerifyGetKey, options: JWTVerifyOptions): Promise<JWTPayload> {
  try {
    return (await jose.jwtVerify(token, getKey, options)).payload;
  } catch (error) {
    if (errorCode(error) !== 'ERR_JWKS_MULTIPLE_MATCHING_KEYS') throw error;
    // The token has no `kid` and several JWKS keys fit its algorithm (e.g. during key rotation):
    // jose hands out the candidates and each is tried in turn.
    for await (const key of error as unknown as AsyncIterable<CryptoKey>) {
      try {
        return (await jose.jwtVerify(token, key, options)).payload;
      } catch (candidateError) {
        if (errorCode(candidateError) !== 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED') throw candidateError;
      }
    }
    throw new jose.errors.JWSSignatureVerificationFailed();
  }
}

function identityFromClaims(payload: JWTPayload, options: JwtOptions): Identity {
  const subject = payload.sub;
  if (typeof subject !== 'string' || subject.trim() === '') throw unauthenticatedError('missingSubject', 'ERR_SUB_CLAIM');
  const role = payload[options.roleClaim];
  if (role === undefined) throw unauthenticatedError('missingRole', 'ERR_ROLE_CLAIM', options.roleClaim);
  if (!isRole(role)) throw unauthenticatedError('unknownRole', 'ERR_ROLE_CLAIM', options.roleClaim);
  if (role === 'staff') return { role, subject, via: 'jwt' };
  const externalId = payload[options.externalIdClaim];
  if (typeof externalId !== 'string' || externalId.trim() === '' || externalId.length > MAX_EXTERNAL_ID_LENGTH) {
    throw unauthenticatedError('missingExternalId', 'ERR_EXTERNAL_ID_CLAIM', options.externalIdClaim);
  }
  return { role, subject, via: 'jwt', externalId };
}
