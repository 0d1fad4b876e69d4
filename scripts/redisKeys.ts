import Redis from 'ioredis';

/*
 * Keys of one test run or benchmark on a shared Redis: keysWithPrefix / deleteKeysWithPrefix walk the
 * keyspace with SCAN MATCH <prefix>*: fine for a run's own prefix, never in the gateway.
 */

/** Every key under the prefix on the given Redis. */
export async function keysWithPrefix(url: string, prefix: string): Promise<string[]> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      keys.push(...batch);
      cursor = next;
    } while (cursor !== '0');
    return [...new Set(keys)].sort();
  } finally {
    redis.disconnect();
  }
}

/** Deletes every key under the prefix. */
export async function deleteKeysWithPrefix(url: string, prefix: string): Promise<void> {
  const keys = await keysWithPrefix(url, prefix);
  if (keys.length === 0) return;
  const redis = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    for (let index = 0; index < keys.length; index += 500) await redis.unlink(...keys.slice(index, index + 500));
  } finally {
    redis.disconnect();
  }
}
