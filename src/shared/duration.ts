/** A duration as every setting writes it: `500ms`, `2s`, `5m`, `1h` or `1d`; a bare number is milliseconds. */
export const DURATION = /^(\d+)(ms|s|m|h|d)?$/;

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** A DURATION in milliseconds; throws on anything else. */
export function parseDuration(value: string): number {
  const match = DURATION.exec(value);
  if (!match) throw new Error(`invalid duration "${value}"`);
  return Number(match[1]) * UNIT_MS[(match[2] ?? 'ms') as keyof typeof UNIT_MS];
}
