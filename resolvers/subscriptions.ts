import type { GatewayContext } from '../src/context';

/**
 * Live readings come from the gateway's one upstream subscription (src/subscriptions/ReadingHub),
 * not from one upstream subscription per client.
 */
export const resolvers = {
  Subscription: {
    readings: {
      subscribe: (_root: unknown, args: { startTime?: string | null }, context: GatewayContext) =>
        context.readingHub.subscribe({ startTime: args.startTime }),
      resolve: (reading: unknown) => reading,
    },
    scheduledReadings: {
      subscribe: (_root: unknown, args: { obisCodes?: string[] | null }, context: GatewayContext) =>
        context.readingHub.scheduled({ obisCodes: args.obisCodes }),
      resolve: (reading: unknown) => reading,
    },
  },
};
