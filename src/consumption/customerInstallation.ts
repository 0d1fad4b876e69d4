import type { GraphQLResolveInfo } from 'graphql';
import type { ResponseTtlCap } from '../cache/ttl';
import type { Logger } from '../logging/logger';
import type { LoadInstallation } from '../stitching/installationLoader';
import { isUpstreamOutage, upstreamCodeOf } from '../upstream/errors';
import type { ConsumptionStore } from './store';

/** The part of a request's context the lookup uses; every gateway context has it. */
export interface InstallationLookupContext {
  loadInstallation: LoadInstallation;
  responseTtl: ResponseTtlCap;
}

/** The installation whose archived readings are a customer's consumption; null if none is known. */
export type CustomerInstallationId = (context: InstallationLookupContext, info: GraphQLResolveInfo, externalId: string) => Promise<string | null>;

/**
 * IOmeter is the truth about which installation a customer number belongs to (an externalId can move
 * to another installation), so it is asked first. But the archive exists to serve the history IOmeter
 * no longer has, and that must not depend on IOmeter answering: while IOmeter is down, the
 * installation the archive last recorded under the customer number stands in. An answer built on that
 * stand-in is not cached, so IOmeter's mapping answers again as soon as IOmeter is back.
 */
export function createCustomerInstallationId(store: Pick<ConsumptionStore, 'latestArchivedInstallationId'>, logger: Logger): CustomerInstallationId {
  // Contexts whose fallback was logged: one line per request, however many customers it lists.
  const logged = new WeakSet<object>();
  return async (context, info, externalId) => {
    try {
      const installation = (await context.loadInstallation(context, info, { externalId }, '{ id }')) as { id: string } | null;
      return installation?.id ?? null;
    } catch (error) {
      if (!isUpstreamOutage(error)) throw error;
      const archived = await store.latestArchivedInstallationId(externalId);
      context.responseTtl.lower(0);
      if (!logged.has(context)) {
        logged.add(context);
        logger.warn({ upstream: 'iometer', code: upstreamCodeOf(error) }, 'IOmeter unavailable: customer installations taken from the reading archive');
      }
      return archived;
    }
  };
}
