import type Redis from 'ioredis';
import { openRedis, type RedisConnection } from '../src/redis/connection';
import { createClusterFeed, type ClusterFeedOptions, type MeterReadingPayload, type ReadingHub } from '../src/subscriptions';
import { deleteKeysWithPrefix, keysWithPrefix, SHARED_REDIS_URL, uniqueKeyPrefix } from './helpers/redis';
import { basicAuth, sleep, waitFor } from './helpers/simulator';
import { closedAfterEach, Collector, expectNoGapNoDuplicate, hubFor, simulatorForFile, testLogger, type HubOverrides } from './helpers/subscriptions';

/**
 * Several gateway replicas, each a ReadingHub with its own Redis connection and one key prefix
 * between them, against one real simulator: the cluster must hold ONE upstream subscription.
 */

const sim = simulatorForFile({ seed: 11, installations: 6, readingIntervalMs: 100, historyMs: 60_000, duplicateRate: 0.2 });
const replicas = closedAfterEach<Replica>();
const prefixes: string[] = [];

afterAll(async () => {
  for (const prefix of prefixes) await deleteKeysWithPrefix(SHARED_REDIS_URL, prefix);
});

interface Replica {
  name: string;
  hub: ReadingHub;
  redis: RedisConnection;
  /** As if the process died: its sockets close, nothing is released or withdrawn in Redis. */
  crash(): Promise<void>;
  close(): Promise<void>;
}

const CLUSTER_TIMINGS: Partial<ClusterFeedOptions> = { lockTtlMs: 1_500, renewMs: 500, idleMs: 500 };

async function startReplica(name: string, prefix: string, overrides: HubOverrides = {}): Promise<Replica> {
  const redis = openRedis(SHARED_REDIS_URL, prefix, testLogger().logger);
  await new Promise<void>((resolve, reject) => {
    if (redis.isReady()) return resolve();
    redis.client.once('ready', resolve);
    redis.client.once('error', reject);
  });
  // The blocking reader's connection is a duplicate; keep hold of it so a crash can cut it too.
  const duplicates: Redis[] = [];
  const duplicate = redis.client.duplicate.bind(redis.client);
  redis.client.duplicate = (override) => {
    const connection = duplicate(override);
    duplicates.push(connection);
    return connection;
  };
  const hub = hubFor(sim(), { source: createClusterFeed({ redis, replicaId: name, ...CLUSTER_TIMINGS }), ...overrides });
  let closed = false;
  const replica: Replica = {
    name,
    hub,
    redis,
    crash: async () => {
      closed = true;
      // Redis first, so closing the hub afterwards can no longer release the lock or the presence claim;
      // closing the hub then ends its timers and its upstream socket, as the process's death would.
      redis.client.disconnect();
      for (const connection of duplicates) connection.disconnect();
      await hub.close();
    },
    close: async () => {
      if (closed) return;
      closed = true;
      await hub.close();
      await redis.close();
    },
  };
  replicas.push(replica);
  return replica;
}

async function startCluster(count: number, overrides: HubOverrides = {}): Promise<{ prefix: string; replicas: Replica[] }> {
  const prefix = uniqueKeyPrefix('test-cluster');
  prefixes.push(prefix);
  const started = await Promise.all(Array.from({ length: count }, (_, index) => startReplica(`replica-${index + 1}`, prefix, overrides)));
  return { prefix, replicas: started };
}

/** Samples the simulator's open subscriptions every 50 ms; `max` is the most seen at once. */
function sampleUpstream() {
  const sampler = { max: 0, stop: () => clearInterval(timer) };
  const timer = setInterval(() => {
    sampler.max = Math.max(sampler.max, sim().stats.activeSubscriptions);
  }, 50);
  return sampler;
}

const receiveMs = (reading: MeterReadingPayload) => Date.parse(reading.receiveTime);
const codeOf = (error: unknown) => (error as { extensions?: { code?: string } })?.extensions?.code;
const leadersOf = (cluster: Replica[]) => cluster.filter((replica) => replica.hub.stats.upstreamSubscriptions === 1);

