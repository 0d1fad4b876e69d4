import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeExecutableSchema } from '@graphql-tools/schema';
import type { GraphQLSchema } from 'graphql';
import { formatObisCode, type ObisFormat } from '../iometer/obis';
import { iometerScalars } from '../iometer/scalars';
import { decodeCursor, encodeCursor } from './cursor';
import { badUserInput } from './errors';
import { openReadingStream } from './feed';
import { licenseStatus, updateLicense, type UpdateLicenseArgs } from './licenses';
import { readingValues, type ReadingValue } from './meterValues';
import type { Installation, License, Meter, StoredReading } from './model';
import { RETENTION_MS } from './readingStore';
import type { CreateTokenArgs } from './registrations';
import type { Simulation } from './simulation';
import { toIso } from './time';

/** Resolvers over the transcribed contract; they translate between the API and the domain model. */

export interface SimulatorContext {
  sim: Simulation;
}

/** The deprecated per-value `Reading` type. */
interface ReadingPayload extends ReadingValue {
  meter: Meter;
  time: number;
}

type Context = SimulatorContext;
type PaginationArgs = { pagination?: { offset?: number | null; limit?: number | null } | null };
type InstallationArgs = { id?: string | null; externalId?: string | null };
type ReadingsArgs = { startTime?: string | null; limit?: number | null; cursor?: string | null };

const MAX_PAGE_SIZE = 100;

const toReadings = (reading: StoredReading): ReadingPayload[] =>
  readingValues(reading.meter, reading.time).map((value) => ({ ...value, meter: reading.meter, time: reading.time }));

const obisCodeField = (value: ReadingValue, args: { format?: ObisFormat | null }) =>
  formatObisCode(value.obisCode, args.format ?? 'dec');

const payloadAsIs = <T>(payload: T) => payload;

const optionalTime = (value?: string | null) => (value == null ? undefined : Date.parse(value));

function paginate<T>(items: T[], pagination: PaginationArgs['pagination']): T[] {
  const offset = pagination?.offset ?? 0;
  const limit = pagination?.limit ?? undefined;
  if (offset < 0) throw badUserInput(`pagination.offset must be 0 or greater, got ${offset}`);
  if (limit !== undefined && (limit < 1 || limit > MAX_PAGE_SIZE)) {
    throw badUserInput(`pagination.limit must be between 1 and ${MAX_PAGE_SIZE}, got ${limit}`);
  }
  return items.slice(offset, limit === undefined ? undefined : offset + limit);
}

const resolvers = {
  ...iometerScalars,
  Query: {
    provider: (_: unknown, __: unknown, { sim }: Context) => sim.world.provider,
  },
  Provider: {
    installations: (_: unknown, { pagination }: PaginationArgs, { sim }: Context) =>
      paginate(sim.world.installations, pagination),
    installation: (_: unknown, { id, externalId }: InstallationArgs, { sim }: Context) => {
      if (id != null) {
        if (externalId != null) throw badUserInput('installation requires exactly one of id or externalId, got both');
        return sim.world.installationById(id);
      }
      if (externalId == null) throw badUserInput('installation requires exactly one of id or externalId, got neither');
      return sim.world.installationByExternalId(externalId);
    },
    signingKeys: (_: unknown, __: unknown, { sim }: Context) => sim.world.signingKeys,
    signingKey: (_: unknown, { id }: { id: string }, { sim }: Context) => sim.world.signingKey(id),
    licensePools: (_: unknown, __: unknown, { sim }: Context) => sim.world.licensePools,
    licensePool: (_: unknown, { id }: { id: string }, { sim }: Context) => sim.world.licensePool(id),
    readings: (_: unknown, args: ReadingsArgs, { sim }: Context) => {
      const limit = args.limit ?? MAX_PAGE_SIZE;
      if (limit < 1 || limit > MAX_PAGE_SIZE) {
        throw badUserInput(`limit must be between 1 and ${MAX_PAGE_SIZE}, got ${limit}`);
      }
      const after = args.cursor == null ? undefined : decodeCursor(args.cursor);
      const page = sim.store.page({ startTime: optionalTime(args.startTime), after, limit });
      const last = page.readings.at(-1);
      return { readings: page.readings, cursor: page.hasMore && last ? encodeCursor(last) : null };
    },
  },
  // Fields missing from the domain objects (an undefined term, endTime or externalId) resolve to null.
  Installation: {
    currentMeter: (installation: Installation) => installation.meters.at(-1),
    currentDevice: (installation: Installation) => installation.devices.at(-1),
  },
  License: {
    startTime: (license: License) => toIso(license.startTime),
    endTime: (license: License) => (license.endTime === undefined ? undefined : toIso(license.endTime)),
    status: (license: License, _: unknown, { sim }: Context) => licenseStatus(license, sim.clock()),
  },
  Meter: {
    latestReadings: (meter: Meter, _: unknown, { sim }: Context) => {
      const latest = sim.store.latest(meter.id);
      return latest ? toReadings(latest) : [];
    },
  },
  MeterReading: {
    installation: (reading: StoredReading) => reading.meter.installation,
    time: (reading: StoredReading) => toIso(reading.time),
    receiveTime: (reading: StoredReading) => toIso(reading.receiveTime),
    values: (reading: StoredReading) => readingValues(reading.meter, reading.time),
  },
  MeterReadingValue: {
    obisCode: obisCodeField,
  },
  Reading: {
    time: (reading: ReadingPayload) => toIso(reading.time),
    obisCode: obisCodeField,
  },
  Mutation: {
    createRegistrationToken: (_: unknown, args: CreateTokenArgs, { sim }: Context) =>
      sim.registrations.createToken(args),
    updateLicense: (_: unknown, args: UpdateLicenseArgs, { sim }: Context) => updateLicense(sim.world, args),
  },
  Subscription: {
    readings: {
      subscribe: (_: unknown, args: { startTime?: string | null }, { sim }: Context) => {
        const startTime = optionalTime(args.startTime);
        if (startTime !== undefined && startTime < sim.clock() - RETENTION_MS) {
          throw badUserInput(`startTime ${args.startTime} is more than 24h ago; readings are kept for 24h`);
        }
        return openReadingStream(sim, { startTime, expand: (reading) => [reading] });
      },
      resolve: payloadAsIs<StoredReading>,
    },
    scheduledReadings: {
      subscribe: (_: unknown, { obisCodes }: { obisCodes?: string[] | null }, { sim }: Context) => {
        // Compared in decimal form, so a hex filter matches; no filter (or an empty one) means all codes.
        const wanted = obisCodes?.length ? new Set(obisCodes.map((code) => formatObisCode(code, 'dec'))) : undefined;
        return openReadingStream(sim, {
          expand: (reading) => toReadings(reading).filter((value) => !wanted || wanted.has(value.obisCode)),
        });
      },
      resolve: payloadAsIs<ReadingPayload>,
    },
  },
};

export function createSimulatorSchema(): GraphQLSchema {
  return makeExecutableSchema({
    typeDefs: readFileSync(join(__dirname, '..', 'iometer', 'iometer.graphql'), 'utf8'),
    resolvers,
  });
}
