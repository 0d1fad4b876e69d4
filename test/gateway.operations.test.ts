import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { postGraphQL } from './helpers/clients';
import { startStack, type Stack } from './helpers/stack';

const today = () => new Date().toISOString().slice(0, 10);
const examples = readFileSync(join(__dirname, '..', 'src', 'graphiql', 'examples.graphql'), 'utf8');

describe('IOmeter operations through the gateway', () => {
  let stack: Stack;
  let url: string;
  let ids: { installationId: string; signingKeyId: string; poolId: string };

  beforeAll(async () => {
    stack = await startStack();
    url = stack.gateway.url;
    const { body } = await postGraphQL(
      url,
      `{ provider { installations { id } signingKeys { id enabled } licensePools { id size usage } } }`,
    );
    const provider = body.data.provider;
    ids = {
      installationId: provider.installations[0].id,
      signingKeyId: provider.signingKeys.find((key: { enabled: boolean }) => key.enabled).id,
      poolId: provider.licensePools.find((pool: { size: number; usage: number }) => pool.usage < pool.size).id,
    };
  });
  afterAll(() => stack.close());

  it('runs the Provider example operation from GraphiQL with every documented field', async () => {
    const { status, body } = await postGraphQL(url, examples + '\n', undefined, {});
    // Several operations in one document need an operationName; the request must say which.
    expect(status).toBe(400);
    const provider = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: examples, operationName: 'Provider' }),
    }).then((response) => response.json());
    expect(provider.errors).toBeUndefined();
    expect(provider.data.provider.name).toEqual(expect.any(String));
    expect(provider.data.provider.installations).toHaveLength(5);
    expect(provider.data.provider.installation.externalId).toBe('C-1001');
    expect(provider.data.provider.readings.readings.length).toBeGreaterThan(0);
    expect(body.errors?.[0].message).toMatch(/operation/i);
  });

  it('runs CreateRegistrationToken and UpdateLicense from GraphiQL', async () => {
    const token = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        query: examples,
        operationName: 'CreateRegistrationToken',
        variables: { externalId: 'C-9001', signingKeyId: ids.signingKeyId, license: { poolId: ids.poolId, startDate: today() } },
      }),
    }).then((response) => response.json());
    expect(token.errors).toBeUndefined();
    expect(token.data.createRegistrationToken).toEqual({
      installationId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      token: expect.any(String),
      qrCode: expect.stringMatching(/^https?:\/\//),
      deeplink: expect.stringMatching(/^[a-z]+:/),
    });

    const license = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        query: examples,
        operationName: 'UpdateLicense',
        variables: { installationId: ids.installationId, setTerm: { period: 12, autoRenewal: true } },
      }),
    }).then((response) => response.json());
    expect(license.errors).toBeUndefined();
    expect(license.data.updateLicense.term).toEqual({ period: 12, autoRenewal: true });
  });

  it('answers the single signing key and license pool lookups of the doc example', async () => {
    const { body } = await postGraphQL(
      url,
      `query($key: Uuid!, $pool: Uuid!) { provider {
        signingKey(id: $key) { id name enabled }
        licensePool(id: $pool) { id name size usage term { period autoRenewal } }
        installation(id: "${ids.installationId}") { id externalId meters { id number latestReadings { time obisCode value unit } } }
      } }`,
      { key: ids.signingKeyId, pool: ids.poolId },
    );
    expect(body.errors).toBeUndefined();
    expect(body.data.provider.signingKey).toMatchObject({ id: ids.signingKeyId, enabled: true });
    expect(body.data.provider.licensePool.id).toBe(ids.poolId);
    expect(body.data.provider.installation.id).toBe(ids.installationId);
  });

  it('serves queries over HTTP GET per the GraphQL-over-HTTP spec', async () => {
    const query = encodeURIComponent('{ provider { id name } }');
    const response = await fetch(`${url}?query=${query}`, { headers: { accept: 'application/graphql-response+json' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('application/graphql-response+json');
    const body = await response.json();
    expect(body.data.provider.id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('refuses mutations over GET', async () => {
    const query = encodeURIComponent('mutation { updateLicense(installationId: "578936dc-8020-4022-a560-2f59d2dca9ee") { status } }');
    const response = await fetch(`${url}?query=${query}`, { headers: { accept: 'application/graphql-response+json' } });
    expect(response.status).toBe(405);
  });

  it('registers an installation end to end: token, redeem, then the installation is visible', async () => {
    const created = await postGraphQL(
      url,
      `mutation($key: Uuid!, $pool: Uuid!, $start: Date!) { createRegistrationToken(externalId: "C-9100", signingKeyId: $key, license: { poolId: $pool, startDate: $start }) { installationId token } }`,
      { key: ids.signingKeyId, pool: ids.poolId, start: today() },
    );
    const { installationId, token } = created.body.data.createRegistrationToken;
    const before = await postGraphQL(url, `{ provider { installation(externalId: "C-9100") { id } } }`);
    expect(before.body.data.provider.installation).toBeNull();
    await stack.simulator.redeem(token);
    const after = await postGraphQL(url, `{ provider { installation(externalId: "C-9100") { id externalId license { status } } } }`);
    expect(after.body.data.provider.installation).toMatchObject({ id: installationId, externalId: 'C-9100' });
  });

  it('converts OBIS codes between formats', async () => {
    const { body } = await postGraphQL(
      url,
      `{ provider { readings(limit: 1) { readings { values { dec: obisCode hex: obisCode(format: hex) } } } } }`,
    );
    const value = body.data.provider.readings.readings[0].values[0];
    expect(value.dec).toMatch(/^\d+-\d+:\d+\.\d+\.\d+$/);
    expect(value.hex).toMatch(/^[0-9a-f]{2}-[0-9a-f]{2}:[0-9a-f]{2}\.[0-9a-f]{2}\.[0-9a-f]{2}\*ff$/);
  });

  describe('input validation', () => {
    it('rejects an invalid Uuid variable in the gateway with BAD_USER_INPUT', async () => {
      const before = stack.simulator.stats.graphqlRequests;
      const { status, body } = await postGraphQL(url, `query($id: Uuid!) { provider { signingKey(id: $id) { id } } }`, { id: 'not-a-uuid' });
      expect(status).toBe(400);
      expect(body.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
      expect(body.errors?.[0].message).toMatch(/Uuid/);
      expect(stack.simulator.stats.graphqlRequests).toBe(before);
    });

    it('rejects the doc erratum 24:30 DateTime literal', async () => {
      const { body } = await postGraphQL(url, `{ provider { readings(startTime: "2024-12-31T24:30:15Z") { cursor } } }`);
      expect(body.errors).toHaveLength(1);
      expect(body.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
      expect(body.errors?.[0].message).toMatch(/DateTime/);
    });

    it.each([
      ['ObisCode', `subscription { scheduledReadings(obisCodes: ["1.8.0"]) { value } }`],
      ['Date', `mutation { createRegistrationToken(externalId: "x", signingKeyId: "578936dc-8020-4022-a560-2f59d2dca9ee", license: { poolId: "578936dc-8020-4022-a560-2f59d2dca9ee", startDate: "2024-02-30" }) { token } }`],
    ])('rejects an invalid %s literal', async (scalar, query) => {
      const { body } = await postGraphQL(url, query);
      expect(body.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
      expect(body.errors?.[0].message).toContain(scalar);
    });

    it('passes the upstream validation error for a limit above 100 with its code and the gateway\'s message for it', async () => {
      const { body } = await postGraphQL(url, `{ provider { readings(limit: 101) { cursor } } }`);
      expect(body.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
      // IOmeter's own text is logged, not forwarded (test/upstream.echo.test.ts).
      expect(body.errors?.[0].message).toBe('IOmeter refused the input of this request.');
    });

    it('requires exactly one of id or externalId for an installation', async () => {
      const { body } = await postGraphQL(url, `{ provider { installation { id } } }`);
      expect(body.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    });
  });
});
