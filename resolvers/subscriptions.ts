import type { GatewayContext } from '../src/context';
import { liveReading } from '../src/stitching/liveReading';

/**
 * Live readings come from the gateway's one upstream subscription (src/subscriptions/ReadingHub),
 * not from one upstream subscription per client. An SSE client's Last-Event-ID resumes the stream.
 */
export const resolvers = {
  Subscription: {
    readings: {
      subscribe: (_root: unknown, args: { startTime?: string | null }, context: GatewayContext) =>
        context.readingHub.subscribe({ startTime: args.startTime, resumeAfter: context.lastEventId, spendReplayPage: context.spendReplayPage }),
      resolve: liveReading,
    },
    scheduledReadings: {
      subscribe: (_root: unknown, args: { obisCodes?: string[] | null }, context: GatewayContext) =>
        context.readingHub.scheduled({ obisCodes: args.obisCodes, resumeAfter: context.lastEventId, spendReplayPage: context.spendReplayPage }),
      resolve: liveReading,
    },
  },
};
