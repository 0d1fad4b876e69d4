/** The live-readings multiplexer; everything outside src/subscriptions/ imports from here. */
export {
  ReadingHub,
  type ReadingFilter,
  type ReadingHubOptions,
  type ReadingHubStats,
  type ScheduledFilter,
} from './readingHub';
export type { PageFetcher } from './replay';
export { SLOW_CONSUMER } from './clientSubscription';
export {
  obisCodeSet,
  toReadingPayloads,
  type MeterReading,
  type MeterReadingPayload,
  type MeterReadingValuePayload,
  type ObisCodeField,
  type ObisCodeSet,
  type ReadingPayload,
} from './payload';
export { createClusterFeed, type ClusterFeedOptions } from './clusterFeed';
export type { ReadingSource, ReadingSourceFactory, UpstreamConsumer } from './source';
export { createLocalFeed, type LocalFeedOptions } from './localFeed';
export { LiveGroups, SharedResult, type FrameSink, type LiveGroupsOptions } from './liveGroups';
