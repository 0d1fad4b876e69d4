import { NOT_ONBOARDED_EXTERNAL_IDS, seedSandboxCustomers } from '../src/customers';
import { SANDBOX_TARIFFS, sandboxCustomer } from '../src/customers/sandboxSeed';
import { backends, countQueries, customerStoreOn } from './helpers/database';

const onboardedExternalIds = Array.from({ length: 25 }, (_, n) => `C-${1001 + n}`);

describe.each(backends)('sandbox seed on %s', (_name, backend) => {
  const { db, store } = customerStoreOn(backend);

  it('creates tariffs, onboarded customers with active contracts and three not yet onboarded', async () => {
    const seeded = await seedSandboxCustomers(store(), { onboardedExternalIds });
    expect(seeded.created).toEqual({ tariffs: 2, customers: 28, contracts: 28 });
    const names = (tariffs: ReadonlyArray<{ name: string }>) => tariffs.map((tariff) => tariff.name).sort();
    expect(names(seeded.tariffs)).toEqual(names(SANDBOX_TARIFFS));
    expect(seeded.tariffs.find((tariff) => tariff.name === 'Basis Strom')).toMatchObject({
      energyPriceCtPerKwh: 32.5,
      basePriceEurPerMonth: 12.9,
      feedInCtPerKwh: 8.1,
    });
    expect(seeded.customers.map((customer) => customer.externalId)).toEqual([
      ...onboardedExternalIds,
      ...NOT_ONBOARDED_EXTERNAL_IDS,
    ]);
    for (const customer of seeded.customers) {
      expect(customer.email).toMatch(/@example\.(com|org|net)$/);
      expect(customer.address?.country).toBe('DE');
    }
    expect(seeded.customers[0]!.name).toBe(sandboxCustomer('C-1001', 0).name);
    expect(new Set(seeded.customers.map((customer) => customer.email)).size).toBe(28);

    const contracts = await store().contractsByCustomerIds(seeded.customers.map((customer) => customer.id));
    expect(contracts.slice(0, 25).every((contract) => contract?.status === 'active')).toBe(true);
    expect(contracts.slice(25).every((contract) => contract?.status === 'pending')).toBe(true);
  });

  it('is idempotent and keeps changes made since', async () => {
    const [before] = await store().customersByExternalIds(['C-1002']);
    await store().upsertCustomer({ externalId: 'C-1002', name: 'Geändert Durch API' });
    const rerun = await countQueries(db(), () => seedSandboxCustomers(store(), { onboardedExternalIds }));
    expect(rerun.result.created).toEqual({ tariffs: 0, customers: 0, contracts: 0 });
    expect(rerun.queries).toBe(3);
    expect(rerun.result.customers[1]).toMatchObject({ id: before!.id, name: 'Geändert Durch API' });

    const counts = await db().query<{ customers: number; tariffs: number; contracts: number }>(
      `SELECT (SELECT count(*)::int FROM customers) AS customers,
              (SELECT count(*)::int FROM tariffs) AS tariffs,
              (SELECT count(*)::int FROM contracts) AS contracts`,
    );
    expect(counts.rows[0]).toEqual({ customers: 28, tariffs: 2, contracts: 28 });
  });

  it('produces the same people for the same externalIds every time', () => {
    // Pinned, not compared with a second call: a seed that varied per process would pass that.
    expect(sandboxCustomer('C-1005', 4)).toEqual({
      externalId: 'C-1005',
      name: 'Marie Weber',
      email: 'marie.weber@example.org',
      phone: '+49 221 1035877',
      address: { street: 'Bahnhofstraße 53', postalCode: '50667', city: 'Köln', country: 'DE' },
    });
    expect(sandboxCustomer('C-1001', 0)).toMatchObject({
      externalId: 'C-1001',
      phone: expect.stringMatching(/^\+49 \d+ \d{7}$/),
    });
  });
});
