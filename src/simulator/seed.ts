import { createLoadProfile, createMeter } from './factories';
import { licenseFromTerm } from './licenses';
import type { Device, Installation, License, LicensePool } from './model';
import { createRandom, type Random } from './random';
import { addMonths, DAY_MS, HOUR_MS, startOfUtcDay } from './time';
import { World } from './world';

/**
 * The deterministic starting dataset. Variety is assigned by installation index (not only by
 * chance) so that every status combination the API documents shows up even in small worlds; the
 * seed decides the rest. Times are anchored to the start of the current UTC day, so two simulators
 * with the same seed started on the same day agree on every id, number and status.
 */

export interface SeedOptions {
  seed: number;
  installations: number;
}

interface Pools {
  standard: LicensePool;
  flex: LicensePool;
  pilot: LicensePool;
}

function createPools(random: Random): Pools {
  return {
    standard: { id: random.uuid(), name: 'Standard 24 Monate', size: 0, usage: 0, term: { period: 24, autoRenewal: true } },
    flex: { id: random.uuid(), name: 'Flex 12 Monate', size: 0, usage: 0, term: { period: 12, autoRenewal: false } },
    pilot: { id: random.uuid(), name: 'Pilot unbefristet', size: 0, usage: 0 },
  };
}

function createLicense(random: Random, index: number, pools: Pools, today: number): License {
  const daysAgo = (min: number, max: number) => today - random.int(min, max) * DAY_MS;
  const withTerm = (pool: LicensePool, startTime: number) => licenseFromTerm({ pool, term: pool.term, startTime });
  switch (index % 10) {
    case 0: // inactive: starts in the future
      return withTerm(pools.standard, today + random.int(1, 60) * DAY_MS);
    case 1: // expired at the end of its term
      return withTerm(pools.flex, addMonths(daysAgo(10, 200), -12));
    case 2: // expired at a hard end time
      return { pool: pools.pilot, startTime: daysAgo(300, 900), endTime: daysAgo(1, 90) };
    case 3: // unlimited
      return { pool: pools.pilot, startTime: daysAgo(30, 900) };
    case 6:
      return withTerm(pools.flex, daysAgo(0, 300));
    default:
      return withTerm(pools.standard, daysAgo(0, 700));
  }
}

function createSeededDevice(random: Random, index: number, current: boolean): Device {
  const wired = index % 3 === 0;
  return {
    id: random.uuid(),
    bridge: { connectionStatus: current && index % 8 !== 3 ? 'connected' : 'disconnected' },
    core: {
      connectionStatus: current && index % 6 !== 4 ? 'connected' : 'disconnected',
      attachmentStatus: current && index % 9 !== 7 ? 'attached' : 'detached',
      batteryLevel: wired ? 100 : index % 7 === 5 ? random.int(0, 9) : random.int(10, 100),
      powerStatus: wired ? 'wired' : 'battery',
      pinStatus: (['entered', 'entered', 'pending', 'missing'] as const)[index % 4],
    },
    localHttpPushStatus: (['enabled', 'disabled', 'disabled', 'error', 'enabled'] as const)[index % 5],
  };
}

function createInstallation(random: Random, world: World, index: number, pools: Pools, today: number): Installation {
  const installation: Installation = {
    id: random.uuid(),
    externalId: `C-${1001 + index}`,
    license: createLicense(random, index, pools, today),
    meters: [],
    devices: [],
    load: createLoadProfile(random),
  };
  const hoursIntoDay = () => random.int(6, 18) * HOUR_MS;
  // Every sixth installation had its meter exchanged, so it owns a retired and a current meter.
  if (index % 6 === 2) {
    const exchangedAt = today - random.int(3, 90) * DAY_MS + hoursIntoDay();
    const installedAt = exchangedAt - random.int(400, 1500) * DAY_MS;
    installation.meters.push(createMeter(random, world.meterNumbers, installation, installedAt, exchangedAt));
    installation.meters.push(createMeter(random, world.meterNumbers, installation, exchangedAt));
  } else {
    const installedAt = today - random.int(1, 1000) * DAY_MS + hoursIntoDay();
    installation.meters.push(createMeter(random, world.meterNumbers, installation, installedAt));
  }
  if (index % 5 === 1) installation.devices.push(createSeededDevice(random, index, false));
  installation.devices.push(createSeededDevice(random, index, true));
  return installation;
}

export function seedWorld(options: SeedOptions, now: number): World {
  const random = createRandom(`${options.seed}:world`);
  const today = startOfUtcDay(now);
  const provider = { id: random.uuid(), name: 'Stadtwerke Musterstadt (Simulator)' };
  const signingKeys = [
    { id: random.uuid(), name: 'Default', enabled: true },
    { id: random.uuid(), name: 'Rotated 2024', enabled: false },
  ];
  const pools = createPools(random);
  const world = new World(provider, signingKeys, [pools.standard, pools.flex, pools.pilot]);

  for (let index = 0; index < options.installations; index++) {
    const installation = createInstallation(random, world, index, pools, today);
    installation.license.pool.usage += 1;
    world.addInstallation(installation);
  }
  // Standard and flex have room for new registrations; pilot is exactly full.
  pools.standard.size = pools.standard.usage + 50;
  pools.flex.size = pools.flex.usage + 5;
  pools.pilot.size = pools.pilot.usage;
  return world;
}