describe('one upstream subscription per cluster', () => {
  it('serves three replicas from one subscription and fails over to another replica without gap or duplicate', async () => {
    const upstream = sampleUpstream();
    try {
      const { replicas: cluster } = await startCluster(3);
      const clients = new Map(cluster.map((replica) => [replica, new Collector(replica.hub.subscribe())]));
      await Promise.all([...clients.values()].map((client) => client.until((items) => items.length >= 60)));

      expect(sim().stats.activeSubscriptions).toBe(1);
      expect(sim().stats.connectionInitPayloads).toHaveLength(1);
      const leaders = leadersOf(cluster);
      expect(leaders).toHaveLength(1);
      const [leader] = leaders;
      const survivors = cluster.filter((replica) => replica !== leader);

      await leader.crash();
      const crashedAt = Date.now();
      // Lease 1.5 s, renewed every 0.5 s: a successor within about 2 s (the deadline only keeps a regression from hanging).
      await waitFor(() => leadersOf(survivors).length === 1, 15_000, 'a survivor to take the lead');
      const takeoverMs = Date.now() - crashedAt;

      await Promise.all(
        survivors.map((replica) => clients.get(replica)!.until((items) => receiveMs(items.at(-1)!) > crashedAt + takeoverMs + 1_500)),
      );
      expect(upstream.max).toBe(1);
      expect(sim().stats.activeSubscriptions).toBe(1);
      expect(sim().stats.connectionInitPayloads).toHaveLength(2);

      for (const replica of survivors) {
        const client = clients.get(replica)!;
        const items = await client.stop();
        expect(client.error).toBeUndefined();
        expect(receiveMs(items[0])).toBeLessThan(crashedAt - 1_000);
        // ~60 readings/s from before the crash to well after the takeover.
        expect(await expectNoGapNoDuplicate(sim(), items)).toBeGreaterThan(150);
      }
      // Repeats from the resume overlap (and the simulator's own duplicates) were dropped by each hub.
      for (const replica of survivors) expect(replica.hub.stats.duplicatesDropped).toBeGreaterThan(0);
    } finally {
      upstream.stop();
    }
  });

  it('closes the upstream subscription once no replica has clients, and hands the lock back', async () => {
    const { prefix, replicas: cluster } = await startCluster(2);
    const clients = cluster.map((replica) => new Collector(replica.hub.subscribe({ externalId: 'C-1002' })));
    await Promise.all(clients.map((client) => client.until((items) => items.length >= 3)));
    expect(sim().stats.activeSubscriptions).toBe(1);

    // One replica's clients leaving changes nothing while the other still has some.
    await clients[0].stop();
    await sleep(1_200);
    expect(sim().stats.activeSubscriptions).toBe(1);
    const before = clients[1].items.length;
    await clients[1].until((items) => items.length > before + 2);

    await clients[1].stop();
    await waitFor(() => sim().stats.activeSubscriptions === 0, 15_000, 'the upstream subscription to close');
    await waitFor(
      async () => !(await keysWithPrefix(SHARED_REDIS_URL, prefix)).some((key) => key.endsWith('readings:leader')),
      15_000,
      'the leader lock to be handed back',
    );
    expect(cluster.map((replica) => replica.hub.stats.upstreamSubscriptions)).toEqual([0, 0]);
  });
});

describe('startTime on a replica that joins a running cluster feed', () => {
  it('replays, then goes live from the stream with no gap and no duplicate', async () => {
    const { replicas: cluster } = await startCluster(2);
    const live = new Collector(cluster[0].hub.subscribe());
    await live.until((items) => items.length >= 30);

    // The joining replica reads the stream from overlapMs back, which covers the replay's last page.
    const subscribedAt = Date.now();
    const client = new Collector(cluster[1].hub.subscribe({ startTime: new Date(subscribedAt - 3_000).toISOString() }));
    await client.until((items) => items.length > 0 && receiveMs(items.at(-1)!) > subscribedAt + 1_500);
    await Promise.all([client.stop(), live.stop()]);

    expect(receiveMs(client.items[0])).toBeLessThan(subscribedAt - 2_500);
    expect(await expectNoGapNoDuplicate(sim(), client.items)).toBeGreaterThan(150);
    expect(sim().stats.connectionInitPayloads).toHaveLength(1);
  });
});

describe('upstream failures reach every replica', () => {
  it('UPSTREAM_UNAUTHORIZED on every replica after exactly one upstream attempt', async () => {
    const { replicas: cluster } = await startCluster(3, { authorization: basicAuth(sim().token, 'wrong-secret') });
    const clients = cluster.map((replica) => new Collector(replica.hub.subscribe()));
    await Promise.all(clients.map((client) => client.ended()));
    for (const client of clients) {
      expect(codeOf(client.error)).toBe('UPSTREAM_UNAUTHORIZED');
      expect(client.items).toEqual([]);
    }
    expect(sim().stats.connectionInitPayloads).toHaveLength(1);
    expect(cluster.map((replica) => replica.hub.stats.clients)).toEqual([0, 0, 0]);
  });
});
