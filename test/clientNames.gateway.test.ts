import { hashApiKey } from '../src/identity';
import { subscribeWs } from './helpers/clients';
import { waitFor } from './helpers/simulator';
import { MAX_CLIENT_FIELD_LENGTH } from '../src/shared/graphqlClient';
import { OUT_OF_SANDBOX_ENV, startStack, type Stack } from './helpers/stack';
import { sampleSum } from './helpers/metrics';

/*
 * Client names and versions (graphql-client-name/-version and Apollo's apollographql- spellings)
 * through HTTP: in the request log line and in iometer_gateway_client_requests_total, bounded.
 */

const STAFF_KEY = 'client-names-staff-key';
const METRICS_TOKEN = 'client-names-metrics-token';

function labelValues(text: string, metric: string, label: string): Set<string> {
  const pattern = new RegExp(`${label}="([^"]*)"`);
  return new Set(
    text
      .split('\n')
      .filter((line) => line.startsWith(`${metric}{`))
      .map((line) => pattern.exec(line)?.[1] ?? ''),
  );
}

describe('client names and versions', () => {
  let stack: Stack;
  const post = async (operationName: string, headers: Record<string, string>) => {
    const response = await fetch(stack.gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': STAFF_KEY, ...headers },
      body: JSON.stringify({ query: `query ${operationName} { __typename }` }),
    });
    expect(response.status).toBe(200);
  };
  const scrape = async () =>
    (await fetch(stack.gateway.url.replace('/graphql', '/metrics'), { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text();
  const summaryOf = (operationName: string) =>
    stack.logs.map((line) => JSON.parse(line)).find((line) => line.msg === 'request completed' && line.operationName === operationName);

  beforeAll(async () => {
    stack = await startStack({
      env: { ...OUT_OF_SANDBOX_ENV, AUTH_API_KEYS: `ops:staff:${hashApiKey(STAFF_KEY)}`, METRICS_TOKEN, RATE_LIMIT_ENABLED: 'false', CACHE_TTL: '0' },
    });
  });
  afterAll(() => stack?.close());

  it('puts the graphql-client- headers in the log line and the client counter', async () => {
    await post('FromIos', { 'graphql-client-name': 'ios-app', 'graphql-client-version': '4.2.0' });
    expect(summaryOf('FromIos')).toMatchObject({ clientName: 'ios-app', clientVersion: '4.2.0', status: 200 });
    expect(sampleSum(await scrape(), 'iometer_gateway_client_requests_total', { clientName: 'ios-app', clientVersion: '4.2.0', status: '200' })).toBe(1);
  });

  it("takes Apollo's apollographql-client- spellings", async () => {
    await post('FromAndroid', { 'apollographql-client-name': 'android-app', 'apollographql-client-version': '7.1' });
    expect(summaryOf('FromAndroid')).toMatchObject({ clientName: 'android-app', clientVersion: '7.1' });
    expect(sampleSum(await scrape(), 'iometer_gateway_client_requests_total', { clientName: 'android-app', clientVersion: '7.1' })).toBe(1);
  });

  it('counts requests without client headers as "none" and leaves them out of the log line', async () => {
    await post('Nameless', {});
    const summary = summaryOf('Nameless');
    expect(summary).toBeDefined();
    expect(summary).not.toHaveProperty('clientName');
    expect(sampleSum(await scrape(), 'iometer_gateway_client_requests_total', { clientName: 'none', clientVersion: 'none' })).toBeGreaterThanOrEqual(1);
  });

  it('puts the client of a WebSocket connection (connection_init payload) in its operation log line', async () => {
    await subscribeWs(stack.gateway.wsUrl, 'subscription WsClient { readings { time } }', 1, {
      connectionParams: { 'x-api-key': STAFF_KEY, 'graphql-client-name': 'android-app', 'graphql-client-version': '7.2' },
    }).done;
    const line = () => stack.logs.map((each) => JSON.parse(each)).find((each) => each.transport === 'ws' && each.operationName === 'WsClient');
    await waitFor(async () => line() !== undefined, 10_000, 'the WebSocket operation line');
    expect(line()).toMatchObject({ clientName: 'android-app', clientVersion: '7.2' });
  });

  it('bounds what a client chooses: long values are cut, and names past the series cap count as "other"', async () => {
    await post('LongName', { 'graphql-client-name': 'n'.repeat(5_000), 'graphql-client-version': 'v'.repeat(5_000) });
    expect(summaryOf('LongName')).toMatchObject({ clientName: 'n'.repeat(MAX_CLIENT_FIELD_LENGTH), clientVersion: 'v'.repeat(MAX_CLIENT_FIELD_LENGTH) });
    for (let i = 0; i < 100; i += 1) await post(`Many${i}`, { 'graphql-client-name': `app-${i}`, 'graphql-client-version': `1.0.${i}` });
    const text = await scrape();
    const names = labelValues(text, 'iometer_gateway_client_requests_total', 'clientName');
    const versions = labelValues(text, 'iometer_gateway_client_requests_total', 'clientVersion');
    // The caps (20 names, 50 versions) plus `none` and `other`.
    expect(names.size).toBeLessThanOrEqual(22);
    expect(versions.size).toBeLessThanOrEqual(52);
    expect(names).toContain('other');
    expect(versions).toContain('other');
    expect(text).not.toContain('n'.repeat(MAX_CLIENT_FIELD_LENGTH + 1));
  });
});
