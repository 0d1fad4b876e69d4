import { hashApiKey } from '../../src/identity';

/**
 * Gateway environment for clients that sign in with API keys: a staff key and a key per customer
 * number. The IOMETER_* values only take the gateway out of sandbox mode (where every caller is staff);
 * startStack points it at its own simulator.
 */
export function apiKeyEnv(keys: { staff: string; customers?: Record<string, string> }): Record<string, string> {
  const customers = Object.entries(keys.customers ?? {}).map(
    ([externalId, key]) => `app-${externalId}:customer:${hashApiKey(key)}:${externalId}`,
  );
  return {
    IOMETER_ENDPOINT: 'http://127.0.0.1:9/v1/query',
    IOMETER_TOKEN: 'unused',
    IOMETER_SECRET: 'unused',
    AUTH_API_KEYS: [`backoffice:staff:${hashApiKey(keys.staff)}`, ...customers].join(','),
  };
}
