import { jose } from '../src/identity/jose';
import { MAX_OPERATION_NAME_SERIES } from '../src/metrics/operationLabels';
import { OUT_OF_SANDBOX_ENV, startStack, type Stack } from './helpers/stack';
import { sampleSum } from './helpers/metrics';

const SECRET = 'metrics-bounds-secret-with-32-characters';
const METRICS_TOKEN = 'metrics-bounds-scrape-token';

/** Tests here start whole stacks; on a busy machine that alone can take most of jest's default 30 s. */
const STACK_MS = 120_000;

async function customerAuthorization(): Promise<string> {
  const jwt = await new jose.SignJWT({ role: 'customer', externalId: 'C-1001' })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('customer-1001')
    .setExpirationTime('10m')
    .sign(new TextEncoder().encode(SECRET));
  return `Bearer ${jwt}`;
}

async function post(url: string, authorization: string, body: Record<string, unknown>): Promise<number> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', authorization },
    body: JSON.stringify(body),
  });
  await response.arrayBuffer();
  return response.status;
}

/** Every value the label `label` takes in the samples of `metric`. */
function labelValues(text: string, metric: string, label: string): Set<string> {
  const values = new Set<string>();
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${metric}{`)) continue;
    const match = new RegExp(`${label}="([^"]*)"`).exec(line);
    if (match) values.add(match[1]!);
  }
  return values;
}

describe('/metrics stays bounded whatever clients name their operations', () => {
  let stack: Stack;
  let customer: string;
  const scrape = async () => {
    const response = await fetch(stack.gateway.url.replace('/graphql', '/metrics'), { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(response.status).toBe(200);
    return response.text();
  };

  beforeAll(async () => {
    stack = await startStack({ env: { ...OUT_OF_SANDBOX_ENV, AUTH_JWT_SECRET: SECRET, METRICS_TOKEN, RATE_LIMIT_MAX: '10000' } });
    customer = await customerAuthorization();
  }, STACK_MS);
  afterAll(() => stack?.close());

  it('labels operation names the document does not hold as "invalid", and keeps them out of the log line', async () => {
    const huge = 'X'.repeat(1_000_000);
    // A name that is not in the document (400), a refused one (401), and a document with several operations and no name.
    expect(await post(stack.gateway.url, customer, { query: '{ __typename }', operationName: huge })).toBe(400);
    for (let i = 0; i < 30; i += 1) {
      expect(await post(stack.gateway.url, customer, { query: '{ __typename }', operationName: `Unique${i}${'y'.repeat(1_000)}` })).toBe(400);
    }
    expect(await post(stack.gateway.url, 'Bearer not-a-jwt', { query: 'query Refused { __typename }', operationName: 'Refused' })).toBe(401);

    const text = await scrape();
    expect(text.length).toBeLessThan(64 * 1024);
    expect(text).not.toContain('XXXX');
    expect(text).not.toContain('yyyy');
    expect(text).not.toContain('Refused');
    expect(sampleSum(text, 'iometer_gateway_http_requests_total', { operationName: 'invalid', status: '400' })).toBe(31);
    // Refused before its operations were read: no name at all.
    expect(sampleSum(text, 'iometer_gateway_http_requests_total', { operationName: 'none', status: '401' })).toBe(1);

    const summaries = stack.logs.filter((line) => line.includes('"request completed"'));
    expect(summaries.length).toBeGreaterThanOrEqual(32);
    for (const line of summaries) expect(line.length).toBeLessThan(2_048);
  }, STACK_MS);

  it('cuts long executed names in the log line and keeps at most the series cap of names', async () => {
    const longName = `Long${'z'.repeat(5_000)}`;
    expect(await post(stack.gateway.url, customer, { query: `query ${longName} { __typename }` })).toBe(200);
    const extra = 20;
    for (let i = 0; i < MAX_OPERATION_NAME_SERIES + extra; i += 1) {
      expect(await post(stack.gateway.url, customer, { query: `query Name${i} { __typename }`, operationName: `Name${i}` })).toBe(200);
    }
    const text = await scrape();
    for (const metric of ['iometer_gateway_http_requests_total', 'graphql_envelop_request', 'graphql_yoga_http_duration_count']) {
      const names = labelValues(text, metric, 'operationName');
      expect({ metric, within: names.size <= MAX_OPERATION_NAME_SERIES + 4 }).toEqual({ metric, within: true });
      expect(names).toContain('other');
      expect(names).toContain('Name0');
    }
    // The long name is one of the first; it never got a series of its own.
    expect(text).not.toContain('zzzz');
    expect(sampleSum(text, 'iometer_gateway_http_requests_total', { operationName: 'other' })).toBeGreaterThanOrEqual(extra);

    const longLine = stack.logs.find((line) => line.includes('"request completed"') && line.includes('Longzzz'));
    expect(longLine).toBeDefined();
    expect(longLine!.length).toBeLessThan(1_024);
  }, STACK_MS);
});

describe('/metrics access outside sandbox mode', () => {
  const openWarning = (stack: Stack) => stack.logs.find((line) => line.includes('"level":40') && line.includes('/metrics is open'));

  it('warns at start-up when neither METRICS_TOKEN nor METRICS_PORT protects it', async () => {
    const stack = await startStack({ env: { ...OUT_OF_SANDBOX_ENV, AUTH_JWT_SECRET: SECRET } });
    try {
      expect(openWarning(stack)).toBeDefined();
    } finally {
      await stack.close();
    }
  }, STACK_MS);

  it('does not warn when METRICS_TOKEN protects it', async () => {
    const stack = await startStack({ env: { ...OUT_OF_SANDBOX_ENV, AUTH_JWT_SECRET: SECRET, METRICS_TOKEN } });
    try {
      expect(openWarning(stack)).toBeUndefined();
    } finally {
      await stack.close();
    }
  }, STACK_MS);
});
