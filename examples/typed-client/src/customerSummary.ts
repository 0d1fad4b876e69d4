import { execute } from './client';
import { CustomerOverview } from './operations';

/**
 * What a frontend does with the typed result. Every property access below is checked against the
 * generated types, so a contract change that breaks this screen fails the example's type check.
 */
export async function customerSummary(endpoint: string, externalId: string, headers?: Record<string, string>): Promise<string | null> {
  const { customer } = await execute(endpoint, CustomerOverview, { externalId }, headers);
  if (!customer) return null;
  const contract = customer.contract ? `${customer.contract.tariff.name} (${customer.contract.status})` : 'no contract';
  const meter = customer.installation?.currentMeter?.number ?? 'no meter yet';
  return `${customer.name} · ${contract} · meter ${meter}`;
}
