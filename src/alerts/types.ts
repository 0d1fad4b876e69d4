export const USAGE_ALERT_KINDS = ['POWER_ABOVE', 'DAILY_ENERGY_ABOVE', 'NO_READING'] as const;
export type UsageAlertKind = (typeof USAGE_ALERT_KINDS)[number];

/** One crossing of a rule: it started to hold, or it stopped holding. */
export interface UsageAlert {
  kind: UsageAlertKind;
  state: 'STARTED' | 'ENDED';
  /** The reading's time (or the sweep's, for NO_READING starting), RFC 3339. */
  at: string;
  /** W for POWER_ABOVE, kWh today for DAILY_ENERGY_ABOVE, minutes without a reading for NO_READING. */
  value: number;
  threshold: number;
}

/** What travels between replicas: an alert for a customer's clients, or news that a customer's rules changed. */
export type AlertMessage = { type: 'alert'; externalId: string; alert: UsageAlert } | { type: 'rules'; externalId: string };
