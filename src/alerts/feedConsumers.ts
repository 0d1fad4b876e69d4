import type { MeterReading, UpstreamConsumer } from '../subscriptions';

/**
 * The readings feed takes one permanent consumer; this hands every reading to each of several (the
 * archive, the usage alerts), in order. Undefined when there is none, so the feed stays client-driven.
 */
export function allConsumers(...consumers: Array<UpstreamConsumer | undefined>): UpstreamConsumer | undefined {
  const present = consumers.filter((consumer): consumer is UpstreamConsumer => consumer !== undefined);
  if (present.length <= 1) return present[0];
  return {
    beforeOpen: async () => {
      await Promise.all(present.map((consumer) => consumer.beforeOpen()));
    },
    onReading: (reading: MeterReading) => {
      for (const consumer of present) consumer.onReading(reading);
    },
  };
}
