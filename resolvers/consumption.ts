import type { GraphQLResolveInfo } from 'graphql';
import { consumptionTag } from '../src/cache/lookups';
import { OPEN_RANGE_TTL_MS } from '../src/cache/ttl';
import type { ConsumptionScope } from '../src/consumption/store';
import { parseConsumptionArgs, type ConsumptionArgs, type ReadingHistoryArgs } from '../src/consumption/validation';
import type { GatewayContext } from '../src/context';
import type { Customer } from '../src/customers/types';
import { parseMonthArgs } from '../src/consumption/forecast';
import { withInputErrors } from './inputErrors';

/** A range that is not over yet still changes: its response may only be cached briefly. */
function capTtlWhileOpen(context: GatewayContext, to: string): void {
  if (new Date(to).getTime() > Date.now()) context.responseTtl.lower(OPEN_RANGE_TTL_MS);
}

function consumptionOf(scope: ConsumptionScope, args: ConsumptionArgs, context: GatewayContext) {
  capTtlWhileOpen(context, args.to);
  if (scope.customerExternalId) context.responseTags.push(consumptionTag(scope.customerExternalId));
  return context.consumptionStore.consumption(scope, args);
}

type InstallationKeys = { id: string; externalId?: string | null };

export const resolvers = {
  IometerInstallation: {
    consumption: {
      selectionSet: '{ id externalId }',
      resolve: (installation: InstallationKeys, args: ConsumptionArgs, context: GatewayContext) =>
        withInputErrors(() =>
          consumptionOf({ installationId: installation.id, customerExternalId: installation.externalId ?? null }, args, context),
        ),
    },
    readingHistory: {
      selectionSet: '{ id }',
      resolve: (installation: InstallationKeys, args: ReadingHistoryArgs, context: GatewayContext) =>
        withInputErrors(() => {
          capTtlWhileOpen(context, args.to);
          return context.consumptionStore.readingHistory(installation.id, args);
        }),
    },
  },
  Customer: {
    consumption: (customer: Customer, args: ConsumptionArgs, context: GatewayContext, info: GraphQLResolveInfo) =>
      withInputErrors(async () => {
        parseConsumptionArgs(args); // bad input should not cost an upstream request
        const installationId = await context.customerInstallationId(context, info, customer.externalId);
        if (!installationId) return null;
        return consumptionOf({ installationId, customerExternalId: customer.externalId }, args, context);
      }),
    forecast: (customer: Customer, args: { month: string }, context: GatewayContext, info: GraphQLResolveInfo) =>
      withInputErrors(async () => {
        parseMonthArgs(args); // bad input should not cost an upstream request
        const installationId = await context.customerInstallationId(context, info, customer.externalId);
        if (!installationId) return null;
        const forecast = await context.monthForecaster.forecast({ installationId, customerExternalId: customer.externalId }, args);
        // Cached like consumption: the customer's contracts price it, and it changes until the month is over.
        context.responseTags.push(consumptionTag(customer.externalId));
        capTtlWhileOpen(context, forecast.end);
        return forecast;
      }),
  },
  ArchivedReadingConnection: {
    pageInfo: (page: { hasNextPage: boolean; endCursor: string | null }) => ({ hasNextPage: page.hasNextPage, endCursor: page.endCursor }),
  },
};
