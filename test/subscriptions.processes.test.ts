import Redis from 'ioredis';
import { hashApiKey } from '../src/identity/apiKeys';
import { startSimulator, type RunningSimulator } from '../src/simulator';
import { subscribeWs, UNTIL_CLOSED, type Subscribed } from './helpers/clients';
import { frontingEnv, startGatewayProcess, type GatewayProcess } from './helpers/gatewayProcess';
import { deleteKeysWithPrefix, SHARED_REDIS_URL, uniqueKeyPrefix } from './helpers/redis';
import { waitFor } from './helpers/simulator';
import { expectNoGapNoDuplicate } from './helpers/subscriptions';

/**
 * The cluster guarantee end to end: three real gateway processes (npm start's entry point) on
 * loopback, sharing one Redis, in front of one simulator. The leader process is SIGKILLed mid-stream.
 */

const STAFF_KEY = 'cluster-test-staff-key-0123456789';
/** Every process started, so afterAll kills them even when a test failed half way. */
const started: GatewayProcess[] = [];


const READINGS = 'subscription { readings { meter { id } installation { externalId } time receiveTime } }';

interface Replica {
  process: GatewayProcess;
  wsUrl: string;
}

async function startReplica(sim: RunningSimulator, prefix: string): Promise<Replica> {
  const gateway = startGatewayProcess({
    ...frontingEnv(sim),
    LOG_LEVEL: 'info',
    AUTH_API_KEYS: `ops:staff:${hashApiKey(STAFF_KEY)}`,
    REDIS_URL: SHARED_REDIS_URL,
    REDIS_KEY_PREFIX: prefix,
  });
  started.push(gateway);
  // Three tsx-compiled processes starting at once take a while on a busy machine.
  const url = await gateway.ready(120_000);
  return { process: gateway, wsUrl: url.replace(/^http/, 'ws') };
}

describe('three gateway processes sharing one Redis', () => {
  let sim: RunningSimulator;
  const prefix = uniqueKeyPrefix('test-processes');
  let redis: Redis;

  beforeAll(async () => {
    sim = await startSimulator({ seed: 5, installations: 6, readingIntervalMs: 100, historyMs: 120_000, duplicateRate: 0.2 });
    redis = new Redis(SHARED_REDIS_URL);
  });

  afterAll(async () => {
    for (const gateway of started) gateway.child.kill('SIGKILL');
    await Promise.all(started.map((gateway) => gateway.exited));
    await sim.close();
    await deleteKeysWithPrefix(SHARED_REDIS_URL, prefix);
    redis.disconnect();
  });

  it('holds one upstream subscription at a time, and a SIGKILLed leader costs the other processes no reading', async () => {
    const gateways = await Promise.all([1, 2, 3].map(() => startReplica(sim, prefix)));
    const subscribe = (gateway: Replica): Subscribed<any> => {
      const client = subscribeWs(gateway.wsUrl, READINGS, UNTIL_CLOSED, { connectionParams: { 'x-api-key': STAFF_KEY } });
      // The leader's clients lose their socket with it; what they received is not asserted.
      client.done.catch(() => undefined);
      return client;
    };
    const clients = new Map(gateways.map((gateway) => [gateway, subscribe(gateway)]));

    let maxUpstream = 0;
    const sampler = setInterval(() => (maxUpstream = Math.max(maxUpstream, sim.stats.activeSubscriptions)), 20);
    try {
      await waitFor(() => [...clients.values()].every((client) => client.results.length >= 30), 60_000, '30 readings on every replica');
      expect(sim.stats.activeSubscriptions).toBe(1);

      const leaderId = await redis.get(`${prefix}readings:leader`);
      const leader = gateways.find((gateway) => leaderId?.includes(`-${gateway.process.child.pid}-`));
      expect(leader).toBeDefined();
      const survivors = gateways.filter((gateway) => gateway !== leader);

      const connectionsBefore = sim.stats.connectionInitPayloads.length;
      leader!.process.child.kill('SIGKILL');
      const killedAt = Date.now();
      await leader!.process.exited;
      // A successor takes the lock once the lease lapses (3 s) and opens the upstream subscription.
      await waitFor(
        () => sim.stats.connectionInitPayloads.length > connectionsBefore && sim.stats.activeSubscriptions === 1,
        30_000,
        'a successor to open the upstream subscription',
      );
      // Readings well past the lease's lapse, so that the comparison below spans the whole failover.
      const receivedAfterTakeover = (client: Subscribed<any>) =>
        client.results.some((result) => Date.parse(result.data?.readings.receiveTime) > killedAt + 3_000);
      await waitFor(() => survivors.every((gateway) => receivedAfterTakeover(clients.get(gateway)!)), 30_000, 'readings after the takeover on every survivor');

      expect(maxUpstream).toBe(1);
      for (const gateway of survivors) {
        const client = clients.get(gateway)!;
        client.close();
        const readings = client.results.map((result) => {
          expect(result.errors).toBeUndefined();
          return result.data.readings;
        });
        expect(Date.parse(readings[0].receiveTime)).toBeLessThan(killedAt - 1_000);
        expect(Date.parse(readings.at(-1).receiveTime)).toBeGreaterThan(killedAt + 3_000);
        // Every reading the simulator received across the failover, once.
        expect(await expectNoGapNoDuplicate(sim, readings)).toBeGreaterThan(100);
      }
    } finally {
      clearInterval(sampler);
      for (const client of clients.values()) client.close();
    }
  }, 300_000);
});
