import { ClientQueue } from '../src/subscriptions/clientQueue';
import { DedupWindow } from '../src/subscriptions/dedup';
import { FanoutIndex } from '../src/subscriptions/fanout';
import { obisCodeSet, toHubReading, toReadingPayloads, type MeterReading } from '../src/subscriptions/payload';
import { isAfter, parsePosition } from '../src/subscriptions/positions';
import { RecentReadings } from '../src/subscriptions/recentReadings';

const reading = (overrides: Partial<MeterReading> = {}): MeterReading => ({
  meter: { id: 'm-1', number: '1EMH0007058153' },
  installation: { id: 'i-1', externalId: 'C-1001' },
  time: '2024-12-31T23:30:15.000Z',
  receiveTime: '2024-12-31T23:30:15.400Z',
  values: [
    { obisCode: '1-0:1.8.0', value: 987.6, unit: 'Wh' },
    { obisCode: '1-0:16.7.0', value: 420, unit: 'W' },
  ],
  ...overrides,
});

describe('DedupWindow', () => {
  it('admits a reading once and drops its repeats', () => {
    const window = new DedupWindow(1_000);
    expect(window.admit('m@1', 10)).toBe(true);
    expect(window.admit('m@1', 10)).toBe(false);
    expect(window.admit('m@2', 10)).toBe(true);
  });

  it('treats a reading received before the window as already seen', () => {
    const window = new DedupWindow(1_000);
    window.admit('m@1', 5_000);
    expect(window.admit('m@0', 3_999)).toBe(false);
    expect(window.admit('m@0b', 4_000)).toBe(true);
  });

  it('keeps memory bounded by the window, not by how many readings passed', () => {
    const window = new DedupWindow(1_000);
    // 100 readings/s for 100 s.
    for (let ms = 0; ms < 100_000; ms += 10) window.admit(`m@${ms}`, ms);
    expect(window.size).toBeLessThanOrEqual(102);
    // What is still inside the window is still recognised.
    expect(window.admit('m@99500', 99_500)).toBe(false);
  });
});

describe('ClientQueue', () => {
  it('hands pushed items to a waiting consumer, in order', async () => {
    const queue = new ClientQueue<number>(10, 1_000, () => undefined);
    const first = queue.next();
    queue.push(1);
    queue.push(2);
    await expect(first).resolves.toEqual({ value: 1, done: false });
    await expect(queue.next()).resolves.toEqual({ value: 2, done: false });
  });

  it('return() ends a waiting consumer at once and reports the stop exactly once', async () => {
    const onStop = jest.fn();
    const queue = new ClientQueue<number>(10, 1_000, onStop);
    const waiting = queue.next();
    await queue.return();
    await queue.return();
    await expect(waiting).resolves.toEqual({ value: undefined, done: true });
    expect(onStop).toHaveBeenCalledTimes(1);
    expect(queue.push(1)).toBe(true);
    await expect(queue.next()).resolves.toEqual({ value: undefined, done: true });
  });

  it('fail() rejects the next next() once, drops what was queued, then the iterator is done', async () => {
    const onStop = jest.fn();
    const queue = new ClientQueue<number>(10, 1_000, onStop);
    queue.push(1);
    queue.fail(new Error('gone'));
    await expect(queue.next()).rejects.toThrow('gone');
    await expect(queue.next()).resolves.toEqual({ value: undefined, done: true });
    expect(onStop).toHaveBeenCalledTimes(1);
  });

  it('tolerates a burst over the limit, but not staying over it', () => {
    jest.useFakeTimers({ now: 0 });
    try {
      const queue = new ClientQueue<number>(3, 500, () => undefined);
      for (let item = 0; item < 10; item++) expect(queue.push(item)).toBe(true);
      jest.setSystemTime(400);
      expect(queue.push(10)).toBe(true);
      // Draining below the limit resets the clock.
      for (let item = 0; item < 9; item++) void queue.next();
      jest.setSystemTime(1_000);
      for (let item = 0; item < 3; item++) expect(queue.push(item)).toBe(true);
      jest.setSystemTime(1_600);
      expect(queue.push(3)).toBe(false);
    } finally {
      jest.useRealTimers();
    }
  });

  it('lets a producer wait for room', async () => {
    const queue = new ClientQueue<number>(2, 1_000, () => undefined);
    queue.push(1);
    queue.push(2);
    expect(queue.hasRoomFor(1)).toBe(false);
    const drained = queue.drained();
    await queue.next();
    await drained;
    expect(queue.hasRoomFor(1)).toBe(true);
  });
});

describe('FanoutIndex', () => {
  it('routes a reading to its installation and to the all-installations clients only', () => {
    const index = new FanoutIndex<string>();
    index.add(undefined, 'staff');
    index.add('C-1', 'alice');
    index.add('C-2', 'bob');
    expect([...index.matching('C-1')].sort()).toEqual(['alice', 'staff']);
    expect([...index.matching(null)]).toEqual(['staff']);
    expect(index.size).toBe(3);

    index.remove('C-1', 'alice');
    index.remove('C-1', 'alice');
    expect([...index.matching('C-1')]).toEqual(['staff']);
    expect(index.size).toBe(2);
    expect(index.all().sort()).toEqual(['bob', 'staff']);
  });

  it('survives clients leaving while a reading is being routed', () => {
    const index = new FanoutIndex<string>();
    ['a', 'b', 'c'].forEach((client) => index.add(undefined, client));
    const seen: string[] = [];
    for (const client of index.matching('C-1')) {
      seen.push(client);
      index.remove(undefined, 'b');
    }
    expect(seen).toEqual(['a', 'c']);
  });
});

