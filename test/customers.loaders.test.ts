import { createCustomerLoaders, type Customer } from '../src/customers';
import { backends, countQueries, customerStoreOn } from './helpers/database';

describe.each(backends)('customer loaders on %s', (_name, backend) => {
  const { db, store } = customerStoreOn(backend);
  let customers: Customer[];
  beforeAll(async () => {
    customers = [];
    for (let n = 0; n < 50; n += 1) {
      customers.push(await store().upsertCustomer({ externalId: `L-${n}`, name: `Loader ${n}` }));
    }
    const { after: tariff } = await store().upsertTariff({
      name: 'Loader Tarif',
      energyPriceCtPerKwh: 30,
      basePriceEurPerMonth: 10,
    });
    for (const customer of customers.slice(0, 10)) {
      await store().upsertContract({ customerExternalId: customer.externalId, tariffId: tariff.id, startDate: '2024-01-01' });
    }
  });

  it('batches 100 loads by externalId into one query, null for misses', async () => {
    const loaders = createCustomerLoaders(store());
    const keys = Array.from({ length: 100 }, (_, n) => (n < 50 ? `L-${49 - n}` : `NOBODY-${n}`));
    const { result, queries } = await countQueries(db(), () =>
      Promise.all(keys.map((key) => loaders.customerByExternalId.load(key))),
    );
    expect(queries).toBe(1);
    expect(result.slice(0, 50).map((customer) => customer?.externalId)).toEqual(keys.slice(0, 50));
    expect(result.slice(50).every((customer) => customer === null)).toBe(true);
  });

  it('batches loads by id and caches a customer under both keys', async () => {
    // An upsert makes the embedded store forget the lookups above, so this batch reaches the database.
    await store().upsertCustomer({ externalId: 'L-49', name: 'Loader 49' });
    const loaders = createCustomerLoaders(store());
    const { result, queries } = await countQueries(db(), () =>
      Promise.all(customers.map((customer) => loaders.customerById.load(customer.id))),
    );
    expect(queries).toBe(1);
    expect(result.map((customer) => customer?.id)).toEqual(customers.map((customer) => customer.id));
    const again = await countQueries(db(), () =>
      Promise.all([loaders.customerByExternalId.load('L-7'), loaders.customerById.load(customers[7]!.id)]),
    );
    expect(again.queries).toBe(0);
    expect(again.result[0]).toBe(again.result[1]);
  });

  it('loads contracts and their tariffs with one query each', async () => {
    const loaders = createCustomerLoaders(store());
    const contracts = await countQueries(db(), () =>
      Promise.all(customers.map((customer) => loaders.contractByCustomerId.load(customer.id))),
    );
    expect(contracts.queries).toBe(1);
    expect(contracts.result.filter(Boolean)).toHaveLength(10);
    expect(contracts.result[0]?.customerId).toBe(customers[0]!.id);
    expect(contracts.result[10]).toBeNull();

    const tariffs = await countQueries(db(), () =>
      Promise.all(contracts.result.map((contract) => contract && loaders.tariffById.load(contract.tariffId))),
    );
    expect(tariffs.queries).toBe(1);
    expect(tariffs.result[0]?.name).toBe('Loader Tarif');
  });

  it('gives each request its own cache', async () => {
    const first = createCustomerLoaders(store());
    await first.customerByExternalId.load('L-1');
    await store().upsertCustomer({ externalId: 'L-1', name: 'Renamed' });
    const second = createCustomerLoaders(store());
    expect((await first.customerByExternalId.load('L-1'))?.name).toBe('Loader 1');
    expect((await second.customerByExternalId.load('L-1'))?.name).toBe('Renamed');
  });
});
