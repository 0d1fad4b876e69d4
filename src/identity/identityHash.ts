import { createHash } from 'node:crypto';
import type { Identity } from './types';

/**
 * A short, stable pseudonym of an identity for log fields and Redis keys: the first 16 hex characters
 * (64 bits) of a SHA-256 over via, role, subject and externalId. The raw subject (often an e-mail or a
 * user id) stays out of logs, and a JWT subject can never collide with an API key of the same name.
 * It is unkeyed: it hides subjects from casual readers, not from someone guessing candidate subjects.
 */
export function identityHash(identity: Identity): string {
  let hash = hashes.get(identity);
  if (hash === undefined) {
    const material = JSON.stringify([identity.via, identity.role, identity.subject, identity.externalId ?? null]);
    hash = createHash('sha256').update(material, 'utf8').digest('hex').slice(0, 16);
    hashes.set(identity, hash);
  }
  return hash;
}

/** Verified tokens map to one Identity object each (verifiedTokens.ts), so its pseudonym is worked out once. */
const hashes = new WeakMap<Identity, string>();
