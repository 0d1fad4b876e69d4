import { createApiKeyMatcher, type ApiKeyEntry } from './apiKeys';
import { GraphQLError } from 'graphql';
import { unauthenticatedError, withSandboxHint } from './errors';
import { createJwtVerifier, type JwtOptions } from './jwt';
import type { Identity, StaffIdentity } from './types';

export interface AuthOptions extends JwtOptions {
  apiKeys: readonly ApiKeyEntry[];
  /** Sandbox mode: a request without credentials is let in as anonymous staff. */
  sandbox: boolean;
}

/**
 * Resolves the caller from request headers (or from headers built from a WebSocket connection_init
 * payload with `headersFromConnectionParams`). Throws the UNAUTHENTICATED GraphQLError (401) for missing
 * or rejected credentials, and AUTH_UNAVAILABLE (503) when the JWKS endpoint cannot be reached.
 */
export type Authenticator = (headers: Headers) => Promise<Identity>;

export const ANONYMOUS_SANDBOX_IDENTITY: StaffIdentity = Object.freeze({
  role: 'staff',
  subject: 'anonymous',
  via: 'anonymous',
});

const CREDENTIAL_HEADERS = ['authorization', 'x-api-key'] as const;
/** Far above any real JWT or API key; stops a huge WebSocket payload from being hashed or parsed. */
const MAX_CREDENTIAL_LENGTH = 8192;
/** RFC 6750 `b64token`; a JWT is base64url segments joined by dots. */
const BEARER = /^Bearer[ \t]+([A-Za-z0-9\-._~+/]+=*)$/i;

/**
 * Outside sandbox mode the gateway must not start without a way to authenticate anyone: every request
 * would be a 401, or worse, someone would "fix" that by turning on sandbox mode.
 */
export function assertAuthConfigured(options: Pick<AuthOptions, 'jwtSecret' | 'jwksUrl' | 'apiKeys'>, sandbox: boolean): void {
  if (sandbox) return;
  if (options.jwtSecret || options.jwksUrl || options.apiKeys.length > 0) return;
  throw new Error(
    'No client authentication is configured. Set AUTH_JWT_SECRET (HS256) or AUTH_JWKS_URL (RS256/ES256) ' +
      'for JWTs, and/or AUTH_API_KEYS for internal services.',
  );
}

/**
 * Credentials, in order:
 * - `Authorization: Bearer <jwt>` → the token's role, `sub` and (for customers) externalId;
 * - `x-api-key: <key>` → the configured key's name and role;
 * - neither → anonymous staff in sandbox mode, otherwise 401.
 * A request carrying both a Bearer token and an x-api-key is rejected (401) rather than picking one:
 * the two could name different callers, and silently preferring one hides client bugs.
 * A blank header counts as absent; any other malformed or rejected credential is a 401, in sandbox
 * mode too, so a bad token never falls back to the anonymous identity.
 */
export function createAuthenticator(options: AuthOptions): Authenticator {
  assertAuthConfigured(options, options.sandbox);
  const verifyJwt = createJwtVerifier(options);
  const matchApiKey = createApiKeyMatcher(options.apiKeys);

  async function fromBearer(authorization: string): Promise<Identity> {
    const scheme = authorization.split(/[ \t]/, 1)[0]!;
    if (scheme.toLowerCase() !== 'bearer') throw unauthenticatedError('unsupportedScheme');
    const token = authorization.length <= MAX_CREDENTIAL_LENGTH ? BEARER.exec(authorization)?.[1] : undefined;
    if (token === undefined) throw unauthenticatedError('invalidToken', 'ERR_BEARER_FORMAT');
    if (!verifyJwt) throw unauthenticatedError('invalidToken', 'ERR_JWT_NOT_CONFIGURED');
    return verifyJwt(token);
  }

  function fromApiKey(key: string): Identity {
    const entry = key.length <= MAX_CREDENTIAL_LENGTH ? matchApiKey(key) : undefined;
    if (!entry) throw unauthenticatedError('unknownApiKey');
    return entry.role === 'staff'
      ? { role: 'staff', subject: entry.name, via: 'apiKey' }
      : { role: 'customer', subject: entry.name, via: 'apiKey', externalId: entry.externalId };
  }

  return async (headers) => {
    const authorization = present(headers.get('authorization'));
    const apiKey = present(headers.get('x-api-key'));
    if (authorization !== undefined && apiKey !== undefined) throw unauthenticatedError('ambiguous');
    if (authorization !== undefined) {
      if (!options.sandbox) return fromBearer(authorization);
      return fromBearer(authorization).catch((error: unknown) => {
        throw error instanceof GraphQLError && error.extensions.code === 'UNAUTHENTICATED' ? withSandboxHint(error) : error;
      });
    }
    if (apiKey !== undefined) return fromApiKey(apiKey);
    if (options.sandbox) return ANONYMOUS_SANDBOX_IDENTITY;
    throw unauthenticatedError('missing');
  };
}

function present(value: string | null): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

type HeaderRecord = Readonly<Record<string, string | readonly string[] | undefined>>;

/**
 * The credential headers for a WebSocket connection: `authorization` / `x-api-key` from the
 * connection_init payload (keys matched case-insensitively, string values only), or, when the payload
 * carries neither, from the upgrade request's headers (a Fetch `Headers` or Node's `req.headers`).
 * The payload wins as a whole: credentials from the two sources are never mixed, so a payload token
 * plus an upgrade-request API key is not reported as ambiguous. Values a header cannot hold (control
 * characters) are dropped. Pass the result to the Authenticator.
 */
export function headersFromConnectionParams(
  params: Readonly<Record<string, unknown>> | null | undefined,
  upgradeHeaders?: Headers | HeaderRecord,
): Headers {
  const fromPayload = credentialHeaders(Object.entries(params ?? {}));
  if (fromPayload.found) return fromPayload.headers;
  if (upgradeHeaders === undefined) return new Headers();
  const entries = isHeaders(upgradeHeaders) ? [...upgradeHeaders.entries()] : Object.entries(upgradeHeaders);
  return credentialHeaders(entries).headers;
}

/** Duck-typed: a Headers from another realm (undici, a test VM) fails `instanceof`. Node's header values are never functions. */
function isHeaders(value: Headers | HeaderRecord): value is Headers {
  return typeof value.get === 'function' && typeof value.entries === 'function';
}

function credentialHeaders(entries: Array<[string, unknown]>): { headers: Headers; found: boolean } {
  const headers = new Headers();
  let found = false;
  for (const [key, raw] of entries) {
    const name = key.toLowerCase();
    if (!(CREDENTIAL_HEADERS as readonly string[]).includes(name)) continue;
    const value = Array.isArray(raw) && raw.every((item) => typeof item === 'string') ? raw.join(', ') : raw;
    if (typeof value !== 'string') continue;
    found = true;
    try {
      // append, not set: two spellings of one key in a payload become "a, b", which fails verification.
      headers.append(name, value);
    } catch {
      // Not a valid header value; the credential counts as sent but unusable.
    }
  }
  return { headers, found };
}
