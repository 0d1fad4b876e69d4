import { Writable } from 'node:stream';
import { loadGatewayConfig } from '../../src/config';
import { createLogger, type Logger } from '../../src/logging/logger';
import { startSimulator, type RunningSimulator, type SimulatorOptions } from '../../src/simulator';
import { ReadingHub, type MeterReading, type PageFetcher, type ReadingHubOptions } from '../../src/subscriptions';
import { METER_READING_FIELDS } from '../../src/subscriptions/payload';
import { simulatorAuth, sleep, waitFor } from './simulator';

/** Shared by the subscriptions.* test files: a hub against a real simulator, nothing mocked. */

export const PAGE_QUERY = /* GraphQL */ `
  query Page($startTime: DateTime, $cursor: String) {
    provider {
      readings(startTime: $startTime, limit: 100, cursor: $cursor) {
        cursor
        readings { ${METER_READING_FIELDS} }
      }
    }
  }
`;

/**
 * The page fetcher the gateway will back with provider.readings, here a plain POST with Basic auth.
 * `delayMs` is split around the query, as latency is: readings stored while the answer travels back
 * are missing from it and must come from the live feed.
 */
export function simulatorPageFetcher(sim: RunningSimulator, options: { delayMs?: number; pages?: string[] } = {}): PageFetcher {
  return async (startTime, cursor) => {
    options.pages?.push(cursor ?? `start:${startTime}`);
    if (options.delayMs) await sleep(options.delayMs / 2);
    const response = await fetch(sim.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: simulatorAuth(sim) },
      body: JSON.stringify({ query: PAGE_QUERY, variables: { startTime, cursor } }),
    });
    const body = (await response.json()) as {
      data?: { provider: { readings: { readings: MeterReading[]; cursor: string | null } } };
      errors?: unknown[];
    };
    if (!body.data) throw new Error(`page query failed: ${JSON.stringify(body.errors)}`);
    if (options.delayMs) await sleep(options.delayMs / 2);
    return body.data.provider.readings;
  };
}

/** Everything the simulator stored since startTime, in receive order: the ground truth. */
export async function storedReadings(sim: RunningSimulator, startTime: string): Promise<MeterReading[]> {
  const fetchPage = simulatorPageFetcher(sim);
  const all: MeterReading[] = [];
  let cursor: string | undefined;
  do {
    const page = await fetchPage(startTime, cursor);
    all.push(...page.readings);
    cursor = page.cursor ?? undefined;
  } while (cursor);
  return all;
}

/** Log lines, kept for a failing test to print; LOG_LEVEL=debug shows them live. */
export function testLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, callback) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      if (process.env.LOG_LEVEL) process.stderr.write(chunk);
      callback();
    },
  });
  return { logger: createLogger({ level: process.env.LOG_LEVEL ?? 'info', destination }), lines };
}

export type HubOverrides = Partial<ReadingHubOptions>;

/**
 * A subscriptions.* file's simulator: one for the whole file, each test starting once the previous
 * test's upstream subscriptions are gone, with the stats reset. Call the result from the tests on.
 */
export function simulatorForFile(options: SimulatorOptions): () => RunningSimulator {
  let sim: RunningSimulator | undefined;
  const started = () => {
    if (!sim) throw new Error('the simulator starts in beforeAll');
    return sim;
  };
  beforeAll(async () => {
    sim = await startSimulator(options);
  });
  beforeEach(async () => {
    await waitFor(() => started().stats.activeSubscriptions === 0);
    started().resetStats();
  });
  afterAll(async () => {
    await sim?.close();
  });
  return started;
}

/** What a test opens (hubs, cluster replicas), closed after it. */
export function closedAfterEach<T extends { close(): Promise<unknown> }>(): T[] {
  const opened: T[] = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((item) => item.close()));
  });
  return opened;
}

/** The hub settings the gateway runs with when no SUBSCRIPTION_* variable is set. */
const CONFIGURED_HUB_SETTINGS = loadGatewayConfig({}).subscriptions;

/** A hub on the simulator with the configured defaults but test-sized timings; pushed to `hubs` if given. */
export function hubFor(sim: RunningSimulator, overrides: HubOverrides = {}, hubs?: ReadingHub[]): ReadingHub {
  const hub = new ReadingHub({
    ...CONFIGURED_HUB_SETTINGS,
    url: sim.wsUrl,
    authorization: simulatorAuth(sim),
    fetchPage: simulatorPageFetcher(sim),
    logger: testLogger().logger,
    graceMs: 200,
    overlapMs: 2_000,
    retryBudgetMs: 10_000,
    ...overrides,
  });
  hubs?.push(hub);
  return hub;
}

/** Drains an iterator in the background the way a transport would, until it ends, fails or is stopped. */
export class Collector<T> {
  readonly items: T[] = [];
  error?: unknown;
  done = false;
  private readonly finished: Promise<void>;

  constructor(private readonly iterator: AsyncIterableIterator<T>) {
    this.finished = this.run();
  }

  /** Resolves once `condition` holds; rejects if the iterator ends first or time runs out. */
  async until(condition: (items: T[]) => boolean, timeoutMs = 30_000): Promise<T[]> {
    const deadline = Date.now() + timeoutMs;
    while (!condition(this.items)) {
      if (this.done) throw new Error(`iterator ended after ${this.items.length} items: ${String(this.error ?? 'done')}`);
      if (Date.now() > deadline) throw new Error(`timed out after ${this.items.length} items`);
      await sleep(20);
    }
    return this.items;
  }

  /** Unsubscribes, like a client going away. */
  async stop(): Promise<T[]> {
    await this.iterator.return?.();
    await this.finished;
    return this.items;
  }

  /** Resolves when the iterator has ended on its own. */
  ended(): Promise<void> {
    return this.finished;
  }

  private async run(): Promise<void> {
    try {
      for (;;) {
        const result = await this.iterator.next();
        if (result.done) return;
        this.items.push(result.value);
      }
    } catch (error) {
      this.error = error;
    } finally {
      this.done = true;
    }
  }
}

/** A reading's identity, as the hub dedups it. */
export const keyOf = (reading: { meter: { id: string }; time: string }) =>
  `${reading.meter.id}@${Date.parse(reading.time)}`;

const receiveMs = (reading: { receiveTime: string }) => Date.parse(reading.receiveTime);

/**
 * The gap-free check: what a client got, compared with what the simulator stored, over the receive
 * times strictly between the client's first and last reading (readings sharing those boundary
 * milliseconds may legitimately fall either side). Returns the window's size for sanity checks.
 */
export async function expectNoGapNoDuplicate(
  sim: RunningSimulator,
  received: Array<{ meter: { id: string }; time: string; receiveTime: string; installation?: { externalId: string | null } }>,
  options: { externalId?: string } = {},
): Promise<number> {
  const keys = received.map(keyOf);
  expect(keys.length - new Set(keys).size).toBe(0);

  const from = Math.min(...received.map(receiveMs));
  const to = Math.max(...received.map(receiveMs));
  const inWindow = (reading: { receiveTime: string }) => receiveMs(reading) > from && receiveMs(reading) < to;
  const stored = (await storedReadings(sim, new Date(from).toISOString())).filter(
    (reading) => options.externalId === undefined || reading.installation.externalId === options.externalId,
  );
  const expected = stored.filter(inWindow).map(keyOf).sort();
  const got = received.filter(inWindow).map(keyOf).sort();
  expect(got).toEqual(expected);
  return expected.length;
}
