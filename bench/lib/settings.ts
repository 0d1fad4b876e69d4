import { parseArgs } from 'node:util';

/**
 * The knobs every bench entry point shares, from flags and BENCH_* variables (docs/operations.md, "Benchmarks").
 * Smoke mode proves the harness works in seconds: short runs, a handful of subscribers; its figures
 * mean nothing.
 */
export interface BenchSettings {
  smoke: boolean;
  /** `--quick`: real figures at the smallest level only, 5 s runs; for a before/after while working. */
  quick: boolean;
  /** Marks the recorded results as taken on a busy machine, to be rerun (`--provisional`). */
  provisional: boolean;
  /** Seconds per measured run (BENCH_DURATION; default 10, smoke 1). */
  durationSeconds: number;
  /** Seconds of load (HTTP) or delivery (fan-out) before each measured run: JIT, pools, a cache entry, subscriptions reaching the hub. */
  warmUpSeconds: number;
  /** Fan-out subscriber counts (BENCH_SUBSCRIBERS, comma-separated). */
  subscriberLevels: number[];
  /** Customers on myReadings in the mobile-shaped fan-out (BENCH_MOBILE_CUSTOMERS; default 10,000, quick 1,000, smoke 20). */
  mobileCustomers: number;
  /** Staff subscribers of the throughput row, 20 readings/s each (BENCH_THROUGHPUT_SUBSCRIBERS; default 10,000, quick 1,000, smoke 20). */
  throughputSubscribers: number;
  /** Redis for the response cache and rate limit runs (BENCH_REDIS_URL, default redis://127.0.0.1:6379). */
  redisUrl: string;
  /** Seconds the fan-out gives subscribers to connect (BENCH_CONNECT_TIMEOUT, default 60). */
  connectTimeoutSeconds: number;
  /**
   * The fan-out simulator for N subscribers: SIMULATOR_INSTALLATIONS (5) readings at once every
   * SIMULATOR_READING_INTERVAL (default N/1000 s, so 5,000 deliveries/s at every level).
   */
  readingSimulatorEnv: (subscribers: number) => Record<string, string>;
}

const SMOKE_SUBSCRIBERS = [20];

export function readSettings(defaultSubscriberLevels: number[]): BenchSettings {
  const { values } = parseArgs({ options: { smoke: { type: 'boolean' }, quick: { type: 'boolean' }, provisional: { type: 'boolean' } } });
  const smoke = values.smoke === true || process.env.BENCH_SMOKE === '1';
  const quick = !smoke && values.quick === true;
  const number = (name: string, fallback: number) => {
    const value = Number(process.env[name] ?? fallback);
    if (!(value > 0)) throw new Error(`${name} must be a positive number, got ${process.env[name]}`);
    return value;
  };
  const levels =
    process.env.BENCH_SUBSCRIBERS?.split(',').map(Number) ?? (smoke ? SMOKE_SUBSCRIBERS : quick ? [Math.min(...defaultSubscriberLevels)] : defaultSubscriberLevels);
  if (levels.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`BENCH_SUBSCRIBERS must be positive integers, got ${process.env.BENCH_SUBSCRIBERS}`);
  return {
    smoke,
    quick,
    provisional: values.provisional === true,
    durationSeconds: number('BENCH_DURATION', smoke ? 1 : quick ? 5 : 10),
    warmUpSeconds: smoke ? 0.5 : 5,
    subscriberLevels: levels,
    mobileCustomers: number('BENCH_MOBILE_CUSTOMERS', smoke ? SMOKE_SUBSCRIBERS[0]! : quick ? 1000 : 10_000),
    throughputSubscribers: number('BENCH_THROUGHPUT_SUBSCRIBERS', smoke ? SMOKE_SUBSCRIBERS[0]! : quick ? 1000 : 10_000),
    redisUrl: process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379',
    connectTimeoutSeconds: number('BENCH_CONNECT_TIMEOUT', 60),
    readingSimulatorEnv: (subscribers) => ({
      SIMULATOR_INSTALLATIONS: process.env.SIMULATOR_INSTALLATIONS ?? '5',
      SIMULATOR_READING_INTERVAL: process.env.SIMULATOR_READING_INTERVAL ?? `${Math.max(subscribers, 10)}ms`,
      SIMULATOR_READING_SCHEDULE: 'aligned',
    }),
  };
}
