import type { GraphQLResolveInfo } from 'graphql';
import { selectionOf } from '../stitching/gatewayDelegation';
import { asExternal, type LoadInstallation } from '../stitching/installationLoader';

/** The part of a client's context the lazy fields use; every gateway context has it. */
export interface MeterLookupContext {
  loadInstallation: LoadInstallation;
}

type LazyField = (args: unknown, context: MeterLookupContext, info: GraphQLResolveInfo) => Promise<unknown>;

/**
 * The full `Meter` of a deprecated scheduled `Reading`. The upstream feed carries only the meter's id
 * and number; `installation` and `latestReadings` are functions, which graphql-js's default resolver
 * calls with the client's own context, so they are fetched only when a client selects them, through
 * the context's installation loader (for live readings the process-wide one, see useLiveLookups): one
 * upstream request per tick for all clients, not per reading and client. Built once per reading and
 * shared by every client.
 */
export interface ReadingMeterPayload {
  readonly id: string;
  readonly number: string;
  readonly installation: LazyField;
  readonly latestReadings: LazyField;
}

interface FetchedMeter {
  id: string;
  latestReadings: unknown;
}

export function readingMeter(meter: { id: string; number: string }, installationId: string): ReadingMeterPayload {
  const key = { id: installationId };
  return {
    id: meter.id,
    number: meter.number,
    installation: (_args, context, info) => context.loadInstallation(context, info, key),
    latestReadings: async (_args, context, info) => {
      const installation = (await context.loadInstallation(
        context,
        info,
        key,
        `{ meters { id latestReadings ${selectionOf(info)} } }`,
      )) as { meters?: FetchedMeter[] } | null;
      const found = installation?.meters?.find((each) => each.id === meter.id);
      if (!installation || !found) return [];
      return asExternal(installation, 'meters', found.latestReadings, context, info);
    },
  };
}
