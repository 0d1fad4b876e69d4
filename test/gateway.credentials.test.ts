import { hashApiKey } from '../src/identity';
import { basicAuthorization } from '../src/upstream/credentials';
import { postGraphQL, subscribeSse, subscribeWs } from './helpers/clients';
import { startStack, type Stack } from './helpers/stack';

describe('credential injection', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({
      simulator: { secret: 'sup3r-s3cret-value-for-leak-scan' },
      env: { AUTH_API_KEYS: `frontend:staff:${hashApiKey('client-key-1')}` },
    });
  });
  afterAll(() => stack.close());

  it("sends Basic token:secret on every upstream HTTP request, never the client's own credential", async () => {
    stack.simulator.resetStats();
    await postGraphQL(stack.gateway.url, '{ provider { id } }');
    await postGraphQL(stack.gateway.url, '{ provider { name } }', undefined, { 'x-api-key': 'client-key-1' });
    const expected = basicAuthorization(stack.simulator.token, stack.simulator.secret);
    expect(stack.simulator.stats.authorizationHeaders).toEqual([expected, expected]);
  });

  it('sends the credential in the upstream connection_init payload', async () => {
    stack.simulator.resetStats();
    await subscribeWs(stack.gateway.wsUrl, 'subscription { readings { time } }', 1).done;
    expect(stack.simulator.stats.connectionInitPayloads).toEqual([
      { authorization: basicAuthorization(stack.simulator.token, stack.simulator.secret) },
    ]);
  });
});

describe('secret leak scan', () => {
  const secret = 'leak-scan-secret-9f8e7d6c';

  it('never puts the secret or its Basic encoding in a response or a log line, on success or failure', async () => {
    // The archive on (startStack turns it off by default), so its upstream subscription, backfill and error paths log too.
    const archiving = { ARCHIVE_ENABLED: 'true', ARCHIVE_FLUSH_INTERVAL: '50ms' };
    const good = await startStack({ simulator: { secret }, env: archiving });
    const bad = await startStack({ simulator: { secret }, upstream: { secret: `${secret}-wrong` }, env: archiving });
    const seen: string[] = [];
    try {
      for (const stack of [good, bad]) {
        const queries = [
          '{ provider { id name installations { id externalId license { status } } } }',
          '{ provider { readings(limit: 500) { cursor } } }',
          '{ provider { installation { id } } }',
          '{ nope }',
        ];
        for (const query of queries) seen.push((await postGraphQL(stack.gateway.url, query)).text);
        const ws = await subscribeWs(stack.gateway.wsUrl, 'subscription { readings { time } }', 2).done;
        const sse = await subscribeSse(stack.gateway.url, 'subscription { readings { time } }', 2).done;
        seen.push(JSON.stringify(ws), JSON.stringify(sse));
      }
      await bad.simulator.close();
      seen.push((await postGraphQL(bad.gateway.url, '{ provider { id } }')).text);
    } finally {
      await good.close();
      await bad.close();
    }
    const everything = [...seen, ...good.logs, ...bad.logs].join('\n');
    expect(seen.length).toBeGreaterThan(10);
    expect(good.logs.length + bad.logs.length).toBeGreaterThan(0);
    for (const stack of [good, bad]) expect(stack.logs.some((line) => line.includes('"archive":true'))).toBe(true);
    for (const forbidden of [
      secret,
      Buffer.from(`${good.simulator.token}:${secret}`).toString('base64'),
      Buffer.from(`${bad.simulator.token}:${secret}-wrong`).toString('base64'),
    ]) {
      expect(everything).not.toContain(forbidden);
    }
  });
});
