import { LRUCache } from 'lru-cache';
import type { Identity } from './types';

/** Distinct tokens remembered; a busy gateway sees far fewer live tokens than this. */
const MAX_TOKENS = 10_000;
/** Bound on the characters held as keys (a Bearer token may be up to 8 KiB): about 16 MiB at most. */
const MAX_TOKEN_CHARACTERS = 8 * 1024 * 1024;

/** What verification proved about a token: who it names, and until when (`exp`, in seconds). */
export interface VerifiedToken {
  identity: Identity;
  expiresAt: number;
}

/**
 * Verified tokens, so a client that sends the same JWT on every request pays for the signature check
 * (WebCrypto, a thread-pool round trip) and the claim checks once per token instead of once per request.
 * An entry is served only while `Date.now()` is before the token's `exp`: from then on the token goes
 * through full verification again, which refuses it (past the issuer clock tolerance). Failures are
 * never kept, so a token refused while the JWKS was unreachable is verified afresh next time, and keys
 * rotated through the JWKS are looked up as usual. Each token maps to one frozen Identity object, so
 * per-identity work keyed by the object (pseudonyms) is done once as well.
 */
export function rememberVerifiedTokens(verify: (token: string) => Promise<VerifiedToken>): (token: string) => Promise<Identity> {
  const verified = new LRUCache<string, VerifiedToken>({
    max: MAX_TOKENS,
    maxSize: MAX_TOKEN_CHARACTERS,
    sizeCalculation: (_entry, token) => token.length,
  });
  return async (token) => {
    const known = verified.get(token);
    if (known && Date.now() < known.expiresAt * 1000) return known.identity;
    const fresh = await verify(token);
    const entry = { identity: Object.freeze(fresh.identity), expiresAt: fresh.expiresAt };
    if (Date.now() < entry.expiresAt * 1000) verified.set(token, entry, { ttl: entry.expiresAt * 1000 - Date.now() });
    return entry.identity;
  };
}
