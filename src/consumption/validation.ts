import { z } from 'zod';
import { pageCursor } from '../customers/cursor';
import { parseInput } from '../customers/validation';
import { RESOLUTIONS, type Resolution } from './types';

const DAY_MS = 86_400_000;

/**
 * Longest range per resolution; they bound the rollup slots a request reads: a month (with its DST
 * hour) of hours, a quarter of days, a year of months.
 */
const MAX_RANGE_DAYS: Record<Resolution, number> = { HOUR: 32, DAY: 93, MONTH: 366 };

const HISTORY_PAGE_SIZE = { default: 100, max: 1000 } as const;

/** `DateTime` arrives validated as RFC 3339 by the scalar; here it only becomes an instant. */
const instant = z.string().transform((value) => new Date(value));

const range = z
  .object({ from: instant, to: instant })
  .refine(({ from, to }) => from < to, { path: ['to'], message: 'must be after from' });

const consumptionArgsSchema = range
  .and(z.object({ resolution: z.enum(RESOLUTIONS) }))
  .superRefine(({ from, to, resolution }, ctx) => {
    const maxDays = MAX_RANGE_DAYS[resolution];
    if (to.getTime() - from.getTime() > maxDays * DAY_MS) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['to'], message: `must be at most ${maxDays} days after from for ${resolution} buckets` });
    }
  });

const readingHistoryArgsSchema = range.and(
  z.object({
    first: z
      .number()
      .int('must be an integer')
      .min(1, `must be between 1 and ${HISTORY_PAGE_SIZE.max}`)
      .max(HISTORY_PAGE_SIZE.max, `must be between 1 and ${HISTORY_PAGE_SIZE.max}`)
      .nullish()
      .transform((value) => value ?? HISTORY_PAGE_SIZE.default),
    after: z.string().nullish(),
  }),
);

export interface ConsumptionArgs {
  from: string;
  to: string;
  resolution: Resolution;
}

export interface ReadingHistoryArgs {
  from: string;
  to: string;
  first?: number | null;
  after?: string | null;
}

export const parseConsumptionArgs = (args: ConsumptionArgs) => parseInput(consumptionArgsSchema, args);
export const parseReadingHistoryArgs = (args: ReadingHistoryArgs) => parseInput(readingHistoryArgsSchema, args);

/** Position after a reading in (time, meter) order. */
export const historyCursor = pageCursor(['time', 'meterId'], z.tuple([z.string().datetime({ offset: true }), z.string().min(1)]));
