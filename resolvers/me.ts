import { GraphQLError, type GraphQLResolveInfo } from 'graphql';
import type { GatewayContext } from '../src/context';
import type { CustomerIdentity } from '../src/identity';
import { liveReading } from '../src/stitching/liveReading';
import { createRegistrationFor } from '../src/stitching/registration';

function customerIdentity(context: GatewayContext): CustomerIdentity {
  if (context.identity.role !== 'customer') {
    throw new GraphQLError('Only a customer can use this field.', { extensions: { code: 'FORBIDDEN' } });
  }
  return context.identity;
}

export const resolvers = {
  Query: {
    me: (_root: unknown, _args: unknown, context: GatewayContext) =>
      context.identity.role === 'customer' ? context.customerLoaders.customerByExternalId.load(context.identity.externalId) : null,
  },
  Mutation: {
    registerMyMeter: (_root: unknown, _args: unknown, context: GatewayContext, info: GraphQLResolveInfo) =>
      createRegistrationFor(
        { externalId: customerIdentity(context).externalId },
        { customers: context.customerLoaders.customerByExternalId, defaults: context.registrationDefaults },
        context,
        info,
      ),
  },
  Subscription: {
    myReadings: {
      subscribe: (_root: unknown, _args: unknown, context: GatewayContext) =>
        context.readingHub.subscribe({
          externalId: customerIdentity(context).externalId,
          resumeAfter: context.lastEventId,
          spendReplayPage: context.spendReplayPage,
        }),
      resolve: liveReading,
    },
  },
};
