import { startSimulator, type RunningSimulator } from '../src/simulator';
import {
  PROVIDER_EXAMPLE,
  basicAuth,
  data,
  errorCodes,
  gql,
  providerIds,
  simulatorAuth,
} from './helpers/simulator';

let sim: RunningSimulator;

beforeAll(async () => {
  sim = await startSimulator({ seed: 7, readingIntervalMs: 200, historyMs: 60_000 });
});

afterAll(() => sim.close());

describe('startSimulator', () => {
  it.each([{ readingIntervalMs: 0 }, { installations: 0 }, { duplicateRate: 1.5 }, { historyMs: 2 * 86_400_000 }])(
    'refuses invalid options %p',
    async (options) => {
      await expect(startSimulator(options)).rejects.toThrow('Invalid simulator options');
    },
  );

  it('reports where it listens', () => {
    expect(sim.url).toBe(`http://127.0.0.1:${sim.port}/v1/query`);
    expect(sim.wsUrl).toBe(`ws://127.0.0.1:${sim.port}/v1/query`);
    expect(sim.provider.id).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('HTTP authentication', () => {
  it('rejects a request without Authorization with 401, WWW-Authenticate and a GraphQL error body', async () => {
    const response = await gql(sim, '{ provider { id } }', undefined, null);
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/^Basic/);
    expect(response.body.data).toBeUndefined();
    expect(errorCodes(response)).toEqual(['UNAUTHENTICATED']);
  });

  it.each([
    ['a wrong secret', basicAuth('sandbox-token', 'wrong')],
    ['a wrong token', basicAuth('wrong', 'sandbox-secret')],
    ['a non-Basic scheme', 'Bearer sandbox-token:sandbox-secret'],
    ['garbage', 'Basic !!!'],
  ])('rejects %s with 401', async (_, authorization) => {
    const response = await gql(sim, '{ provider { id } }', undefined, authorization);
    expect(response.status).toBe(401);
    expect(errorCodes(response)).toEqual(['UNAUTHENTICATED']);
  });

  it('never echoes the secret', async () => {
    const response = await gql(sim, '{ provider { id } }', undefined, basicAuth(sim.token, 'wrong'));
    expect(JSON.stringify(response.body)).not.toContain(sim.secret);
  });

  it('serves authenticated requests and records what it saw', async () => {
    sim.resetStats();
    const response = await gql(sim, '{ provider { id name } }');
    expect(response.status).toBe(200);
    expect(response.body.data.provider).toEqual(sim.provider);
    await gql(sim, '{ provider { id } }', undefined, null);
    expect(sim.stats.graphqlRequests).toBe(1);
    expect(sim.stats.authorizationHeaders).toEqual([simulatorAuth(sim)]);
  });

  it('answers /healthz without credentials', async () => {
    const response = await fetch(sim.url.replace('/v1/query', '/healthz'));
    expect(response.status).toBe(200);
  });
});

describe('the reference example `query Provider`', () => {
  it('returns the whole provider graph', async () => {
    const { enabledKeyId, freePool } = await providerIds(sim);
    const { provider } = await data(sim, PROVIDER_EXAMPLE, {
      installationExternalId: 'C-1003',
      signingKeyId: enabledKeyId,
      licensePoolId: freePool.id,
    });
    expect(provider.id).toBe(sim.provider.id);
    expect(provider.installations).toHaveLength(25);
    expect(provider.installation.externalId).toBe('C-1003');
    expect(provider.installation).toEqual(provider.installations[2]);
    expect(provider.signingKey).toEqual({ id: enabledKeyId, name: 'Default', enabled: true });
    expect(provider.licensePool.id).toBe(freePool.id);
    expect(provider.readings.readings).toHaveLength(100);
    expect(typeof provider.readings.cursor).toBe('string');
  });
});

describe('seeded data', () => {
  const QUERY = `{
    provider {
      signingKeys { enabled }
      licensePools { id size usage term { period } }
      installations {
        externalId
        license { status term { period } endTime pool { id } }
        meters { id number }
        currentMeter { id }
        devices { id }
        currentDevice {
          id localHttpPushStatus bridge { connectionStatus }
          core { connectionStatus attachmentStatus batteryLevel powerStatus pinStatus }
        }
      }
    }
  }`;
  let provider: any;
  beforeAll(async () => {
    provider = (await data(sim, QUERY)).provider;
  });

  it('numbers installations C-1001 … C-1025', () => {
    expect(provider.installations.map((installation: any) => installation.externalId)).toEqual(
      Array.from({ length: 25 }, (_, index) => `C-${1001 + index}`),
    );
  });

  it('uses realistic, unique meter numbers and makes the newest meter current', () => {
    const meters = provider.installations.flatMap((installation: any) => installation.meters);
    for (const meter of meters) expect(meter.number).toMatch(/^1[A-Z]{3}\d{10}$/);
    expect(new Set(meters.map((meter: any) => meter.number)).size).toBe(meters.length);
    const exchanged = provider.installations.filter((installation: any) => installation.meters.length === 2);
    expect(exchanged.length).toBeGreaterThan(0);
    for (const installation of provider.installations) {
      expect(installation.currentMeter.id).toBe(installation.meters.at(-1).id);
      expect(installation.currentDevice.id).toBe(installation.devices.at(-1).id);
    }
  });

  it('covers every device status', () => {
    const devices = provider.installations.map((installation: any) => installation.currentDevice);
    const seen = (pick: (device: any) => unknown) => new Set(devices.map(pick));
    expect(seen((device) => device.core.powerStatus)).toEqual(new Set(['battery', 'wired']));
    expect(seen((device) => device.bridge.connectionStatus)).toEqual(new Set(['connected', 'disconnected']));
    expect(seen((device) => device.core.connectionStatus)).toEqual(new Set(['connected', 'disconnected']));
    expect(seen((device) => device.core.attachmentStatus)).toEqual(new Set(['attached', 'detached']));
    expect(seen((device) => device.core.pinStatus)).toEqual(new Set(['missing', 'pending', 'entered']));
    expect(seen((device) => device.localHttpPushStatus)).toEqual(new Set(['disabled', 'enabled', 'error']));
    for (const device of devices) {
      expect(device.core.batteryLevel).toBeGreaterThanOrEqual(0);
      expect(device.core.batteryLevel).toBeLessThanOrEqual(100);
    }
    expect(Math.min(...devices.map((device: any) => device.core.batteryLevel))).toBeLessThan(10);
  });

  it('has licenses in every status, pools with and without room, and a disabled key', () => {
    const statuses = provider.installations.map((installation: any) => installation.license.status);
    expect(new Set(statuses)).toEqual(new Set(['inactive', 'active', 'expired']));
    expect(provider.installations.some((installation: any) => installation.license.term === null)).toBe(true);
    expect(provider.licensePools.some((pool: any) => pool.usage < pool.size)).toBe(true);
    expect(provider.licensePools.some((pool: any) => pool.usage === pool.size)).toBe(true);
    expect(provider.signingKeys.map((key: any) => key.enabled).sort()).toEqual([false, true]);
    for (const pool of provider.licensePools) {
      const used = provider.installations.filter((installation: any) => installation.license.pool.id === pool.id);
      expect(pool.usage).toBe(used.length);
    }
  });
});

describe('Provider.installations pagination', () => {
  const page = (pagination: unknown) =>
    gql(sim, 'query($p: Pagination) { provider { installations(pagination: $p) { externalId } } }', { p: pagination });

  it('returns all installations without pagination and slices with offset/limit', async () => {
    expect((await page(null)).body.data.provider.installations).toHaveLength(25);
    const slice = (await page({ offset: 5, limit: 3 })).body.data.provider.installations;
    expect(slice.map((installation: any) => installation.externalId)).toEqual(['C-1006', 'C-1007', 'C-1008']);
    expect((await page({ offset: 24 })).body.data.provider.installations).toHaveLength(1);
    expect((await page({ offset: 100, limit: 10 })).body.data.provider.installations).toEqual([]);
  });

  it.each([{ offset: -1 }, { limit: 0 }, { limit: 101 }])('rejects %p with BAD_USER_INPUT', async (pagination) => {
    const response = await page(pagination);
    expect(errorCodes(response)).toEqual(['BAD_USER_INPUT']);
    expect(response.body.errors?.[0].message).toMatch(/pagination\.(offset|limit)/);
  });
});

describe('Provider.installation', () => {
  const find = (variables: Record<string, unknown>) =>
    gql(sim, 'query($id: Uuid, $ext: String) { provider { installation(id: $id, externalId: $ext) { id externalId } } }', variables);

  it('finds by id or by externalId', async () => {
    const byExternalId = (await find({ ext: 'C-1010' })).body.data.provider.installation;
    expect(byExternalId.externalId).toBe('C-1010');
    const byId = (await find({ id: byExternalId.id.toUpperCase() })).body.data.provider.installation;
    expect(byId).toEqual(byExternalId);
  });

  it('returns null for unknown installations', async () => {
    expect((await find({ ext: 'C-9999' })).body.data.provider.installation).toBeNull();
    expect((await find({ id: '00000000-0000-4000-8000-000000000000' })).body.data.provider.installation).toBeNull();
  });

  it.each([[{}], [{ id: '00000000-0000-4000-8000-000000000000', ext: 'C-1001' }]])(
    'requires exactly one of id or externalId (%p)',
    async (variables) => {
      const response = await find(variables);
      expect(errorCodes(response)).toEqual(['BAD_USER_INPUT']);
      expect(response.body.errors?.[0].message).toContain('exactly one of id or externalId');
    },
  );

  it('rejects a malformed id through the Uuid scalar with 400 BAD_USER_INPUT', async () => {
    const response = await find({ id: 'abc' });
    expect(response.status).toBe(400);
    expect(errorCodes(response)).toEqual(['BAD_USER_INPUT']);
    expect(response.body.errors?.[0].message).toContain('Uuid cannot represent "abc"');
  });
});

describe('signing keys and license pools by id', () => {
  it('returns null for unknown ids', async () => {
    const { provider } = await data(
      sim,
      `{ provider {
        signingKey(id: "00000000-0000-4000-8000-000000000000") { id }
        licensePool(id: "00000000-0000-4000-8000-000000000000") { id }
      } }`,
    );
    expect(provider).toEqual({ signingKey: null, licensePool: null });
  });
});

describe('Provider.readings', () => {
  const READINGS = `query($startTime: DateTime, $limit: Int, $cursor: String) {
    provider { readings(startTime: $startTime, limit: $limit, cursor: $cursor) {
      cursor
      readings { meter { id number } installation { id externalId } time receiveTime values { obisCode value unit } }
    } }
  }`;
  const readings = async (variables: Record<string, unknown>) =>
    (await data(sim, READINGS, variables)).provider.readings;

  it('defaults to 100 readings ordered by receive time', async () => {
    const page = await readings({});
    expect(page.readings).toHaveLength(100);
    const receiveTimes = page.readings.map((reading: any) => Date.parse(reading.receiveTime));
    expect(receiveTimes).toEqual([...receiveTimes].sort((a, b) => a - b));
    for (const reading of page.readings) {
      const delay = Date.parse(reading.receiveTime) - Date.parse(reading.time);
      expect(delay).toBeGreaterThanOrEqual(50);
      expect(delay).toBeLessThanOrEqual(900);
    }
  });

  it('pages with the cursor without gaps or repeats, ending with a null cursor', async () => {
    const startTime = new Date(Date.now() - 20_000).toISOString();
    const pages = [await readings({ startTime, limit: 100 })];
    while (pages.at(-1).cursor) pages.push(await readings({ startTime, limit: 100, cursor: pages.at(-1).cursor }));
    const all = pages.flatMap((page) => page.readings);
    expect(pages.length).toBeGreaterThan(1);
    expect(pages.at(-1).cursor).toBeNull();
    const keys = all.map((reading: any) => `${reading.meter.id}@${reading.time}`);
    expect(new Set(keys).size).toBe(keys.length);
    for (const reading of all) expect(Date.parse(reading.receiveTime)).toBeGreaterThanOrEqual(Date.parse(startTime));
    // 25 meters, one reading per 200 ms, over roughly 20 s.
    expect(all.length).toBeGreaterThan(25 * 5 * 18);
  });

  it('returns a null cursor when everything fits', async () => {
    const page = await readings({ startTime: new Date(Date.now() + 60_000).toISOString(), limit: 1 });
    expect(page).toEqual({ readings: [], cursor: null });
  });

  it('produces plausible OBIS values', async () => {
    const page = await readings({ limit: 100 });
    for (const reading of page.readings) {
      const byCode = Object.fromEntries(reading.values.map((value: any) => [value.obisCode, value]));
      expect(byCode['1-0:1.8.0']).toMatchObject({ unit: 'Wh' });
      expect(byCode['1-0:16.7.0']).toMatchObject({ unit: 'W' });
      expect(Math.abs(byCode['1-0:16.7.0'].value)).toBeLessThan(10_000);
      if (byCode['1-0:2.8.0']) expect(byCode['1-0:2.8.0'].unit).toBe('Wh');
    }
    const withExport = page.readings.filter((reading: any) => reading.values.some((value: any) => value.obisCode === '1-0:2.8.0'));
    expect(withExport.length).toBeGreaterThan(0);
    expect(withExport.length).toBeLessThan(page.readings.length);
  });

  it.each([0, 101, -5])('rejects limit %p with BAD_USER_INPUT', async (limit) => {
    const response = await gql(sim, READINGS, { limit });
    expect(errorCodes(response)).toEqual(['BAD_USER_INPUT']);
    expect(response.body.errors?.[0].message).toContain('limit must be between 1 and 100');
  });

  it.each(['not-a-cursor', 'eyJvZmZzZXQiOjEwfQ', Buffer.from('r1:1:2:nope').toString('base64url'), ''])(
    'rejects the malformed or foreign cursor %p with BAD_USER_INPUT',
    async (cursor) => {
      const response = await gql(sim, READINGS, { cursor });
      expect(errorCodes(response)).toEqual(['BAD_USER_INPUT']);
      expect(response.body.errors?.[0].message).toMatch(/cursor/i);
    },
  );
});

describe('meters', () => {
  it('report the latest reading for each OBIS code, in either format', async () => {
    const { provider } = await data(
      sim,
      `{ provider { installations { meters {
        id
        dec: latestReadings { time obisCode value unit meter { id } }
        hex: latestReadings { obisCode(format: hex) }
      } } } }`,
    );
    const meters = provider.installations.flatMap((installation: any) => installation.meters);
    for (const meter of meters) {
      expect(meter.dec.length).toBeGreaterThanOrEqual(2);
      expect(new Set(meter.dec.map((reading: any) => reading.time)).size).toBe(1);
      for (const reading of meter.dec) expect(reading.meter.id).toBe(meter.id);
      expect(meter.dec.map((reading: any) => reading.obisCode)).toContain('1-0:1.8.0');
      expect(meter.hex.map((reading: any) => reading.obisCode)).toContain('01-00:01.08.00*ff');
      expect(meter.hex.map((reading: any) => reading.obisCode)).toContain('01-00:10.07.00*ff');
    }
    // A retired meter's latest reading is from before its exchange, long before the current one's.
    const exchanged = provider.installations.find((installation: any) => installation.meters.length === 2);
    const [retired, current] = exchanged.meters;
    expect(Date.parse(retired.dec[0].time)).toBeLessThan(Date.parse(current.dec[0].time) - 86_400_000);
  });

  it('converts MeterReadingValue.obisCode to hex and keeps dec as the default', async () => {
    const { provider } = await data(
      sim,
      `{ provider { readings(limit: 1) { readings { values { dec: obisCode hex: obisCode(format: hex) explicit: obisCode(format: dec) } } } } }`,
    );
    const values = provider.readings.readings[0].values;
    for (const value of values) {
      expect(value.explicit).toBe(value.dec);
      expect(value.hex).toMatch(/^[0-9a-f]{2}-[0-9a-f]{2}:[0-9a-f]{2}\.[0-9a-f]{2}\.[0-9a-f]{2}\*ff$/);
    }
    expect(values.map((value: any) => [value.dec, value.hex])).toContainEqual(['1-0:16.7.0', '01-00:10.07.00*ff']);
  });
});
