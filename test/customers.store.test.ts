import {
  CustomerInputError,
  type Customer,
  type SetContractInput,
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
    let customer: Customer;
    const contract = (overrides: Partial<SetContractInput> = {}) =>
      store().setContract({ customerId: customer.id, tariffId: basis.id, startDate: '2024-01-01', ...overrides });
    const insertContract = (status: string, endDate: string | null = null) =>
      db().query(
        `INSERT INTO contracts (customer_id, tariff_id, start_date, end_date, status)
         VALUES ($1, $2, '2027-05-01', $3, $4)`,
        [customer.id, basis.id, endDate, status],
      );

    beforeAll(async () => {
      basis = await store().upsertTariff({
        name: 'Test Basis',
        energyPriceCtPerKwh: 32.5,
        basePriceEurPerMonth: 12.9,
        feedInCtPerKwh: 8.1,
      });
      oeko = await store().upsertTariff({ name: 'Test Öko', energyPriceCtPerKwh: 29.8, basePriceEurPerMonth: 15.9 });
      customer = await store().upsertCustomer({ externalId: 'K-1', name: 'Kunde Eins' });
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
      const again = await store().upsertTariff({ ...basis, energyPriceCtPerKwh: 33 });
      expect(again).toMatchObject({ id: basis.id, energyPriceCtPerKwh: 33 });
    });

    it('rejects negative prices', async () => {
      const invalid = store().upsertTariff({ name: 'Minus', energyPriceCtPerKwh: -1, basePriceEurPerMonth: 1 });
      expect((await inputError(invalid)).field).toBe('energyPriceCtPerKwh');
      await expect(
        db().query(
          `INSERT INTO tariffs (name, energy_price_ct_per_kwh, base_price_eur_per_month) VALUES ('Raw', 1, -1)`,
        ),
      ).rejects.toMatchObject({ constraint: 'tariffs_base_price_non_negative' });
    });

    it('sets the current contract, idempotently, and switching ends the previous one', async () => {
      const first = await contract();
      expect(first).toMatchObject({
        customerId: customer.id,
        tariffId: basis.id,
        startDate: '2024-01-01',
        endDate: null,
        status: 'active',
      });
      await expect(contract()).resolves.toEqual(first);

      const second = await contract({ tariffId: oeko.id, startDate: '2025-03-01' });
      const { rows } = await db().query<{ id: string; status: string; end_date: string | null }>(
        `SELECT id, status, to_char(end_date, 'YYYY-MM-DD') AS end_date
         FROM contracts WHERE customer_id = $1 ORDER BY start_date`,
        [customer.id],
      );
      expect(rows).toEqual([
        { id: first.id, status: 'ended', end_date: '2025-02-28' },
        { id: second.id, status: 'active', end_date: null },
      ]);
      const [current, none] = await store().contractsByCustomerIds([customer.id, NO_SUCH_ID]);
      expect(current).toEqual(second);
      expect(none).toBeNull();
    });

    it('rejects a contract that ends before it starts', async () => {
      const invalid = contract({ startDate: '2027-05-01', endDate: '2027-04-30', status: 'pending' });
      expect((await inputError(invalid)).field).toBe('endDate');
      await expect(insertContract('pending', '2027-04-30')).rejects.toMatchObject({
        constraint: 'contracts_dates_check',
      });
    });

    it('rejects a second active contract for one customer, and unknown statuses', async () => {
      await expect(insertContract('active')).rejects.toMatchObject({
        constraint: 'contracts_one_active_per_customer',
      });
      await expect(insertContract('paused')).rejects.toMatchObject({ constraint: 'contracts_status_check' });
    });

    it('leaves the current contract untouched when a switch fails half-way', async () => {
      const [before] = await store().contractsByCustomerIds([customer.id]);
      // The active contract is ended before the insert fails on the unknown tariff: all rolled back.
      expect((await inputError(contract({ tariffId: NO_SUCH_ID, startDate: '2026-01-01' }))).field).toBe('tariffId');
      const [after] = await store().contractsByCustomerIds([customer.id]);
      expect(after).toEqual(before);
    });

    it.each([
      ['startDate', { startDate: '2020-01-01' }],
      ['startDate', { startDate: '2026-02-30' }],
      ['customerId', { customerId: NO_SUCH_ID, startDate: '2026-01-01' }],
      ['customerId', { customerId: 'K-1', startDate: '2026-01-01' }],
    ])('rejects a contract with an invalid %s', async (field, overrides) => {
      expect((await inputError(contract(overrides))).field).toBe(field);
    });

    it('parallel switches to the same contract leave exactly one active contract', async () => {
      const other = await store().upsertCustomer({ externalId: 'K-2', name: 'Kunde Zwei' });
      const results = await Promise.all(
        Array.from({ length: 5 }, () =>
          contract({ customerId: other.id, tariffId: oeko.id, startDate: '2024-06-01' }),
        ),
      );
      expect(new Set(results.map((result) => result.id)).size).toBe(1);
      const { rows } = await db().query('SELECT id FROM contracts WHERE customer_id = $1', [other.id]);
      expect(rows).toHaveLength(1);
    });

    it('prefers the active contract over a pending switch, and a new pending one replaces it', async () => {
      const pending = await contract({ startDate: '2026-09-01', status: 'pending' });
      const [current] = await store().contractsByCustomerIds([customer.id]);
      expect(current?.status).toBe('active');
      const replaced = await contract({ tariffId: oeko.id, startDate: '2026-10-01', status: 'pending' });
      expect(replaced.status).toBe('pending');
      const { rows } = await db().query('SELECT status FROM contracts WHERE id = $1', [pending.id]);
      expect(rows).toEqual([{ status: 'cancelled' }]);
    });
  });
});
