import { createHash } from 'node:crypto';
import { identityHash, type Identity } from '../identity';

interface ContextWithSocket {
  /** Node's request: yoga's server context over HTTP, the upgrade request over WebSocket. */
  req?: { socket?: { remoteAddress?: string } };
}

/**
 * Whom a budget belongs to, as it appears in Redis keys: the identity's hash for a JWT subject or an
 * API key, and a hash of the peer's IP address for anonymous (sandbox) callers. The address is the
 * TCP peer, not X-Forwarded-For, which any client can set; behind a proxy all anonymous callers share
 * one budget, and anonymous callers only exist in sandbox mode.
 */
export function clientKey(identity: Identity | undefined, context: unknown): string {
  if (identity && identity.via !== 'anonymous') return `id:${identityHash(identity)}`;
  const address = (context as ContextWithSocket).req?.socket?.remoteAddress ?? 'unknown';
  return `ip:${createHash('sha256').update(address, 'utf8').digest('hex').slice(0, 16)}`;
}
