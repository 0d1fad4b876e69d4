import { createLocalAlertBus } from '../src/alerts/bus';
import { UsageAlertEvaluator } from '../src/alerts/evaluator';
import { NO_RULES, type UsageAlertRules } from '../src/alerts/rules';
import type { AlertMessage, UsageAlert } from '../src/alerts/types';
import { createLogger } from '../src/logging/logger';
import type { MeterReading } from '../src/subscriptions';

/*
 * The rules the simulator cannot drive in a test's time: DAILY_ENERGY_ABOVE across a local midnight
 * and NO_READING after minutes of silence, on readings the test writes, with the evaluator's clock and
 * sweep timer under the test's control.
 */

const T0 = Date.parse('2026-12-07T22:00:00Z'); // 23:00 in Europe/Berlin

function reading(minutesAfterT0: number, importedWh: number, powerW = 500): MeterReading {
  const time = new Date(T0 + minutesAfterT0 * 60_000).toISOString();
  return {
    meter: { id: 'meter-1', number: '1ISK0000000001' },
    installation: { id: 'installation-1', externalId: 'C-1' },
    time,
    receiveTime: time,
    values: [
      { obisCode: '1-0:1.8.0', value: importedWh, unit: 'Wh' },
      { obisCode: '1-0:16.7.0', value: powerW, unit: 'W' },
    ],
  };
}

describe('UsageAlertEvaluator', () => {
  let now = T0;
  let alerts: UsageAlert[];
  let evaluator: UsageAlertEvaluator;

  async function start(rules: Partial<UsageAlertRules>): Promise<void> {
    const bus = createLocalAlertBus();
    alerts = [];
    bus.listen((message: AlertMessage) => {
      if (message.type === 'alert') alerts.push(message.alert);
    });
    const all = new Map([['C-1', { ...NO_RULES, ...rules }]]);
    evaluator = new UsageAlertEvaluator({
      store: { allRules: async () => all, rulesOf: async () => all.get('C-1')! },
      bus,
      timeZone: 'Europe/Berlin',
      logger: createLogger({ level: 'silent' }),
      now: () => now,
    });
    await evaluator.start();
  }

  beforeEach(() => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate'] });
    now = T0;
  });
  afterEach(async () => {
    await evaluator.close();
    jest.useRealTimers();
  });

  it('DAILY_ENERGY_ABOVE starts once the local day passes the threshold and ends with the next local day', async () => {
    await start({ dailyEnergyAboveKwh: 1 });
    evaluator.onReading(reading(0, 10_000));
    evaluator.onReading(reading(30, 10_900));
    expect(alerts).toEqual([]);
    evaluator.onReading(reading(45, 11_200)); // 1.2 kWh since 23:00 local
    evaluator.onReading(reading(50, 11_300)); // still over: no second start
    // 00:10 local: a new day.
    evaluator.onReading(reading(70, 11_400));
    expect(alerts.map(({ kind, state, value }) => [kind, state, value])).toEqual([
      ['DAILY_ENERGY_ABOVE', 'STARTED', 1.2],
      ['DAILY_ENERGY_ABOVE', 'ENDED', 0],
    ]);
  });

  it('skips repeated and older readings, so a repeat cannot end or start an alert', async () => {
    await start({ powerAboveW: 1_000 });
    evaluator.onReading(reading(0, 1, 1_500));
    evaluator.onReading(reading(1, 1, 100));
    evaluator.onReading(reading(0, 1, 1_500)); // IOmeter sent the first one again
    expect(alerts.map(({ state, value }) => [state, value])).toEqual([
      ['STARTED', 1_500],
      ['ENDED', 100],
    ]);
  });

  it('NO_READING starts after the given minutes of silence while the feed goes on, and ends with the next reading', async () => {
    await start({ noReadingForMinutes: 5 });
    evaluator.onReading(reading(0, 1));
    now = T0 + 4 * 60_000;
    jest.advanceTimersByTime(15_000);
    expect(alerts).toEqual([]);
    now = T0 + 6 * 60_000;
    // Other installations' readings keep the feed alive; this one stays silent.
    evaluator.onReading({ ...reading(6, 1), installation: { id: 'installation-2', externalId: 'C-2' } });
    jest.advanceTimersByTime(15_000);
    expect(alerts).toMatchObject([{ kind: 'NO_READING', state: 'STARTED', value: 6, threshold: 5 }]);
    evaluator.onReading(reading(7, 2));
    expect(alerts[1]).toMatchObject({ kind: 'NO_READING', state: 'ENDED', value: 7, threshold: 5 });
  });

  it('sweeps nothing while the whole feed is silent (an outage is no installation fault, and a replica that is not the leader is fed nothing)', async () => {
    await start({ noReadingForMinutes: 5 });
    evaluator.onReading(reading(0, 1));
    now = T0 + 10 * 60_000;
    jest.advanceTimersByTime(15_000);
    expect(alerts).toEqual([]);
  });
});
