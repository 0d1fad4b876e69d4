import type { MeterReadingPayload, ReadingHub } from '../src/subscriptions';
import { createClusterFeed } from '../src/subscriptions';
import { openRedis, type RedisConnection } from '../src/redis/connection';
import { startPrivateRedis, type PrivateRedis } from './helpers/redis';
import { sleep } from './helpers/simulator';
import { closedAfterEach, Collector, expectNoGapNoDuplicate, hubFor, simulatorForFile, testLogger } from './helpers/subscriptions';

const sim = simulatorForFile({ seed: 11, installations: 6, readingIntervalMs: 100, historyMs: 60_000 });
const hubs = closedAfterEach<ReadingHub>();
const receiveMs = (reading: MeterReadingPayload) => Date.parse(reading.receiveTime);

describe('a Redis outage under the cluster feed', () => {
  let redisServer: PrivateRedis;
  const connections: RedisConnection[] = [];
  beforeAll(async () => {
    redisServer = await startPrivateRedis();
  });
  afterAll(async () => {
    for (const connection of connections) await connection.close();
    await redisServer?.stop();
  });

  const replica = (name: string, logger = testLogger().logger) => {
    const redis = openRedis(redisServer.url, 'outage:', logger);
    connections.push(redis);
    return hubFor(sim(), { source: createClusterFeed({ redis, replicaId: name, lockTtlMs: 1_500, renewMs: 500, idleMs: 500 }), retryBudgetMs: 10_000, logger }, hubs);
  };

  it('keeps delivering to the leader\'s clients, and loses no reading IOmeter stored on any replica once Redis is back', async () => {
    const client = new Collector(replica('leader').subscribe());
    await client.until((items) => items.length >= 50);
    // Joins once the first replica leads: it reads the stream only.
    const followerLog = testLogger();
    const followerClient = new Collector(replica('follower', followerLog.logger).subscribe());
    await followerClient.until((items) => items.length >= 50);

    await redisServer.kill();
    const outageStart = Date.now();
    await sleep(3_000);
    const duringOutage = client.items.filter((item) => receiveMs(item) > outageStart + 500).length;
    await redisServer.restart();
    const outageEnd = Date.now();
    await client.until((items) => receiveMs(items.at(-1)!) > outageEnd + 3_000, 20_000);
    await followerClient.until((items) => receiveMs(items.at(-1)!) > outageEnd + 3_000, 20_000);
    await client.stop();
    await followerClient.stop();

    // ~60 readings/s: the leader's own client went on receiving while Redis was away.
    expect(duringOutage).toBeGreaterThan(50);
    // Redis came back empty, without the lock: the follower left the leader, who still had its
    // subscription and the readings it held, the time to retake it, instead of opening a second one.
    expect(followerLog.lines.filter((line) => line.includes('leading the cluster readings feed'))).toEqual([]);
    expect(await expectNoGapNoDuplicate(sim(), client.items)).toBeGreaterThan(300);
    // The follower got the held readings once the leader could publish them again.
    expect(await expectNoGapNoDuplicate(sim(), followerClient.items)).toBeGreaterThan(300);
  }, 60_000);
});
