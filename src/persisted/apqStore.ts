import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { Logger } from '../logging/logger';
import type { RedisConnection } from '../redis/connection';

/** Documents this process keeps registered (or read from Redis) for the fast path, and their total size. */
const LOCAL_MAX_DOCUMENTS = 1_000;
const LOCAL_MAX_BYTES = 8 * 1024 * 1024;

/** How long a registered document stays in Redis after its last registration; clients register again when it is gone. */
const REDIS_TTL_S = 7 * 24 * 3600;

/** The sha256 hex digest APQ names a document by. */
export function documentHash(document: string): string {
  return createHash('sha256').update(document).digest('hex');
}

/**
 * Automatic persisted queries (APQ): documents clients registered by their sha256 hash, so that later
 * requests may send the hash alone. In Redis when REDIS_URL is set (shared by replicas, each entry
 * expiring a week after it was last registered), with a bounded in-process LRU in front; in that LRU
 * alone otherwise. A Redis failure costs a `PersistedQueryNotFound`, after which the client sends the
 * document again, never a failed request.
 */
export class ApqStore {
  private readonly local = new LRUCache<string, string>({
    max: LOCAL_MAX_DOCUMENTS,
    maxSize: LOCAL_MAX_BYTES,
    sizeCalculation: (document) => Math.max(1, document.length),
  });

  constructor(private readonly options: { redis?: RedisConnection; logger: Logger }) {}

  private key(hash: string): string {
    return `${this.options.redis!.keyPrefix}apq:${hash}`;
  }

  /** The document of a hash this process has at hand, without asking Redis (log lines, metrics). */
  peek(hash: string): string | undefined {
    return this.local.get(hash);
  }

  async get(hash: string): Promise<string | null> {
    const known = this.local.get(hash);
    if (known !== undefined || !this.options.redis) return known ?? null;
    try {
      const document = await this.options.redis.client.get(this.key(hash));
      if (document !== null) this.local.set(hash, document);
      return document;
    } catch {
      return null;
    }
  }

  /** Registers a document under its hash; the caller has checked that the hash is the document's. */
  async set(hash: string, document: string): Promise<void> {
    this.local.set(hash, document);
    if (!this.options.redis) return;
    try {
      await this.options.redis.client.set(this.key(hash), document, 'EX', REDIS_TTL_S);
    } catch (error) {
      this.options.logger.debug({ reason: (error as Error).message }, 'APQ: document not registered in Redis');
    }
  }
}
