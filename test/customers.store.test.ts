import {
  CustomerInputError,
  CustomerStore,
  type Customer,
  type Tariff,
} from '../src/customers';
import { backends, countQueries, customerStoreOn } from './helpers/database';

const NO_SUCH_ID = '00000000-0000-4000-8000-000000000000';

async function inputError(promise: Promise<unknown>): Promise<CustomerInputError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(CustomerInputError);
  return error as CustomerInputError;
}

describe.each(backends)('customer store on %s', (_name, backend) => {
  const { db, store } = customerStoreOn(backend);

  const countRows = async (externalId: string) =>
    (
      await db().query<{ count: number }>(
        'SELECT count(*)::int AS count FROM customers WHERE external_id = $1',
        [externalId],
      )
    ).rows[0]?.count;

  describe('upsertCustomer', () => {
    it('creates a customer, then updates the same row by externalId', async () => {
      const created = await store().upsertCustomer({
        externalId: 'U-1',
        name: '  Anna Müller ',
        email: 'anna.mueller@example.com',
        phone: '+49 30 1234567',
        address: { street: 'Hauptstraße 5', postalCode: '10115', city: 'Berlin', country: 'de' },
      });
      expect(created).toMatchObject({
        externalId: 'U-1',
        name: 'Anna Müller',
        email: 'anna.mueller@example.com',
        phone: '+49 30 1234567',
        address: { street: 'Hauptstraße 5', postalCode: '10115', city: 'Berlin', country: 'DE' },
      });
      expect(created.createdAt).toBeInstanceOf(Date);
      expect(created.updatedAt.getTime()).toBe(created.createdAt.getTime());

      await new Promise((resolve) => setTimeout(resolve, 5));
      const updated = await store().upsertCustomer({ externalId: 'U-1', name: 'Anna Schmidt', email: '' });
      expect(updated.id).toBe(created.id);
      expect(updated).toMatchObject({ name: 'Anna Schmidt', email: null, phone: null, address: null });
      expect(updated.createdAt.getTime()).toBe(created.createdAt.getTime());
      expect(updated.updatedAt.getTime()).toBeGreaterThan(created.updatedAt.getTime());
      expect(await countRows('U-1')).toBe(1);
    });

    it('parallel upserts of one externalId all succeed and leave one row', async () => {
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, n) =>
          store().upsertCustomer({ externalId: 'U-RACE', name: `Racer ${n}` }),
        ),
      );
      expect(new Set(results.map((customer) => customer.id)).size).toBe(1);
      expect(await countRows('U-RACE')).toBe(1);
    });

    it.each([
      ['email', { externalId: 'U-BAD-1', name: 'Bad Mail', email: 'not-an-email' }],
      ['externalId', { externalId: '-starts-with-dash', name: 'Bad Id' }],
      ['externalId', { externalId: 'x'.repeat(65), name: 'Long Id' }],
      ['name', { externalId: 'U-BAD-2' }],
      ['name', { externalId: 'U-BAD-3', name: '   ' }],
      ['phone', { externalId: 'U-BAD-4', name: 'Bad Phone', phone: 'call me' }],
      ['address.postalCode', { externalId: 'U-BAD-5', name: 'No Code', address: { street: 'Weg 1', city: 'Kiel' } }],
      [
        'address.country',
        {
          externalId: 'U-BAD-6',
          name: 'Bad Land',
          address: { street: 'Weg 1', postalCode: '24103', city: 'Kiel', country: 'GER' },
        },
      ],
    ])('rejects an invalid %s and writes nothing', async (field, input) => {
      const before = await db().query<{ count: number }>('SELECT count(*)::int AS count FROM customers');
      const error = await inputError(store().upsertCustomer(input as never));
      expect(error.field).toBe(field);
      expect(error.code).toBe('BAD_USER_INPUT');
      expect(error.message).toContain(field);
      const after = await db().query<{ count: number }>('SELECT count(*)::int AS count FROM customers');
      expect(after.rows[0]?.count).toBe(before.rows[0]?.count);
    });

    it('keeps the database constraints as a second line of defence', async () => {
      await expect(
        db().query(`INSERT INTO customers (external_id, name, email) VALUES ('U-RAW', 'Raw', 'nope')`),
      ).rejects.toMatchObject({ constraint: 'customers_email_format' });
      await expect(
        db().query(`INSERT INTO customers (external_id, name, city) VALUES ('U-RAW', 'Raw', 'Kiel')`),
      ).rejects.toMatchObject({ constraint: 'customers_address_complete' });
    });
  });

  describe('batch lookups', () => {
    let customers: Customer[];
    beforeAll(async () => {
      customers = [];
      for (let n = 0; n < 60; n += 1) {
        customers.push(await store().upsertCustomer({ externalId: `B-${n}`, name: `Batch ${n}` }));
      }
    });

    it('customersByExternalIds answers 100 keys with one query, in key order, null for misses', async () => {
      const keys = Array.from({ length: 100 }, (_, n) => (n % 2 === 0 ? `B-${59 - (n % 60)}` : `MISSING-${n}`));
      const { result, queries } = await countQueries(db(), () => store().customersByExternalIds(keys));
      expect(queries).toBe(1);
      expect(result).toHaveLength(100);
      result.forEach((customer, n) => {
        if (n % 2 === 0) expect(customer?.externalId).toBe(keys[n]);
        else expect(customer).toBeNull();
      });
    });

    it('customersByIds answers in key order, repeats keys and treats malformed ids as misses', async () => {
      const [zero, , , three] = customers as [Customer, Customer, Customer, Customer];
      const ids = [three.id, 'not-a-uuid', NO_SUCH_ID, three.id.toUpperCase(), zero.id];
      const { result, queries } = await countQueries(db(), () => store().customersByIds(ids));
      expect(queries).toBe(1);
      expect(result.map((customer) => customer?.externalId ?? null)).toEqual(['B-3', null, null, 'B-3', 'B-0']);
      await expect(countQueries(db(), () => store().customersByIds(['nope']))).resolves.toEqual({
        result: [null],
        queries: 0,
      });
      await expect(store().customersByExternalIds([])).resolves.toEqual([]);
    });
  });

  it(`a repeated lookup costs ${'$'}{backend.name === 'pglite' ? 'no query (the embedded database has one writer: this process)' : 'a query (PostgreSQL has other writers)'}, and every upsert is seen at once`, async () => {
    const first = await store().upsertCustomer({ externalId: 'R-1', name: 'Remembered' });
    await store().customersByExternalIds(['R-1', 'R-MISSING']);
    const again = await countQueries(db(), () => Promise.all([store().customersByExternalIds(['R-1', 'R-MISSING']), store().customersByIds([first.id])]));
    expect(again.queries).toBe(backend.name === 'pglite' ? 0 : 2);
    expect(again.result.flat().map((customer) => customer?.name ?? null)).toEqual(['Remembered', null, 'Remembered']);
    // What is remembered is also answered synchronously (a stitched customer without a promise).
    const known = ['R-1', 'R-MISSING', 'R-NEVER-LOOKED-UP'].map((externalId) => store().knownByExternalId(externalId));
    expect(known.map((customer) => (customer === undefined ? 'unknown' : (customer?.name ?? null)))).toEqual(
      backend.name === 'pglite' ? ['Remembered', null, 'unknown'] : ['unknown', 'unknown', 'unknown'],
    );

    // Another store on the same database (as the sandbox seeder has) writes: both see it.
    const other = new CustomerStore(db());
    await other.upsertCustomer({ externalId: 'R-1', name: 'Renamed' });
    await other.upsertCustomer({ externalId: 'R-MISSING', name: 'Now There' });
    const [byExternalId, byId] = await Promise.all([store().customersByExternalIds(['R-1', 'R-MISSING']), store().customersByIds([first.id])]);
    expect([...byExternalId, ...byId].map((customer) => customer?.name)).toEqual(['Renamed', 'Now There', 'Renamed']);
    await other.upsertCustomer({ externalId: 'R-1', name: 'Renamed Again' });
    expect(store().knownByExternalId('R-1')).toBeUndefined();
  });

  it('a lookup that overlaps an upsert does not remember what it read before the write', async () => {
    await store().upsertCustomer({ externalId: 'O-1', name: 'Before' });
    await Promise.all([store().customersByExternalIds(['O-1']), store().upsertCustomer({ externalId: 'O-1', name: 'After' })]);
    expect((await store().customersByExternalIds(['O-1']))[0]?.name).toBe('After');
  });

  describe('searchCustomers', () => {
    beforeAll(async () => {
      const surnames = ['Adler', 'Berg', 'Cramer', 'Dorn', 'Eich', 'Falk', 'Gatz'];
      for (const [n, surname] of surnames.entries()) {
        const name = `${n === 1 ? 'quendolin' : 'Quendolin'} ${surname}`;
        await store().upsertCustomer({ externalId: `S-${n}`, name, email: `q${n}@example.org` });
      }
      await store().upsertCustomer({ externalId: 'S-MAIL', name: 'Someone Else', email: 'QUENDOLIN.fan@example.net' });
      await store().upsertCustomer({ externalId: 'QUENDO-ID', name: 'Third Person' });
      for (let n = 0; n < 25; n += 1) {
        await store().upsertCustomer({ externalId: `P-${n}`, name: `Paginata ${String(n).padStart(2, '0')}` });
      }
    });

    it('matches name, email and externalId ignoring case', async () => {
      const page = await store().searchCustomers({ search: 'QUENDO', first: 100 });
      expect(page.totalCount).toBe(9);
      expect(page.nodes.map((customer) => customer.externalId).sort()).toEqual(
        ['QUENDO-ID', 'S-0', 'S-1', 'S-2', 'S-3', 'S-4', 'S-5', 'S-6', 'S-MAIL'].sort(),
      );
      const externalIds = async (search: string) =>
        (await store().searchCustomers({ search })).nodes.map((customer) => customer.externalId);
      expect(await externalIds('q3@EXAMPLE')).toEqual(['S-3']);
      expect(await externalIds('s-ma')).toEqual(['S-MAIL']);
    });

    it('treats LIKE wildcards in the search as plain characters', async () => {
      expect((await store().searchCustomers({ search: '%' })).totalCount).toBe(0);
      expect((await store().searchCustomers({ search: 'Quendolin_' })).totalCount).toBe(0);
    });

    it('pages through all matches with cursors in a stable order', async () => {
      const all = await store().searchCustomers({ search: 'quendolin', first: 100 });
      const seen: string[] = [];
      let after: string | null = null;
      let pages = 0;
      for (;;) {
        const page = await store().searchCustomers({ search: 'quendolin', first: 3, after });
        pages += 1;
        expect(page.totalCount).toBe(8);
        expect(page.nodes.length).toBeLessThanOrEqual(3);
        expect(page.edges.map((edge) => edge.node)).toEqual(page.nodes);
        seen.push(...page.nodes.map((customer) => customer.id));
        if (!page.hasNextPage) break;
        expect(page.endCursor).toBe(page.edges.at(-1)?.cursor);
        after = page.endCursor;
      }
      expect(pages).toBe(3);
      expect(seen).toEqual(all.nodes.map((customer) => customer.id));
      expect(new Set(seen).size).toBe(8);
    });

    it('defaults to 20 per page and says when there is more', async () => {
      const first = await store().searchCustomers({ search: 'Paginata' });
      expect(first.nodes).toHaveLength(20);
      expect(first.totalCount).toBe(25);
      expect(first.hasNextPage).toBe(true);
      expect(first.nodes[0]?.name).toBe('Paginata 00');
      const rest = await store().searchCustomers({ search: 'Paginata', after: first.endCursor });
      expect(rest.nodes.map((customer) => customer.name)).toEqual([20, 21, 22, 23, 24].map((n) => `Paginata ${n}`));
      expect(rest.hasNextPage).toBe(false);
    });

    it('returns an empty page with the total when nothing is left', async () => {
      const page = await store().searchCustomers({ search: 'no such customer anywhere' });
      expect(page).toEqual({ edges: [], nodes: [], totalCount: 0, hasNextPage: false, endCursor: null });
    });

    it('lists everyone without a search', async () => {
      const { totalCount } = await db()
        .query<{ totalCount: number }>('SELECT count(*)::int AS "totalCount" FROM customers')
        .then((result) => result.rows[0]!);
      expect((await store().searchCustomers({ first: 1 })).totalCount).toBe(totalCount);
    });

    it.each([0, -1, 101, 2.5])('rejects first = %p', async (first) => {
      expect((await inputError(store().searchCustomers({ first }))).field).toBe('first');
    });

    it.each(['garbage', Buffer.from('["x","not-a-uuid"]').toString('base64url')])(
      'rejects the cursor %p',
      async (after) => {
        expect((await inputError(store().searchCustomers({ after }))).field).toBe('after');
      },
    );

    it('reads an empty cursor as the start, as GraphQL clients often send one', async () => {
      const page = await store().searchCustomers({ search: 'Paginata', after: '' });
      expect(page.nodes[0]?.name).toBe('Paginata 00');
    });
  });

  describe('tariffs and contracts', () => {
    let basis: Tariff;
    let oeko: Tariff;

    beforeAll(async () => {
      ({ after: basis } = await store().upsertTariff({
        name: 'Test Basis',
        energyPriceCtPerKwh: 32.5,
        basePriceEurPerMonth: 12.9,
        feedInCtPerKwh: 8.1,
      }));
      ({ after: oeko } = await store().upsertTariff({ name: 'Test Öko', energyPriceCtPerKwh: 29.8, basePriceEurPerMonth: 15.9 }));
      await store().upsertCustomer({ externalId: 'K-1', name: 'Kunde Eins' });
    });

    it('stores tariffs with exact prices and finds them by id', async () => {
      expect(basis).toEqual({
        id: expect.any(String),
        name: 'Test Basis',
        energyPriceCtPerKwh: 32.5,
        basePriceEurPerMonth: 12.9,
        feedInCtPerKwh: 8.1,
      });
      expect(oeko.feedInCtPerKwh).toBe(0);
      const { result, queries } = await countQueries(db(), () =>
        store().tariffsByIds([oeko.id, NO_SUCH_ID, basis.id]),
      );
      expect(queries).toBe(1);
      expect(result.map((tariff) => tariff?.name ?? null)).toEqual(['Test Öko', null, 'Test Basis']);
      const names = (await store().listTariffs()).map((tariff) => tariff.name);
      expect(names).toEqual(expect.arrayContaining(['Test Basis', 'Test Öko']));
      const again = await store().upsertTariff({ ...basis, energyPriceCtPerKwh: 33.1234 });
      expect(again).toEqual({ before: basis, after: { ...basis, energyPriceCtPerKwh: 33.1234 } });
      basis = again.after;
    });

    it.each([
      ['a negative price', { energyPriceCtPerKwh: -1 }, 'energyPriceCtPerKwh'],
      ['more decimals than stored', { energyPriceCtPerKwh: 0.1 + 0.2 }, 'energyPriceCtPerKwh'],
      ['cents below a cent', { basePriceEurPerMonth: 12.345 }, 'basePriceEurPerMonth'],
    ])('rejects %s', async (_case, overrides, field) => {
      const invalid = store().upsertTariff({ name: 'Minus', energyPriceCtPerKwh: 1, basePriceEurPerMonth: 1, ...overrides });
      expect((await inputError(invalid)).field).toBe(field);
      await expect(
        db().query(`INSERT INTO tariffs (name, energy_price_ct_per_kwh, base_price_eur_per_month) VALUES ('Raw', 1, -1)`),
      ).rejects.toMatchObject({ constraint: 'tariffs_base_price_non_negative' });
    });

    it('derives pending, active and ended from the dates, and the current contract is the one in force', async () => {
      const ended = await store().upsertContract({ customerExternalId: 'K-1', tariffId: basis.id, startDate: '2024-01-01', endDate: '2024-12-31' });
      const active = await store().upsertContract({ customerExternalId: 'K-1', tariffId: oeko.id, startDate: '2025-01-01', endDate: '2099-12-31' });
      expect([ended.after.status, active.after.status]).toEqual(['ended', 'active']);
      const [current, none] = await store().contractsByCustomerIds([active.after.customerId, NO_SUCH_ID]);
      expect(current).toEqual(active.after);
      expect(none).toBeNull();
      const [history] = await store().contractHistoriesByCustomerIds([active.after.customerId]);
      expect(history!.map((contract) => contract.id)).toEqual([active.after.id, ended.after.id]);
    });
  });
});
