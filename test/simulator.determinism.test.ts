import { startSimulator, type RunningSimulator } from '../src/simulator';
import { OBIS_EXPORT, OBIS_IMPORT, OBIS_POWER, readingValues } from '../src/simulator/meterValues';
import type { Installation, Meter } from '../src/simulator/model';
import { data } from './helpers/simulator';

const SNAPSHOT = `{
  provider {
    id name
    signingKeys { id name enabled }
    licensePools { id name size usage term { period autoRenewal } }
    installations {
      id externalId
      license { status startTime endTime term { period autoRenewal } pool { id } }
      meters { id number }
      devices {
        id localHttpPushStatus bridge { connectionStatus }
        core { connectionStatus attachmentStatus batteryLevel powerStatus pinStatus }
      }
    }
  }
}`;

const READINGS = `query($s: DateTime) { provider { readings(startTime: $s, limit: 100) { readings {
  meter { id } time receiveTime values { obisCode value unit }
} } } }`;

describe('two simulators with the same seed', () => {
  let a: RunningSimulator;
  let b: RunningSimulator;
  let c: RunningSimulator;

  beforeAll(async () => {
    const options = { seed: 42, installations: 12, readingIntervalMs: 200, historyMs: 20_000 };
    [a, b, c] = await Promise.all([
      startSimulator(options),
      startSimulator(options),
      startSimulator({ ...options, seed: 43 }),
    ]);
  });

  afterAll(() => Promise.all([a, b, c].map((sim) => sim.close())));

  it('have the same provider, keys, pools, installations, meters, devices and licenses', async () => {
    const [first, second] = await Promise.all([data(a, SNAPSHOT), data(b, SNAPSHOT)]);
    expect(first.provider.installations).toHaveLength(12);
    expect(second).toEqual(first);
    expect(a.provider).toEqual(b.provider);
  });

  it('report the same readings, values and receive times', async () => {
    const startTime = new Date(Date.now() - 10_000).toISOString();
    const [first, second] = await Promise.all([data(a, READINGS, { s: startTime }), data(b, READINGS, { s: startTime })]);
    expect(first.provider.readings.readings).toHaveLength(100);
    expect(second.provider.readings.readings).toEqual(first.provider.readings.readings);
  });

  it('differ from a simulator with another seed', async () => {
    const [first, other] = await Promise.all([data(a, SNAPSHOT), data(c, SNAPSHOT)]);
    expect(other.provider.id).not.toBe(first.provider.id);
    const numbers = (snapshot: any) =>
      snapshot.provider.installations.flatMap((installation: any) => installation.meters.map((meter: any) => meter.number));
    expect(numbers(other)).not.toEqual(numbers(first));
    expect(other.provider.installations.map((i: any) => i.externalId)).toEqual(
      first.provider.installations.map((i: any) => i.externalId),
    );
  });
});

describe('reading values', () => {
  const HOUR = 3_600_000;
  // 2024-06-01, a day boundary in the simulator's local time (UTC+1).
  const localMidnight = Date.parse('2024-06-01T00:00:00+01:00');

  function meterWith(archetype: number): Meter {
    const installation = { load: { archetype, scale: 1 } } as Installation;
    return {
      id: `00000000-0000-4000-8000-00000000000${archetype}`,
      number: '1EMH0000000001',
      installation,
      activeFrom: localMidnight - 30 * 24 * HOUR,
      importOffsetWh: 1_000_000,
      exportOffsetWh: 50_000,
    };
  }
  const value = (meter: Meter, time: number, code: string) =>
    readingValues(meter, time).find((entry) => entry.obisCode === code)?.value;

  it('start the registers at the meter offsets', () => {
    const meter = meterWith(3);
    expect(value(meter, meter.activeFrom, OBIS_IMPORT)).toBe(1_000_000);
    expect(value(meter, meter.activeFrom, OBIS_EXPORT)).toBe(50_000);
  });

  it('keep registers monotonic and consistent with the power over a whole day', () => {
    for (const archetype of [0, 4]) {
      const meter = meterWith(archetype);
      let previousImport = -Infinity;
      let previousExport = -Infinity;
      for (let minute = 0; minute <= 24 * 60; minute += 7) {
        const time = localMidnight + minute * 60_000;
        const imported = value(meter, time, OBIS_IMPORT)!;
        const exported = value(meter, time, OBIS_EXPORT) ?? 0;
        expect(imported).toBeGreaterThanOrEqual(previousImport);
        expect(exported).toBeGreaterThanOrEqual(previousExport);
        previousImport = imported;
        previousExport = exported;
      }
      // Net energy over an hour matches the average instantaneous power within the noise.
      const start = localMidnight + 19 * HOUR;
      const net = (time: number) => value(meter, time, OBIS_IMPORT)! - (value(meter, time, OBIS_EXPORT) ?? 0);
      let powerSum = 0;
      for (let second = 0; second < 3_600; second += 10) powerSum += value(meter, start + second * 1_000, OBIS_POWER)!;
      expect(net(start + HOUR) - net(start)).toBeCloseTo(powerSum / 360, -1);
    }
  });

  it('follow a daily curve: PV households export at noon and import at night', () => {
    const pv = meterWith(4);
    const noon = localMidnight + 13 * HOUR;
    const night = localMidnight + 3 * HOUR;
    expect(value(pv, noon, OBIS_POWER)).toBeLessThan(0);
    expect(value(pv, night, OBIS_POWER)).toBeGreaterThan(0);
    expect(value(pv, noon + HOUR, OBIS_EXPORT)! - value(pv, noon, OBIS_EXPORT)!).toBeGreaterThan(1_000);

    const noPv = meterWith(1);
    expect(value(noPv, noon, OBIS_EXPORT)).toBeUndefined();
    expect(value(noPv, noon, OBIS_POWER)).toBeGreaterThan(0);
    expect(value(noPv, localMidnight + 19.5 * HOUR, OBIS_POWER)).toBeGreaterThan(value(noPv, night, OBIS_POWER)!);
  });

  it('are a pure function of meter and time', () => {
    const meter = meterWith(3);
    const time = localMidnight + 10 * HOUR + 123;
    expect(readingValues(meter, time)).toEqual(readingValues(meter, time));
  });
});
