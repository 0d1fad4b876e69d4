/** Close codes after which retrying cannot help: the upstream refused these credentials. */
export const CREDENTIALS_REJECTED_CLOSE_CODES = new Set([4401, 4403]);

export function isCloseEvent(value: unknown): value is { code: number; reason: string } {
  return typeof value === 'object' && value !== null && 'code' in value && 'reason' in value;
}
