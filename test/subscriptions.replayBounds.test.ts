import { jose } from '../src/identity/jose';
import { readSseEvents } from './helpers/clients';
import { OUT_OF_SANDBOX_ENV, startStack, type Stack } from './helpers/stack';

const SECRET = 'replay-bounds-secret-with-32-characters!';
const MY_READINGS = 'subscription { myReadings { time receiveTime } }';
/** Tests here start whole stacks; on a busy machine that alone can take most of jest's default 30 s. */
const STACK_MS = 90_000;
/** An SSE id from 1970: before the fix it made the gateway page IOmeter's whole store. */
const ANCIENT_POSITION = '1.x.1';

async function customerAuthorization(): Promise<Record<string, string>> {
  const jwt = await new jose.SignJWT({ role: 'customer', externalId: 'C-1001' })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('customer-1001')
    .setExpirationTime('10m')
    .sign(new TextEncoder().encode(SECRET));
  return { authorization: `Bearer ${jwt}` };
}

/** The replay pages the simulator was asked for (the gateway's ReplayPage query). */
const replayPages = (stack: Stack) => stack.simulator.stats.queries.filter((query) => query.includes('ReplayPage')).length;

/** 10 installations with a reading a second and 20 minutes of stored history: 12,000 readings, 120 pages. */
const SIMULATOR = { installations: 10, readingIntervalMs: 1_000, historyMs: 20 * 60_000 };

describe('an SSE resume from an ancient Last-Event-ID', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({
      simulator: SIMULATOR,
      env: { ...OUT_OF_SANDBOX_ENV, AUTH_JWT_SECRET: SECRET, SUBSCRIPTION_RESUME_WINDOW: '1m', RATE_LIMIT_FIELDS: 'IometerProvider.readings=100/1m' },
    });
  }, STACK_MS);
  afterAll(() => stack?.close());

  it('replays from the start of the resume window only, a handful of pages', async () => {
    const connectedMs = Date.now();
    const events = await readSseEvents(stack.gateway.url, MY_READINGS, 3, { ...(await customerAuthorization()), 'last-event-id': ANCIENT_POSITION });
    expect(events).toHaveLength(3);
    const receiveTimes = events.map((event) => Date.parse(event.data.data.myReadings.receiveTime));
    // Clamped to the 1 minute window (a second of slack for the clocks of gateway and simulator).
    expect(Math.min(...receiveTimes)).toBeGreaterThanOrEqual(connectedMs - 61_000);
    // A minute of 10 installations is 600 readings, 6 pages; the whole store would be 120.
    expect(replayPages(stack)).toBeLessThanOrEqual(8);
  }, STACK_MS);
});

describe('a replay that needs more pages than the client\'s readings budget', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({
      simulator: SIMULATOR,
      env: { ...OUT_OF_SANDBOX_ENV, AUTH_JWT_SECRET: SECRET, SUBSCRIPTION_RESUME_WINDOW: '5m', RATE_LIMIT_FIELDS: 'IometerProvider.readings=2/1m' },
    });
  }, STACK_MS);
  afterAll(() => stack?.close());

  it('ends with RATE_LIMITED once the pages spent the budget, having asked IOmeter for no more', async () => {
    // Five minutes of 10 installations is 30 pages; the budget allows 2.
    const events = await readSseEvents(stack.gateway.url, MY_READINGS, 1_000, { ...(await customerAuthorization()), 'last-event-id': ANCIENT_POSITION });
    const last = events.at(-1)!.data;
    expect(last.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
    expect(replayPages(stack)).toBe(2);
  }, STACK_MS);
});