describe('payloads', () => {
  it('builds the MeterReading payload with obisCode as a function of its format argument', () => {
    const hub = toHubReading(reading())!;
    expect(hub.key).toBe(`m-1@${Date.parse('2024-12-31T23:30:15.000Z')}`);
    expect(hub.externalId).toBe('C-1001');
    expect(hub.payload).toMatchObject({
      meter: { id: 'm-1', number: '1EMH0007058153' },
      installation: { id: 'i-1', externalId: 'C-1001' },
      time: '2024-12-31T23:30:15.000Z',
      receiveTime: '2024-12-31T23:30:15.400Z',
    });
    const [energy] = hub.payload.values;
    expect(energy.obisCode({})).toBe('1-0:1.8.0');
    expect(energy.obisCode({ format: null })).toBe('1-0:1.8.0');
    expect(energy.obisCode({ format: 'hex' })).toBe('01-00:01.08.00*ff');
  });

  it('keys one instant the same however it is spelled', () => {
    expect(toHubReading(reading({ time: '2024-12-31T23:30:15Z' }))!.key).toBe(
      toHubReading(reading({ time: '2024-12-31T23:30:15.000+00:00' }))!.key,
    );
  });

  it('skips a reading it cannot key', () => {
    expect(toHubReading(reading({ time: 'soon' }))).toBeUndefined();
    expect(toHubReading(reading({ meter: undefined as never }))).toBeUndefined();
  });

  it('turns a MeterReading into per-value Readings, filtered by normalized OBIS code', () => {
    const hubReading = toHubReading(reading())!;
    const power = toReadingPayloads(hubReading, obisCodeSet(['01-00:10.07.00*FF']));
    expect(power).toHaveLength(1);
    expect(power[0]).toMatchObject({ meter: { id: hubReading.payload.meter.id, number: hubReading.payload.meter.number }, time: hubReading.payload.time, value: 420, unit: 'W' });
    expect(power[0].obisCode({ format: 'hex' })).toBe('01-00:10.07.00*ff');
    expect(toReadingPayloads(hubReading, obisCodeSet([]))).toHaveLength(2);
    expect(toReadingPayloads(hubReading)).toHaveLength(2);
    expect(toReadingPayloads(hubReading, obisCodeSet(['1-0:2.8.0']))).toEqual([]);
  });

  it('rejects an OBIS filter entry that is not an OBIS code', () => {
    expect(() => obisCodeSet(['1-0:1.8'])).toThrow(expect.objectContaining({ extensions: { code: 'BAD_USER_INPUT' } }));
  });
});

describe('RecentReadings', () => {
  const at = (second: number) =>
    toHubReading(reading({ time: new Date(Date.UTC(2025, 0, 1, 0, 0, second)).toISOString(), receiveTime: new Date(Date.UTC(2025, 0, 1, 0, 0, second, 500)).toISOString() }))!;
  const evicted = () => new Error('evicted');

  it('resumes exactly after a retained position, and not after a position of another hub', () => {
    const recent = new RecentReadings(10, 60_000);
    const positions = [1, 2, 3, 4].map((second) => recent.add(at(second)));
    const seq = recent.retainedSeq(positions[1]!)!;
    expect([...recent.rounds(seq, evicted)()].map((each) => each.payload.time)).toEqual([at(3).payload.time, at(4).payload.time]);
    expect(new RecentReadings(10, 60_000).retainedSeq(positions[1]!)).toBeUndefined();
    expect(parsePosition(positions[1]!)?.receiveMs).toBe(at(2).receiveMs);
  });

  it('forgets beyond its size and age, and a round that lost readings throws instead of skipping them', () => {
    const recent = new RecentReadings(3, 60_000);
    const first = recent.add(at(1));
    const seq = recent.retainedSeq(first)!;
    const round = recent.rounds(seq, evicted);
    for (const second of [2, 3, 4, 5]) recent.add(at(second));
    expect(recent.retainedSeq(first)).toBeUndefined();
    expect(() => [...round()]).toThrow('evicted');

    const aging = new RecentReadings(100, 2_000);
    const old = aging.add(at(1));
    aging.add(at(10));
    expect(aging.retainedSeq(old)).toBeUndefined();
  });

  it('stays exact while full: every retained position resumes with the readings after it, however many were evicted before', () => {
    const recent = new RecentReadings(4, 60_000);
    const positions = Array.from({ length: 11 }, (_, n) => recent.add(at(n + 1)));
    expect(positions.slice(0, 7).map((position) => recent.retainedSeq(position))).toEqual(Array(7).fill(undefined));
    for (const [n, position] of positions.entries()) {
      if (n < 7) continue;
      const times = [...recent.rounds(recent.retainedSeq(position)!, evicted)()].map((each) => each.payload.time);
      expect(times).toEqual(positions.slice(n + 1).map((_, k) => at(n + 2 + k).payload.time));
    }
  });
});

describe('positions', () => {
  it('orders places within a source, stream entry ids numerically, and calls other sources later', () => {
    const position = parsePosition('1700000000000.s.1700000000000-9')!;
    expect(isAfter('1700000000001.s.1700000000000-10', position)).toBe(true);
    expect(isAfter('1700000000000.s.1700000000000-9', position)).toBe(false);
    expect(isAfter('1699999999999.s.999999999999-99', position)).toBe(false);
    expect(isAfter('1700000000000.a1b2c3d4.7', position)).toBe(true);
    expect(isAfter(undefined, position)).toBe(true);
    expect(parsePosition('not a position')).toBeUndefined();
  });
});
