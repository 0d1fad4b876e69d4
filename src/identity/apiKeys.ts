import { createHash, timingSafeEqual } from 'node:crypto';
import type { Role } from './types';
import { isRole } from './types';

/**
 * One configured API key for an internal service. Only the SHA-256 of the key is configured, so a
 * leaked config or log line does not leak a usable key. A customer key also names its customer number.
 */
export type ApiKeyEntry = {
  /** Becomes the identity's subject; shows up in logs. */
  name: string;
  /** Lowercase hex SHA-256 of the key (64 characters). */
  sha256: string;
} & ({ role: 'staff'; externalId?: undefined } | { role: 'customer'; externalId: string });

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const SHA256_HEX = /^[0-9a-fA-F]{64}$/;
const FORMAT = 'expected name:role:sha256hex, or name:customer:sha256hex:externalId for a customer key';

/** The SHA-256 hex digest to configure for a key (the same as `printf %s "$KEY" | sha256sum`). */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/**
 * Parses AUTH_API_KEYS: comma-separated `name:role:sha256hex` entries (customer keys add
 * `:externalId`). Throws an Error naming the entry (by position, and by name once name and role are
 * valid) and what is wrong with it. It never echoes a field that might be a key pasted in by mistake.
 */
export function parseApiKeys(value: string | undefined): ApiKeyEntry[] {
  if (value === undefined || value.trim() === '') return [];
  const entries: ApiKeyEntry[] = [];
  value.split(',').forEach((raw, index) => {
    const position = `entry ${index + 1}`;
    const entry = raw.trim();
    if (entry === '') throw new Error(`${position} is empty (look for a doubled or trailing comma)`);
    const fields = entry.split(':').map((field) => field.trim());
    if (fields.length < 3) throw new Error(`${position}: ${FORMAT}`);
    if (fields.length > 4) throw new Error(`${position}: too many ":"-separated fields; ${FORMAT}`);
    const [name, role, sha256, externalId] = fields as [string, string, string, string | undefined];
    if (!NAME.test(name)) {
      throw new Error(`${position}: the name must be 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit`);
    }
    // The name joins the message only once the role is valid too, i.e. the entry is shaped right;
    // before that, the "name" could be a key pasted in by mistake.
    if (!isRole(role)) throw new Error(`${position}: the role (second field) must be "staff" or "customer"`);
    const label = `${position} ("${name}")`;
    if (!SHA256_HEX.test(sha256)) {
      throw new Error(
        `${label}: the hash must be the SHA-256 of the key as 64 hex characters (got ${sha256.length} characters); ` +
          'configure the hash, never the key itself',
      );
    }
    const duplicateName = entries.findIndex((other) => other.name === name);
    if (duplicateName >= 0) throw new Error(`${label}: the name is already used by entry ${duplicateName + 1}`);
    const digest = sha256.toLowerCase();
    const duplicateKey = entries.findIndex((other) => other.sha256 === digest);
    if (duplicateKey >= 0) {
      throw new Error(`${label}: the same key hash is already configured as "${entries[duplicateKey]!.name}"`);
    }
    entries.push(apiKeyEntry(label, name, role, digest, externalId));
  });
  return entries;
}

function apiKeyEntry(label: string, name: string, role: Role, sha256: string, externalId: string | undefined): ApiKeyEntry {
  if (role === 'staff') {
    if (externalId !== undefined) throw new Error(`${label}: only customer keys carry an externalId`);
    return { name, role, sha256 };
  }
  if (!externalId) throw new Error(`${label}: a customer key needs its customer number: name:customer:sha256hex:externalId`);
  return { name, role, sha256, externalId };
}

/**
 * Returns a lookup from a presented key to its configured entry. The presented key is hashed and its
 * digest compared with every configured digest in constant time, without stopping at a match, so
 * neither the comparison nor the loop reveals how much of a key matched or which entry did.
 */
export function createApiKeyMatcher(entries: readonly ApiKeyEntry[]): (presentedKey: string) => ApiKeyEntry | undefined {
  const digests = entries.map((entry) => ({ entry, digest: Buffer.from(entry.sha256, 'hex') }));
  return (presentedKey) => {
    const presented = createHash('sha256').update(presentedKey, 'utf8').digest();
    let match: ApiKeyEntry | undefined;
    for (const { entry, digest } of digests) {
      const equal = timingSafeEqual(presented, digest);
      if (equal && match === undefined) match = entry;
    }
    return match;
  };
}
