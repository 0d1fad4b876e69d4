import type { ExecutionResult, Executor } from '@graphql-tools/utils';
import { GraphQLError, parse } from 'graphql';
import { METER_READING_FIELDS, type MeterReading } from './payload';
import type { PageFetcher } from './replay';

const PAGE = parse(/* GraphQL */ `
  query ReplayPage($startTime: DateTime, $cursor: String) {
    provider {
      readings(startTime: $startTime, limit: 100, cursor: $cursor) {
        readings { ${METER_READING_FIELDS} }
        cursor
      }
    }
  }
`);

type PageResult = ExecutionResult<{ provider: { readings: { readings: MeterReading[]; cursor: string | null } } }>;

/** Replay pages for a client's startTime, fetched through the gateway's IOmeter transport. */
export function createPageFetcher(executor: Executor): PageFetcher {
  return async (startTime, cursor) => {
    const result = (await executor({ document: PAGE, variables: { startTime, cursor } })) as PageResult;
    const page = result.data?.provider.readings;
    if (!page) throw result.errors?.[0] ?? new GraphQLError('IOmeter returned no readings page.');
    return page;
  };
}
