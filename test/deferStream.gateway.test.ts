import { seedSandboxCustomers } from '../src/customers/sandboxSeed';
import { CustomerStore } from '../src/customers/store';
import { startStack, type Stack } from './helpers/stack';

/*
 * @defer and @stream through HTTP multipart (multipart/mixed) and SSE: gateway-owned fields
 * (stitched installation, consumption) arrive in later parts; a deferred IOmeter field comes inline
 * with its parent instead (Mesh fetches an IOmeter object's fields in one delegation), never as an error.
 */

interface Part {
  data?: any;
  errors?: unknown[];
  incremental?: Array<{ data?: any; items?: unknown[]; path: Array<string | number>; errors?: unknown[] }>;
  hasNext?: boolean;
}

/** The JSON parts of a multipart/mixed response, in order. */
async function multipart(url: string, query: string): Promise<{ contentType: string | null; parts: Part[] }> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'multipart/mixed' }, body: JSON.stringify({ query }) });
  const text = await response.text();
  const parts = text
    .split(/\r?\n---/)
    .map((chunk) => chunk.slice(chunk.indexOf('{')))
    .filter((chunk) => chunk.startsWith('{'))
    .map((chunk) => JSON.parse(chunk.slice(0, chunk.lastIndexOf('}') + 1)) as Part);
  return { contentType: response.headers.get('content-type'), parts };
}

/** The `next` events of an SSE response, in order. */
async function sse(url: string, query: string): Promise<Part[]> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'text/event-stream' }, body: JSON.stringify({ query }) });
  const text = await response.text();
  return text
    .split('\n\n')
    .filter((block) => block.startsWith('event: next'))
    .map((block) => JSON.parse(block.slice(block.indexOf('data: ') + 6)) as Part);
}

/** The whole result the parts add up to (incremental data merged at its path). */
function merged(parts: Part[]): { data: any; errors: unknown[] } {
  const data = structuredClone(parts[0]?.data ?? null);
  const errors = [...(parts[0]?.errors ?? [])];
  for (const part of parts.slice(1)) {
    for (const increment of part.incremental ?? []) {
      errors.push(...(increment.errors ?? []));
      if (increment.items) {
        const list = increment.path.slice(0, -1).reduce((at: any, key) => at[key], data);
        list.push(...increment.items);
        continue;
      }
      const target = increment.path.reduce((at: any, key) => at[key], data);
      Object.assign(target, increment.data);
    }
  }
  return { data, errors };
}

const RANGE = 'from: "2026-01-01T00:00:00Z", to: "2026-01-03T00:00:00Z", resolution: DAY';
const SCREEN = `{ customer(externalId: "C-1001") { externalId ... @defer { installation { id ... @defer(label: "chart") { consumption(${RANGE}) { start importedWh } } } } } }`;

describe('@defer and @stream', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ env: { RATE_LIMIT_ENABLED: 'false' } });
    await seedSandboxCustomers(new CustomerStore(stack.database), { onboardedExternalIds: ['C-1001'] });
  });
  afterAll(() => stack?.close());

  it('sends the customer first, then the stitched installation, then its consumption, over multipart/mixed', async () => {
    const { contentType, parts } = await multipart(stack.gateway.url, SCREEN);
    expect(contentType).toMatch(/^multipart\/mixed/);
    expect(parts[0]).toEqual({ data: { customer: { externalId: 'C-1001' } }, hasNext: true });
    expect(parts.at(-1)!.hasNext).toBe(false);
    const paths = parts.slice(1).flatMap((part) => (part.incremental ?? []).map((increment) => increment.path.join('.')));
    expect(paths).toEqual(['customer', 'customer.installation']);
    const { data, errors } = merged(parts);
    expect(errors).toEqual([]);
    expect(data.customer.installation.id).toEqual(expect.any(String));
    expect(data.customer.installation.consumption.length).toBeGreaterThan(0);
  });

  it('sends the same parts as SSE events', async () => {
    // Another query than above: that one's whole answer is in the response cache now, and a hit comes at once.
    const events = await sse(stack.gateway.url, SCREEN.replace('externalId:', 'externalId :'));
    expect(events[0]).toEqual({ data: { customer: { externalId: 'C-1001' } }, hasNext: true });
    expect(events.at(-1)!.hasNext).toBe(false);
    expect(merged(events).data.customer.installation.consumption.length).toBeGreaterThan(0);
  });

  it('answers a repeated deferred query from the response cache, whole', async () => {
    const query = SCREEN.replace('externalId:', 'externalId  :');
    await multipart(stack.gateway.url, query);
    const { parts } = await multipart(stack.gateway.url, query);
    expect(parts).toHaveLength(1);
    expect(parts[0]!.data.customer.installation.consumption.length).toBeGreaterThan(0);
  });

  it.each([
    ['an inline fragment', '{ provider { name ... @defer { installations { id customer { externalId } } } } }'],
    ['a fragment spread', 'query Spread { provider { name ...Installations @defer } } fragment Installations on IometerProvider { installations { id } }'],
  ])('returns deferred IOmeter fields inline, without errors, in %s', async (_form, query) => {
    const { parts } = await multipart(stack.gateway.url, query);
    const { data, errors } = merged(parts);
    expect(errors).toEqual([]);
    expect(parts[0]!.data.provider.installations.length).toBeGreaterThan(0);
    expect(data.provider.name).toEqual(expect.any(String));
  });

  it('streams a list item by item with @stream', async () => {
    const { parts } = await multipart(stack.gateway.url, '{ provider { installations @stream(initialCount: 1) { id } } }');
    expect(parts[0]!.data.provider.installations).toHaveLength(1);
    expect(parts[0]!.hasNext).toBe(true);
    const { data, errors } = merged(parts);
    expect(errors).toEqual([]);
    expect(data.provider.installations.length).toBeGreaterThan(2);
  });
});
