import { hashApiKey } from '../../src/identity';
import { OUT_OF_SANDBOX_ENV } from './stack';

/** Gateway environment for clients that sign in with API keys: a staff key and a key per customer number. */
export function apiKeyEnv(keys: { staff: string; customers?: Record<string, string> }): Record<string, string> {
  const customers = Object.entries(keys.customers ?? {}).map(
    ([externalId, key]) => `app-${externalId}:customer:${hashApiKey(key)}:${externalId}`,
  );
  return {
    ...OUT_OF_SANDBOX_ENV,
    AUTH_API_KEYS: [`backoffice:staff:${hashApiKey(keys.staff)}`, ...customers].join(','),
  };
}
