import { startSimulator, type RunningSimulator } from '../src/simulator';
import { iometerScalars } from '../src/iometer/scalars';
import {
  CREATE_REGISTRATION_TOKEN_EXAMPLE,
  UPDATE_LICENSE_EXAMPLE,
  data,
  errorCodes,
  gql,
  providerIds,
  waitFor,
} from './helpers/simulator';

let sim: RunningSimulator;
let ids: Awaited<ReturnType<typeof providerIds>>;

const today = () => new Date().toISOString().slice(0, 10);
const daysFromToday = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);

beforeAll(async () => {
  sim = await startSimulator({ seed: 11, readingIntervalMs: 100, historyMs: 5_000 });
  ids = await providerIds(sim);
});

afterAll(() => sim.close());

const createToken = (variables: Record<string, unknown>) =>
  gql(sim, CREATE_REGISTRATION_TOKEN_EXAMPLE, {
    signingKeyId: ids.enabledKeyId,
    license: { poolId: ids.freePool.id, startDate: today() },
    ...variables,
  });

const redeemOverHttp = (body: unknown) =>
  fetch(sim.url.replace('/v1/query', '/sandbox/redeem'), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

const installationByExternalId = async (
  externalId: string,
  selection = `id externalId
    license { status startTime endTime term { period autoRenewal } pool { id } }
    meters { id number } currentDevice { id core { pinStatus } }`,
) =>
  (
    await data(
      sim,
      `query($ext: String) { provider { installation(externalId: $ext) { ${selection} } } }`,
      { ext: externalId },
    )
  ).provider.installation;

const poolUsage = async (poolId: string) =>
  (await data(sim, 'query($id: Uuid!) { provider { licensePool(id: $id) { usage } } }', { id: poolId })).provider
    .licensePool.usage;

describe('createRegistrationToken', () => {
  it('runs the reference example and returns valid URIs', async () => {
    const response = await createToken({
      installationId: '578936dc-8020-4022-a560-2f59d2dca9ee',
      externalId: 'abc123',
    });
    expect(response.body.errors).toBeUndefined();
    const token = response.body.data.createRegistrationToken;
    expect(token.installationId).toBe('578936dc-8020-4022-a560-2f59d2dca9ee');
    expect(token.token).toMatch(/^[A-Za-z0-9_-]{16,}$/);
    expect(token.qrCode).toBe(`${sim.url.replace('/v1/query', '')}/sandbox/qr/${token.token}`);
    expect(iometerScalars.Uri.parseValue(token.qrCode)).toBe(token.qrCode);
    expect(iometerScalars.Uri.parseValue(token.deeplink)).toBe(token.deeplink);
    expect(token.deeplink).toContain(token.token);

    const qr = await fetch(token.qrCode);
    expect(qr.status).toBe(200);
    expect(await qr.text()).toBe(token.deeplink);
  });

  it('keeps one installation id per externalId, before and after registration', async () => {
    const first = (await createToken({ externalId: 'same-ext' })).body.data.createRegistrationToken;
    const second = (await createToken({ externalId: 'same-ext' })).body.data.createRegistrationToken;
    expect(second.installationId).toBe(first.installationId);
    expect(second.token).not.toBe(first.token);

    const existing = await installationByExternalId('C-1004');
    const forExisting = (await createToken({ externalId: 'C-1004', installationId: '578936dc-8020-4022-a560-2f59d2dca9ef' }))
      .body.data.createRegistrationToken;
    expect(forExisting.installationId).toBe(existing.id);
  });

  it('generates a fresh id per new externalId when none is given', async () => {
    const a = (await createToken({ externalId: 'fresh-a' })).body.data.createRegistrationToken;
    const b = (await createToken({ externalId: 'fresh-b' })).body.data.createRegistrationToken;
    expect(a.installationId).not.toBe(b.installationId);
  });

  it('refuses an installation id that belongs to another externalId', async () => {
    const existing = await installationByExternalId('C-1005');
    const response = await createToken({ externalId: 'intruder', installationId: existing.id });
    expect(errorCodes(response)).toEqual(['BAD_USER_INPUT']);
    expect(response.body.errors?.[0].message).toContain('already belongs to another externalId');
  });

  it.each([
    ['a disabled signing key', () => ({ signingKeyId: ids.disabledKeyId }), 'BAD_USER_INPUT', /disabled/],
    ['an unknown signing key', () => ({ signingKeyId: '00000000-0000-4000-8000-000000000000' }), 'NOT_FOUND', /Signing key .* does not exist/],
    ['an unknown pool', () => ({ license: { poolId: '00000000-0000-4000-8000-000000000000', startDate: today() } }), 'NOT_FOUND', /License pool .* does not exist/],
    ['a full pool', () => ({ license: { poolId: ids.fullPool.id, startDate: today() } }), 'BAD_USER_INPUT', /no free licenses/],
    ['a start date in the past', () => ({ license: { poolId: ids.freePool.id, startDate: daysFromToday(-3) } }), 'BAD_USER_INPUT', /startDate .* is in the past/],
    ['an empty externalId', () => ({ externalId: '  ' }), 'BAD_USER_INPUT', /externalId must not be empty/],
  ])('rejects %s', async (_, variables, code, message) => {
    const response = await createToken({ externalId: 'rejected', ...variables() });
    expect(errorCodes(response)).toEqual([code]);
    expect(response.body.errors?.[0].message).toMatch(message);
    expect(response.body.data).toBeNull();
  });

  it('rejects an invalid calendar date through the Date scalar', async () => {
    const response = await createToken({ externalId: 'x', license: { poolId: ids.freePool.id, startDate: '2025-02-30' } });
    expect(response.body.errors?.[0].message).toContain('Date cannot represent "2025-02-30"');
  });
});

describe('registration through the app (POST /sandbox/redeem)', () => {
  it('creates the installation only when the token is redeemed, and consumes a license', async () => {
    const usageBefore = await poolUsage(ids.freePool.id);
    const token = (await createToken({ externalId: 'new-customer' })).body.data.createRegistrationToken;
    expect(await installationByExternalId('new-customer')).toBeNull();
    expect(await poolUsage(ids.freePool.id)).toBe(usageBefore);

    const response = await redeemOverHttp({ token: token.token });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ installationId: token.installationId });

    const installation = await installationByExternalId('new-customer');
    expect(installation).toMatchObject({ id: token.installationId, externalId: 'new-customer' });
    expect(installation.license).toMatchObject({
      status: 'active',
      startTime: `${today()}T00:00:00.000Z`,
      term: { period: ids.freePool.term.period },
      pool: { id: ids.freePool.id },
    });
    expect(installation.meters).toHaveLength(1);
    expect(installation.currentDevice.core.pinStatus).toBe('missing');
    expect(await poolUsage(ids.freePool.id)).toBe(usageBefore + 1);

    // Redeeming again changes nothing.
    expect(await sim.redeem(token.token)).toEqual({ installationId: token.installationId });
    expect(await poolUsage(ids.freePool.id)).toBe(usageBefore + 1);

    // And its meter starts producing readings.
    const latestOfNewMeter = async () =>
      (await installationByExternalId('new-customer', 'currentMeter { latestReadings { time } }')).currentMeter
        .latestReadings;
    await waitFor(async () => (await latestOfNewMeter()).length > 0);
  });

  it('gives a second token for the same externalId the same installation without another license', async () => {
    const first = (await createToken({ externalId: 'two-tokens' })).body.data.createRegistrationToken;
    const second = (await createToken({ externalId: 'two-tokens' })).body.data.createRegistrationToken;
    await sim.redeem(first.token);
    const usage = await poolUsage(ids.freePool.id);
    expect(await sim.redeem(second.token)).toEqual({ installationId: first.installationId });
    expect(await poolUsage(ids.freePool.id)).toBe(usage);
  });

  it('answers 409 when the pool ran out between token creation and redemption', async () => {
    const { provider } = await data(sim, '{ provider { licensePools { id size usage } } }');
    const pool = provider.licensePools.find((candidate: any) => candidate.id !== ids.freePool.id && candidate.usage < candidate.size);
    const free = pool.size - pool.usage;
    const tokens = [];
    for (let index = 0; index <= free; index++) {
      const response = await createToken({ externalId: `rush-${index}`, license: { poolId: pool.id, startDate: today() } });
      tokens.push(response.body.data.createRegistrationToken.token);
    }
    for (const token of tokens.slice(0, free)) await sim.redeem(token);
    const response = await redeemOverHttp({ token: tokens[free] });
    expect(response.status).toBe(409);
    expect((await response.json()).error).toMatch(/no free licenses/);
    expect(await installationByExternalId(`rush-${free}`)).toBeNull();
    expect(await poolUsage(pool.id)).toBe(pool.size);
  });

  it('answers 404 for an unknown token and 400 for a bad body', async () => {
    const unknown = await redeemOverHttp({ token: 'no-such-token' });
    expect(unknown.status).toBe(404);
    expect((await unknown.json()).error).toMatch(/Unknown registration token/);
    expect((await redeemOverHttp({ nope: true })).status).toBe(400);
    await expect(sim.redeem('no-such-token')).rejects.toMatchObject({ status: 404 });
  });

  it('answers 410 when the token was signed with a key that has since been disabled', async () => {
    const token = (await createToken({ externalId: 'voided' })).body.data.createRegistrationToken;
    sim.setSigningKeyEnabled(ids.enabledKeyId, false);
    try {
      const response = await redeemOverHttp({ token: token.token });
      expect(response.status).toBe(410);
      expect((await response.json()).error).toMatch(/signing key .* is disabled/);
      expect(await installationByExternalId('voided')).toBeNull();
    } finally {
      sim.setSigningKeyEnabled(ids.enabledKeyId, true);
    }
  });
});

