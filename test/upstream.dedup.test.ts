import type { ExecutionResult } from 'graphql';
import { parse } from 'graphql';
import { loadGatewayConfig } from '../src/config';
import { createLogger } from '../src/logging/logger';
import { startSimulator, type RunningSimulator } from '../src/simulator';
import { createIometerUpstream, type IometerExecutor } from '../src/upstream';
import { providerIds, waitFor } from './helpers/simulator';

/**
 * In-flight deduplication of queries (src/upstream/inFlightQueries.ts; mutations never). The upstream request carries only the gateway's own credentials, so two
 * clients' identical queries are the same IOmeter request and may share one answer.
 */
describe('in-flight deduplication of identical upstream queries', () => {
  let simulator: RunningSimulator;
  let iometer: IometerExecutor;
  beforeAll(async () => {
    simulator = await startSimulator();
    iometer = createIometerUpstream(
      { endpoint: simulator.url, wsEndpoint: simulator.wsUrl, token: simulator.token, secret: simulator.secret, timeoutMs: 10_000 },
      { logger: createLogger({ level: 'silent' }), protection: loadGatewayConfig({}).upstreamProtection },
    );
  });
  afterAll(() => simulator.close());
  afterEach(() => {
    simulator.faults.hold = undefined;
  });

  /** Holds IOmeter, sends `first`, and once it is waiting at IOmeter sends `second`; then lets both through. */
  async function overlapping(first: () => Promise<unknown>, second: () => Promise<unknown>) {
    let release = () => {};
    simulator.faults.hold = new Promise<void>((resolve) => (release = resolve));
    simulator.resetStats();
    const results = [first()];
    await waitFor(() => simulator.stats.httpRequests === 1);
    results.push(second());
    // Requests not shared with the first one arrive at IOmeter while it is still held.
    await waitFor(async () => simulator.stats.httpRequests === 2, 1_000).catch(() => undefined);
    release();
    return (await Promise.all(results)) as ExecutionResult[];
  }

  const query = (document: string, variables?: Record<string, unknown>) => () =>
    iometer.executor({ document: parse(document), variables }) as Promise<ExecutionResult>;

  it('sends one request for identical concurrent queries and gives both callers its answer', async () => {
    const document = 'query Installation($id: String) { provider { installation(externalId: $id) { externalId } } }';
    const [a, b] = await overlapping(query(document, { id: 'C-1001' }), query(document, { id: 'C-1001' }));
    expect(a).toEqual({ data: { provider: { installation: { externalId: 'C-1001' } } } });
    expect(b).toEqual(a);
    expect(simulator.stats.httpRequests).toBe(1);
  });

  it('gives every caller of a shared answer data of its own', async () => {
    const document = 'query Installation($id: String) { provider { installation(externalId: $id) { externalId } } }';
    const [a, b] = await overlapping(query(document, { id: 'C-1001' }), query(document, { id: 'C-1001' }));
    expect(simulator.stats.httpRequests).toBe(1);
    (a.data as any).provider.installation.externalId = 'changed by the first caller';
    expect(b.data).toEqual({ provider: { installation: { externalId: 'C-1001' } } });
  });

  it('does not share between queries whose variables differ', async () => {
    const document = 'query Installation($id: String) { provider { installation(externalId: $id) { externalId } } }';
    const [a, b] = await overlapping(query(document, { id: 'C-1001' }), query(document, { id: 'C-1002' }));
    expect(a.data).toEqual({ provider: { installation: { externalId: 'C-1001' } } });
    expect(b.data).toEqual({ provider: { installation: { externalId: 'C-1002' } } });
    expect(simulator.stats.httpRequests).toBe(2);
  });

  it('never shares mutations: each one reaches IOmeter', async () => {
    const { enabledKeyId, freePool } = await providerIds(simulator);
    const mutation = query(
      `mutation Register($key: Uuid!, $pool: Uuid!, $start: Date!) {
        createRegistrationToken(externalId: "C-DEDUP", signingKeyId: $key, license: { poolId: $pool, startDate: $start }) { token }
      }`,
      { key: enabledKeyId, pool: freePool.id, start: new Date(Date.now() + 86_400_000).toISOString().slice(0, 10) },
    );
    const [a, b] = await overlapping(mutation, mutation);
    expect(a.errors).toBeUndefined();
    expect(b.errors).toBeUndefined();
    expect(simulator.stats.httpRequests).toBe(2);
  });
});
