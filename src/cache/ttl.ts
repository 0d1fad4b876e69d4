import type { GraphQLSchema } from 'graphql';
import { DURATION, parseDuration } from '../shared/duration';
import { coordinateProblem } from '../shared/schemaCoordinates';

/**
 * How long a cached response may be served, per schema coordinate: a type name (`IometerDevice`) or a
 * field (`IometerMeter.latestReadings`). A response lives as long as the shortest TTL among the types
 * it contains and the fields it selects; a response with none of them gets CACHE_TTL. A TTL of 0 means
 * "never cache a response that contains this".
 */
export type TtlTable = Readonly<Record<string, number>>;

const SECOND = 1_000;
const HOUR = 3_600_000;

/** Built-in TTLs; CACHE_TTL_OVERRIDES replaces or extends them. */
export const DEFAULT_TTLS: TtlTable = {
  // Readings change every few seconds.
  IometerMeterReadingsResponse: 5 * SECOND,
  IometerMeterReading: 5 * SECOND,
  'IometerMeter.latestReadings': 5 * SECOND,
  IometerReading: 5 * SECOND,
  // Device status (battery, connection, pin) is polled by apps.
  IometerDevice: 15 * SECOND,
  IometerDeviceCore: 15 * SECOND,
  IometerDeviceBridge: 15 * SECOND,
  // Installations and their licenses change on registration and updateLicense (both invalidate).
  IometerInstallation: 30 * SECOND,
  IometerLicense: 30 * SECOND,
  // Provider configuration, changed in IOmeter's Admin Backend.
  IometerLicensePool: 60 * SECOND,
  IometerSigningKey: 60 * SECOND,
  // The provider's own customer domain; upsertCustomer and onboardCustomer invalidate.
  Customer: 60 * SECOND,
  Contract: 60 * SECOND,
  Tariff: 60 * SECOND,
  // Closed consumption buckets and archived readings only change when late readings arrive; a
  // response reaching into the current bucket is capped at OPEN_RANGE_TTL_MS instead.
  ConsumptionBucket: 1 * HOUR,
  MonthForecast: 1 * HOUR,
  ArchivedReadingConnection: 1 * HOUR,
};

/** The longest a response may be cached that shows a consumption or history range not yet over. */
export const OPEN_RANGE_TTL_MS = 5 * SECOND;

/**
 * Lowers one response's TTL from inside execution, where a resolver knows what the TTL table cannot:
 * e.g. that its range includes the bucket still filling. The cache's onTtl hook applies it.
 */
export class ResponseTtlCap {
  private ms = Number.POSITIVE_INFINITY;

  lower(ms: number): void {
    this.ms = Math.min(this.ms, ms);
  }

  apply(ttl: number): number {
    return Math.min(ttl, this.ms);
  }
}

const NAME = '[_A-Za-z][_0-9A-Za-z]*';
const ENTRY = new RegExp(`^(${NAME}(?:\\.${NAME})?)\\s*=\\s*(.*)$`);
const EXAMPLE = 'IometerDevice=10s,Query.customers=0,IometerMeter.latestReadings=2s';

/**
 * Parses CACHE_TTL_OVERRIDES: comma-separated `<Type or Type.field>=<duration>` entries, durations as
 * elsewhere in the config (`500ms`, `2s`, `5m`, `1h`, `1d`; a bare number is milliseconds; `0` turns
 * caching off for responses containing that coordinate). Throws an Error describing the first bad entry.
 */
export function parseTtlOverrides(raw: string | undefined): TtlTable {
  const overrides: Record<string, number> = {};
  if (!raw) return overrides;
  for (const entry of raw.split(',').map((part) => part.trim())) {
    if (entry === '') continue;
    const match = ENTRY.exec(entry);
    if (!match || !DURATION.test(match[2]!)) {
      throw new Error(`"${entry}" is not <Type>=<duration> or <Type.field>=<duration> (example: ${EXAMPLE})`);
    }
    const [, coordinate, duration] = match as unknown as [string, string, string];
    const ms = parseDuration(duration);
    if (!Number.isSafeInteger(ms)) throw new Error(`"${entry}": the duration is too large`);
    if (coordinate in overrides) throw new Error(`"${coordinate}" is given more than once`);
    overrides[coordinate] = ms;
  }
  return overrides;
}

/** The TTL table in force: the built-in defaults with the overrides applied. */
export function resolveTtls(overrides: TtlTable = {}): TtlTable {
  return { ...DEFAULT_TTLS, ...overrides };
}

/**
 * Coordinates of the table that name no type or field of the schema. The gateway refuses to start
 * with such an override (a typo would silently never apply) and warns about such a built-in default.
 */
export function unknownCoordinates(schema: GraphQLSchema, table: TtlTable): string[] {
  return Object.keys(table)
    .map((coordinate) => coordinateProblem(schema, coordinate, { metaFields: true }))
    .filter((problem): problem is string => problem !== undefined);
}