describe('updateLicense', () => {
  const update = (variables: Record<string, unknown>) => gql(sim, UPDATE_LICENSE_EXAMPLE, variables);

  it('runs the reference example with setTerm, recomputing the end in calendar months', async () => {
    const installation = await installationByExternalId('C-1006');
    const response = await update({ installationId: installation.id, setTerm: { period: 13, autoRenewal: true } });
    expect(response.body.errors).toBeUndefined();
    const license = response.body.data.updateLicense;
    expect(license.term).toEqual({ period: 13, autoRenewal: true });
    expect(license.startTime).toBe(installation.license.startTime);
    const start = new Date(license.startTime);
    const expectedEnd = new Date(start);
    expectedEnd.setUTCMonth(start.getUTCMonth() + 13);
    if (expectedEnd.getUTCDate() !== start.getUTCDate()) expectedEnd.setUTCDate(0);
    expect(license.endTime).toBe(expectedEnd.toISOString());
    expect(license.pool.id).toBe(installation.license.pool.id);
  });

  it('setEndTime removes the term and decides the status', async () => {
    const installation = await installationByExternalId('C-1008');
    const past = new Date(Date.now() - 60_000).toISOString();
    const expired = (await update({ installationId: installation.id, setEndTime: { endTime: past } })).body.data
      .updateLicense;
    expect(expired).toMatchObject({ term: null, endTime: past, status: 'expired' });

    const future = '2099-01-01T00:00:00.000Z';
    const active = (await update({ installationId: installation.id, setEndTime: { endTime: future } })).body.data
      .updateLicense;
    expect(active).toMatchObject({ term: null, endTime: future, status: 'active' });
    expect((await installationByExternalId('C-1008')).license).toMatchObject({ term: null, endTime: future });
  });

  it('keeps a license that has not started inactive', async () => {
    const installation = await installationByExternalId('C-1001');
    expect(installation.license.status).toBe('inactive');
    const license = (await update({ installationId: installation.id, setTerm: { period: 1, autoRenewal: false } })).body
      .data.updateLicense;
    expect(license.status).toBe('inactive');
  });

  it.each([
    ['neither', {}],
    ['both', { setTerm: { period: 12, autoRenewal: false }, setEndTime: { endTime: '2099-01-01T00:00:00Z' } }],
  ])('requires exactly one of setTerm/setEndTime (%s)', async (_, variables) => {
    const installation = await installationByExternalId('C-1002');
    const response = await update({ installationId: installation.id, ...variables });
    expect(errorCodes(response)).toEqual(['BAD_USER_INPUT']);
    expect(response.body.errors?.[0].message).toContain('exactly one of setTerm or setEndTime');
  });

  it.each([0, -1, 5_000])('rejects a period of %p months', async (period) => {
    const installation = await installationByExternalId('C-1002');
    const response = await update({ installationId: installation.id, setTerm: { period, autoRenewal: false } });
    expect(errorCodes(response)).toEqual(['BAD_USER_INPUT']);
  });

  it('rejects an end time before the start', async () => {
    const installation = await installationByExternalId('C-1002');
    const response = await update({ installationId: installation.id, setEndTime: { endTime: '2000-01-01T00:00:00Z' } });
    expect(errorCodes(response)).toEqual(['BAD_USER_INPUT']);
    expect(response.body.errors?.[0].message).toContain('must be after the license start time');
  });

  it('answers NOT_FOUND for an unknown installation', async () => {
    const response = await update({
      installationId: '00000000-0000-4000-8000-000000000000',
      setTerm: { period: 12, autoRenewal: false },
    });
    expect(errorCodes(response)).toEqual(['NOT_FOUND']);
  });

  it('rejects the reference example timestamp with hour 24', async () => {
    const installation = await installationByExternalId('C-1002');
    const response = await update({ installationId: installation.id, setEndTime: { endTime: '2024-12-31T24:30:15Z' } });
    expect(response.body.errors?.[0].message).toContain('DateTime cannot represent "2024-12-31T24:30:15Z"');
  });
});
