import { z } from 'zod';
import { parseInput } from '../customers/validation';
import type { Database } from '../database';
import { FORECAST_COST_SQL, MONTH_BOUNDS_SQL } from './forecastSql';
import type { ConsumptionScope, ConsumptionStore } from './store';

const HOUR_MS = 3_600_000;
/** How far back the weekday-hour profile looks. */
const PROFILE_WEEKS = 4;

export interface MonthForecast {
  month: string;
  start: string;
  end: string;
  importedWhSoFar: number;
  projectedImportedWh: number;
  costSoFar: number | null;
  projectedCost: number | null;
}

const monthArgs = z.object({
  month: z
    .string()
    .regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'must be a month as YYYY-MM')
    .refine((month) => month >= '2000-01' && month <= '2099-12', 'must be between 2000-01 and 2099-12'),
});

export const parseMonthArgs = (args: { month: string }) => parseInput(monthArgs, args);

/**
 * A month's imported energy and cost so far, and projected for the whole month (the method is in
 * additional-typedefs/consumption.graphql). Energy comes from the consumption query; the projected
 * rest is priced in the database by the contracts in force on each hour's local date, in numeric.
 */
export class MonthForecaster {
  private readonly weekdayHourFormat: Intl.DateTimeFormat;

  constructor(
    private readonly db: Database,
    private readonly consumption: ConsumptionStore,
    private readonly timeZone: string,
  ) {
    this.weekdayHourFormat = new Intl.DateTimeFormat('en-US', { timeZone, weekday: 'short', hour: '2-digit', hourCycle: 'h23' });
  }

  async forecast(scope: ConsumptionScope, args: { month: string }, now = new Date()): Promise<MonthForecast> {
    const { month } = parseMonthArgs(args);
    const { start, end } = await this.monthBounds(month);
    const currentHour = new Date(Math.floor(now.getTime() / HOUR_MS) * HOUR_MS);
    const soFarEnd = new Date(Math.min(Math.max(currentHour.getTime(), start.getTime()), end.getTime()));

    const soFar =
      soFarEnd > start
        ? (await this.consumption.consumption(scope, { from: start.toISOString(), to: soFarEnd.toISOString(), resolution: 'MONTH' }))[0]
        : undefined;
    const importedWhSoFar = soFar?.importedWh ?? 0;
    const remaining = await this.projectRemaining(scope, { start: soFarEnd, end, currentHour, importedWhSoFar, elapsedHours: (soFarEnd.getTime() - start.getTime()) / HOUR_MS });
    const remainingCost = await this.priceRemaining(scope, remaining);
    // Nothing elapsed yet (a month ahead, or its first hour): nothing spent, if anything can be priced at all.
    const costSoFar = soFar ? soFar.cost : scope.customerExternalId ? 0 : null;

    return {
      month,
      start: start.toISOString(),
      end: end.toISOString(),
      importedWhSoFar,
      projectedImportedWh: round3(importedWhSoFar + remaining.reduce((sum, hour) => sum + hour.wh, 0)),
      costSoFar,
      projectedCost: costSoFar === null || remainingCost === null ? null : Math.round((costSoFar + remainingCost) * 100) / 100,
    };
  }

  private async monthBounds(month: string): Promise<{ start: Date; end: Date }> {
    const { rows } = await this.db.query<{ start: string; end: string }>(MONTH_BOUNDS_SQL, [`${month}-01`, this.timeZone]);
    return { start: new Date(rows[0]!.start), end: new Date(rows[0]!.end) };
  }

  /**
   * Each hour from `start` to the month's end gets the mean energy of the same local weekday and hour
   * over the last PROFILE_WEEKS weeks (those weeks in which that hour had readings); an hour without
   * any takes the month's mean hourly energy so far, or 0 when nothing is known yet.
   */
  private async projectRemaining(
    scope: ConsumptionScope,
    { start, end, currentHour, importedWhSoFar, elapsedHours }: { start: Date; end: Date; currentHour: Date; importedWhSoFar: number; elapsedHours: number },
  ): Promise<Array<{ start: Date; wh: number }>> {
    if (start >= end) return [];
    const from = new Date(currentHour.getTime() - PROFILE_WEEKS * 7 * 24 * HOUR_MS);
    const history = await this.consumption.consumption(scope, { from: from.toISOString(), to: currentHour.toISOString(), resolution: 'HOUR' });
    const totals = new Map<string, { wh: number; hours: number }>();
    for (const bucket of history) {
      if (bucket.readings === 0) continue;
      const key = this.weekdayHour(new Date(bucket.start));
      const total = totals.get(key) ?? { wh: 0, hours: 0 };
      total.wh += bucket.importedWh;
      total.hours += 1;
      totals.set(key, total);
    }
    const average = elapsedHours > 0 ? importedWhSoFar / elapsedHours : 0;
    const hours: Array<{ start: Date; wh: number }> = [];
    for (let time = start.getTime(); time < end.getTime(); time += HOUR_MS) {
      const profile = totals.get(this.weekdayHour(new Date(time)));
      hours.push({ start: new Date(time), wh: round3(profile ? profile.wh / profile.hours : average) });
    }
    return hours;
  }

  /** EUR for the projected hours, half up to cents once; null unless a contract is in force on every hour. */
  private async priceRemaining(scope: ConsumptionScope, hours: Array<{ start: Date; wh: number }>): Promise<number | null> {
    if (hours.length === 0) return 0;
    if (!scope.customerExternalId) return null;
    const { rows } = await this.db.query<{ cost: number | null }>(FORECAST_COST_SQL, [
      scope.customerExternalId,
      hours.map((hour) => hour.start.toISOString()),
      hours.map((hour) => hour.wh.toFixed(3)),
      this.timeZone,
    ]);
    return rows[0]?.cost ?? null;
  }

  /** The local weekday and hour of an instant, e.g. `Mon 07`: the profile's key. */
  private weekdayHour(time: Date): string {
    return this.weekdayHourFormat.format(time);
  }
}

/** Energy in Wh to the archive's precision (mWh). */
function round3(wh: number): number {
  return Math.round(wh * 1000) / 1000;
}
