import { startSimulator, type RunningSimulator } from '../src/simulator';
import { subscribeWs } from './helpers/clients';
import { kill } from './helpers/childProcesses';
import { frontingEnv, startGatewayProcess, type GatewayProcess } from './helpers/gatewayProcess';
import { deleteKeysWithPrefix, SHARED_REDIS_URL, uniqueKeyPrefix } from './helpers/redis';
import { waitFor } from './helpers/simulator';
import { startStack, type Stack } from './helpers/stack';
import { staffAuthorization } from './helpers/tokens';

const SECRET = 'replica-crash-test-secret-of-32-characters';
const READINGS = 'subscription { readings { time } }';
/** Renewed every third of it (3.3 s) while the replica lives. */
const LEASE_MS = 10_000;

/*
 * The concurrent-subscription cap is a set of leases in Redis. A replica that dies cannot release its
 * clients' slots: they stay taken until the leases lapse, then the client may subscribe elsewhere.
 */
describe('a replica killed while its client holds the only subscription slot', () => {
  const prefix = uniqueKeyPrefix('test-lease');
  let simulator: RunningSimulator;
  let doomed: GatewayProcess;
  let survivor: Stack;

  beforeAll(async () => {
    simulator = await startSimulator({ readingIntervalMs: 200, port: 0 });
  });
  afterAll(async () => {
    if (doomed) await kill(doomed.child);
    await survivor?.close();
    await simulator.close();
    await deleteKeysWithPrefix(SHARED_REDIS_URL, prefix);
  });

  it('keeps the slot taken until its lease lapses, then frees it on the surviving replica', async () => {
    const env = {
      AUTH_JWT_SECRET: SECRET,
      REDIS_URL: SHARED_REDIS_URL,
      REDIS_KEY_PREFIX: prefix,
      RATE_LIMIT_MAX_SUBSCRIPTIONS: '1',
      RATE_LIMIT_SUBSCRIPTION_LEASE: `${LEASE_MS}ms`,
      ARCHIVE_ENABLED: 'false',
    };
    doomed = startGatewayProcess({ ...frontingEnv(simulator), ...env });
    const doomedUrl = await doomed.ready(90_000);
    survivor = await startStack({ sharedSimulator: simulator, env });
    const connectionParams = { authorization: await staffAuthorization(SECRET, 'lease-holder') };
    const subscribeOnSurvivor = async () => (await subscribeWs(survivor.gateway.wsUrl, READINGS, 1, { connectionParams }).done)[0];

    const held = subscribeWs(doomedUrl.replace(/^http/, 'ws'), READINGS, 1_000_000, { connectionParams });
    held.done.catch(() => undefined);
    await waitFor(() => held.results.length > 0, 30_000, 'a first reading on the replica about to die');

    const killStartedAt = Date.now();
    await kill(doomed.child);
    // The dead replica's lease still holds the client's only slot.
    expect((await subscribeOnSurvivor())?.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');

    let accepted: Awaited<ReturnType<typeof subscribeOnSurvivor>>;
    await waitFor(
      async () => {
        accepted = await subscribeOnSurvivor();
        return accepted?.errors?.[0]?.extensions?.code !== 'RATE_LIMITED';
      },
      LEASE_MS + 30_000,
      "the dead replica's slot to be freed",
    );
    expect(accepted!.errors).toBeUndefined();
    expect(accepted!.data.readings.time).toEqual(expect.any(String));
    // Not before the lease lapsed: it was renewed at most a third of LEASE_MS before the kill
    // (another third allowed for a renewal timer that a busy machine ran late).
    expect(Date.now() - killStartedAt).toBeGreaterThanOrEqual(LEASE_MS / 3);
    held.close();
  }, 180_000);
});
