/**
 * Deterministic randomness. Everything the simulator invents (ids, meter numbers, statuses, jitter,
 * noise) comes from here, so the same seed always yields the same world.
 */

// Bound once: a global looked up per call is many times slower inside a vm context (jest runs the
// simulator in one), and these hashes run for every simulated reading.
const imul = Math.imul;

/** 32-bit FNV-1a followed by murmur3's finaliser, which spreads nearby inputs across the range. */
function hash32(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = imul(hash, 0x01000193);
  }
  hash ^= hash >>> 16;
  hash = imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return hash >>> 0;
}

/**
 * A value in [0, 1) that depends only on its inputs. Used where a value must be a pure function of
 * (meter, time), such as receive jitter, so that regenerating a reading gives the same result.
 */
export function hashUnit(...parts: Array<string | number>): number {
  return hash32(parts.join('|')) / 2 ** 32;
}

export interface Random {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [min, max]. */
  int(min: number, max: number): number;
  chance(probability: number): boolean;
  pick<T>(items: readonly T[]): T;
  /** RFC 4122 version 4 layout, drawn from this stream. */
  uuid(): string;
}

/** mulberry32: tiny, fast and good enough for simulation data. */
export function createRandom(seed: string | number): Random {
  let state = hash32(String(seed));
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = imul(t ^ (t >>> 15), t | 1);
    t ^= t + imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  const int = (min: number, max: number) => min + Math.floor(next() * (max - min + 1));
  const hex = (length: number) => Array.from({ length }, () => int(0, 15).toString(16)).join('');
  return {
    next,
    int,
    chance: (probability) => next() < probability,
    pick: (items) => items[int(0, items.length - 1)],
    uuid: () => `${hex(8)}-${hex(4)}-4${hex(3)}-${'89ab'[int(0, 3)]}${hex(3)}-${hex(12)}`,
  };
}
