import type { SimulatorConfig } from '../config';
import { ReadingFeed } from './feed';
import { ReadingGenerator } from './generator';
import { createRandom } from './random';
import { ReadingStore } from './readingStore';
import { Registrations } from './registrations';
import { seedWorld } from './seed';
import type { SimulatorStats } from './stats';
import type { World } from './world';

/** Everything the API operates on; the GraphQL context carries one of these. */
export interface Simulation {
  world: World;
  store: ReadingStore;
  feed: ReadingFeed;
  registrations: Registrations;
  stats: SimulatorStats;
  clock: () => number;
  stop(): void;
}

export type SimulationConfig = Pick<
  SimulatorConfig,
  'seed' | 'installations' | 'readingIntervalMs' | 'readingSchedule' | 'duplicateRate' | 'historyMs'
>;

/** Seeds the world, backfills history and starts producing readings. */
export function createSimulation(config: SimulationConfig, stats: SimulatorStats, origin: string): Simulation {
  const clock = Date.now;
  const world = seedWorld(config, clock());
  const store = new ReadingStore();
  const feed = new ReadingFeed();
  const generator = new ReadingGenerator(world, store, feed, config, clock);
  generator.start();
  return {
    world,
    store,
    feed,
    registrations: new Registrations(world, createRandom(`${config.seed}:registrations`), clock, origin),
    stats,
    clock,
    stop: () => generator.stop(),
  };
}
