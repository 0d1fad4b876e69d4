import { z } from 'zod';
import { parseInput } from '../customers/validation';
import type { Database } from '../database';

/** A customer's rules; null: that rule is not set. */
export interface UsageAlertRules {
  powerAboveW: number | null;
  dailyEnergyAboveKwh: number | null;
  noReadingForMinutes: number | null;
}

export const NO_RULES: UsageAlertRules = { powerAboveW: null, dailyEnergyAboveKwh: null, noReadingForMinutes: null };

/** Bounds keep every rule meaningful for a household or business meter. */
const rulesSchema = z.object({
  powerAboveW: z.number().positive('must be greater than 0').max(10_000_000, 'must be at most 10,000,000').nullish().transform((value) => value ?? null),
  dailyEnergyAboveKwh: z.number().positive('must be greater than 0').max(1_000_000, 'must be at most 1,000,000').nullish().transform((value) => value ?? null),
  noReadingForMinutes: z.number().int('must be an integer').min(1, 'must be between 1 and 10080').max(10_080, 'must be between 1 and 10080 (a week)').nullish().transform((value) => value ?? null),
});

interface RulesRow {
  external_id: string;
  power_above_w: number | null;
  daily_energy_above_kwh: number | null;
  no_reading_for_minutes: number | null;
}

const toRules = (row: RulesRow | undefined): UsageAlertRules =>
  row ? { powerAboveW: row.power_above_w, dailyEnergyAboveKwh: row.daily_energy_above_kwh, noReadingForMinutes: row.no_reading_for_minutes } : NO_RULES;

const SELECT_RULES = `SELECT customer.external_id, rules.power_above_w, rules.daily_energy_above_kwh, rules.no_reading_for_minutes
  FROM usage_alert_rules rules JOIN customers customer ON customer.id = rules.customer_id`;

/** Usage alert rules in the customer database. */
export class UsageAlertRuleStore {
  constructor(private readonly db: Database) {}

  async rulesOf(externalId: string): Promise<UsageAlertRules> {
    return (await this.rulesOfMany([externalId]))[0]!;
  }

  /** One query for any number of customers, in key order (a DataLoader's batch function). */
  async rulesOfMany(externalIds: readonly string[]): Promise<UsageAlertRules[]> {
    const { rows } = await this.db.query<RulesRow>(`${SELECT_RULES} WHERE customer.external_id = ANY($1::text[])`, [[...new Set(externalIds)]]);
    const byExternalId = new Map(rows.map((row) => [row.external_id, row]));
    return externalIds.map((externalId) => toRules(byExternalId.get(externalId)));
  }

  /** Every customer's rules, for the evaluator's start. */
  async allRules(): Promise<Map<string, UsageAlertRules>> {
    const { rows } = await this.db.query<RulesRow>(SELECT_RULES);
    return new Map(rows.map((row) => [row.external_id, toRules(row)]));
  }

  /** Replaces the customer's rules (a field left out or null removes that rule); null if no such customer. */
  async setRules(externalId: string, input: Partial<UsageAlertRules>): Promise<UsageAlertRules | null> {
    const rules = parseInput(rulesSchema, input);
    const { rows } = await this.db.query<{ customer_id: string }>(
      `INSERT INTO usage_alert_rules (customer_id, power_above_w, daily_energy_above_kwh, no_reading_for_minutes)
       SELECT id, $2, $3, $4 FROM customers WHERE external_id = $1
       ON CONFLICT (customer_id) DO UPDATE SET power_above_w = EXCLUDED.power_above_w,
         daily_energy_above_kwh = EXCLUDED.daily_energy_above_kwh,
         no_reading_for_minutes = EXCLUDED.no_reading_for_minutes, updated_at = now()
       RETURNING customer_id`,
      [externalId, rules.powerAboveW, rules.dailyEnergyAboveKwh, rules.noReadingForMinutes],
    );
    return rows[0] ? rules : null;
  }
}
