export const RESOLUTIONS = ['HOUR', 'DAY', 'MONTH'] as const;
export type Resolution = (typeof RESOLUTIONS)[number];

export interface ConsumptionBucket {
  /** Bucket boundaries in UTC (RFC 3339): local midnight / month start in the configured zone. */
  start: string;
  end: string;
  importedWh: number;
  exportedWh: number;
  averagePowerW: number | null;
  peakPowerW: number | null;
  readings: number;
  /** EUR, rounded half up to cents; null unless a contract is in force throughout the bucket. */
  cost: number | null;
  feedInCredit: number | null;
}

export interface ArchivedReading {
  meterId: string;
  meterNumber: string;
  time: string;
  receiveTime: string;
  importedWh: number | null;
  exportedWh: number | null;
  powerW: number | null;
  values: Array<{ obisCode: string; value: number; unit: string }>;
}

export interface ReadingHistoryPage {
  edges: Array<{ cursor: string; node: ArchivedReading }>;
  hasNextPage: boolean;
  endCursor: string | null;
}
