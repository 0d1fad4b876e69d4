import { LRUCache } from 'lru-cache';
import type { Database } from '../database';
import type { Customer } from './types';

/** Lookups remembered per database; the least recently used go first. */
const MAX_LOOKUPS = 10_000;

/** What a lookup found: the customer, or that there is none. */
interface Found {
  customer: Customer | null;
}

type Key = 'id' | 'externalId';

/**
 * Customers by id and by externalId (or that there is none), remembered for the embedded database
 * only. PGlite lives in this process (on a worker thread) with one connection, and a lookup costs
 * ≈ 0.5 ms of its CPU, which every stitched `customer` paid per request; and
 * every write to its customers goes through CustomerStore.upsertCustomer, which forgets them all, so
 * nothing here is stale. (`npm run import`, a process of its own, writes to an embedded database only
 * while the gateway is stopped: PGlite serves one process.) PostgreSQL is shared with other replicas (and with anyone holding psql), so
 * there every lookup goes to the database as before.
 */
export class KnownCustomers {
  private static readonly byDatabase = new WeakMap<Database, KnownCustomers>();

  /** The one cache of a database (every CustomerStore on it shares it), or undefined outside PGlite. */
  static of(db: Database): KnownCustomers | undefined {
    if (db.kind !== 'pglite') return undefined;
    let known = KnownCustomers.byDatabase.get(db);
    if (!known) KnownCustomers.byDatabase.set(db, (known = new KnownCustomers()));
    return known;
  }

  private readonly found = new LRUCache<string, Found>({ max: MAX_LOOKUPS });
  /** Bumped when a write starts and ends: a lookup that overlapped one remembers nothing it read. */
  private writes = 0;

  /** What is remembered for one key: the customer, null for none, undefined when not known. */
  peek(key: Key, value: string): Customer | null | undefined {
    return this.found.get(`${key}:${value}`)?.customer;
  }

  /** Answers `keys` in order, loading only those not known (`load` answers in the order it is asked). */
  async lookup(key: Key, keys: readonly string[], load: (missing: string[]) => Promise<(Customer | null)[]>): Promise<(Customer | null)[]> {
    const known = keys.map((each) => this.found.get(`${key}:${each}`));
    const missing = [...new Set(keys.filter((_each, index) => !known[index]))];
    if (missing.length === 0) return known.map((each) => each!.customer);
    const writesBefore = this.writes;
    const customers = await load(missing);
    const loaded = new Map(missing.map((each, index) => [each, customers[index] ?? null]));
    if (writesBefore === this.writes) for (const [each, customer] of loaded) this.remember(key, each, customer);
    return keys.map((each, index) => (known[index] ? known[index].customer : loaded.get(each)!));
  }

  /** Runs a write to customers; everything remembered is forgotten before and after it. */
  async write<T>(run: () => Promise<T>): Promise<T> {
    this.forget();
    try {
      return await run();
    } finally {
      this.forget();
    }
  }

  private forget(): void {
    this.writes += 1;
    this.found.clear();
  }

  private remember(key: Key, value: string, customer: Customer | null): void {
    this.found.set(`${key}:${value}`, { customer });
    // Found by one key, known by the other too.
    if (customer) this.found.set(key === 'id' ? `externalId:${customer.externalId}` : `id:${customer.id}`, { customer });
  }
}
