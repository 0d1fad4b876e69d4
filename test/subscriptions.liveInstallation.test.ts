import { CustomerStore } from '../src/customers/store';
import { apiKeyEnv } from './helpers/apiKeys';
import { postGraphQL, subscribeWs, type Subscribed } from './helpers/clients';
import { postgresBackend, type TestDatabase } from './helpers/database';
import { waitFor } from './helpers/simulator';
import { startStack, type Stack } from './helpers/stack';

/*
 * Installations on live readings (the lazy `meter { installation }` of scheduledReadings, and a stitched
 * customer's `installation`) come from a process-wide loader whose entries expire after
 * SUBSCRIPTION_LOOKUP_TTL, shared by every subscription: a subscription open for hours must not serve
 * the installation as it was when it started, and sharing must not mix up clients or identities.
 */

const STAFF = { 'x-api-key': 'staff-key' };
const CUSTOMER_A = { 'x-api-key': 'c1001-key' };
const CUSTOMER_B = { 'x-api-key': 'c1002-key' };

/** Waits for the subscriptions to have received what the test waits for; fails naming it otherwise. */
const settled = (condition: () => boolean, what: string) => waitFor(condition, 15_000, what);

function live<T = any>(stack: Stack, query: string, connectionParams: Record<string, string>, variables?: Record<string, unknown>): Subscribed<T> {
  const subscription = subscribeWs<T>(stack.gateway.wsUrl, query, 1_000_000, { connectionParams, variables });
  subscription.done.catch(() => undefined);
  return subscription;
}

describe('installations on live readings', () => {
  let testDb: TestDatabase;
  let stack: Stack;
  let installationIds: Record<string, string>;
  const subscriptions: Array<Subscribed<any>> = [];

  const setLicenseEnd = async (externalId: string, endTime: string) => {
    const { body } = await postGraphQL(
      stack.gateway.url,
      'mutation ($id: Uuid!, $endTime: DateTime!) { updateLicense(installationId: $id, setEndTime: { endTime: $endTime }) { endTime } }',
      { id: installationIds[externalId], endTime },
      STAFF,
    );
    expect(body.errors).toBeUndefined();
  };

  beforeAll(async () => {
    testDb = await postgresBackend.open();
    stack = await startStack({
      database: testDb.db,
      simulator: { installations: 3 },
      env: {
        ...apiKeyEnv({ staff: 'staff-key', customers: { 'C-1001': 'c1001-key', 'C-1002': 'c1002-key' } }),
        SUBSCRIPTION_LOOKUP_TTL: '300ms',
      },
    });
    const store = new CustomerStore(testDb.db);
    for (const externalId of ['C-1001', 'C-1002', 'C-1003']) await store.upsertCustomer({ externalId, name: `Customer ${externalId}` });
    const { body } = await postGraphQL(stack.gateway.url, '{ provider { installations { id externalId } } }', undefined, STAFF);
    installationIds = Object.fromEntries(body.data.provider.installations.map((each: { id: string; externalId: string }) => [each.externalId, each.id]));
  });
  afterEach(() => {
    for (const subscription of subscriptions.splice(0)) subscription.close();
  });
  afterAll(async () => {
    await stack?.close();
    await testDb?.cleanup();
  });

  it('shows an installation change upstream on a running subscription\'s meter { installation } within the TTL', async () => {
    const scheduled = live(
      stack,
      'subscription { scheduledReadings(obisCodes: ["1-0:1.8.0"]) { meter { installation { externalId license { endTime } } } } }',
      STAFF,
    );
    subscriptions.push(scheduled);
    const endTimesOfC1001 = () =>
      scheduled.results
        .map((result) => result.data?.scheduledReadings.meter.installation)
        .filter((installation) => installation?.externalId === 'C-1001')
        .map((installation) => Date.parse(installation.license.endTime));

    await setLicenseEnd('C-1001', '2031-01-31T00:00:00Z');
    await settled(() => endTimesOfC1001().includes(Date.parse('2031-01-31T00:00:00Z')), "C-1001's first new license end");
    await setLicenseEnd('C-1001', '2032-02-29T00:00:00Z');
    await settled(() => endTimesOfC1001().includes(Date.parse('2032-02-29T00:00:00Z')), "C-1001's second new license end");
    expect(scheduled.results.every((result) => !result.errors)).toBe(true);
    expect(endTimesOfC1001().at(-1)).toBe(Date.parse('2032-02-29T00:00:00Z'));
  });

  it('shares the cache across staff and customers without showing anyone another installation, and refreshes it for customers too', async () => {
    const selection = 'installation { externalId customer { externalId installation { id externalId license { endTime } } } }';
    const staff = live(stack, `subscription { readings { ${selection} } }`, STAFF);
    const a = live(stack, `subscription { myReadings { ${selection} } }`, CUSTOMER_A);
    const b = live(stack, `subscription { myReadings { ${selection} } }`, CUSTOMER_B);
    subscriptions.push(staff, a, b);
    const stitched = (subscription: Subscribed<any>, field: string) =>
      subscription.results.map((result) => {
        expect(result.errors).toBeUndefined();
        return result.data[field].installation.customer.installation;
      });

    await settled(() => a.results.length > 0, 'a first myReadings for C-1001');
    expect(Date.parse(stitched(a, 'myReadings')[0]!.license.endTime)).not.toBe(Date.parse('2033-03-31T00:00:00Z'));
    await setLicenseEnd('C-1001', '2033-03-31T00:00:00Z');
    await settled(() => stitched(a, 'myReadings').some((installation) => Date.parse(installation.license.endTime) === Date.parse('2033-03-31T00:00:00Z')), "C-1001's new license end on myReadings");
    await settled(() => stitched(b, 'myReadings').length >= 3 && new Set(stitched(staff, 'readings').map((installation) => installation.externalId)).size === 3, 'three readings for C-1002 and staff readings of all three installations');

    expect(new Set(stitched(a, 'myReadings').map((installation) => [installation.id, installation.externalId].join()))).toEqual(new Set([`${installationIds['C-1001']},C-1001`]));
    expect(new Set(stitched(b, 'myReadings').map((installation) => [installation.id, installation.externalId].join()))).toEqual(new Set([`${installationIds['C-1002']},C-1002`]));
    expect(Date.parse(stitched(a, 'myReadings').at(-1)!.license.endTime)).toBe(Date.parse('2033-03-31T00:00:00Z'));
    // Staff saw every installation meanwhile, each under its own customer, through the same cache.
    for (const installation of stitched(staff, 'readings')) expect(installation.id).toBe(installationIds[installation.externalId]);
  });

  it('keeps apart clients whose selections differ only in a fragment\'s body or a variable\'s value', async () => {
    const scheduled = (fragment: string, withLicense: boolean) =>
      live(
        stack,
        `subscription ($withLicense: Boolean!) { scheduledReadings(obisCodes: ["1-0:1.8.0"]) { meter { installation { ...Shape } } } }
         fragment Shape on IometerInstallation { ${fragment} license @include(if: $withLicense) { startTime } }`,
        STAFF,
        { withLicense },
      );
    const clients = [scheduled('id', true), scheduled('externalId', false), scheduled('id', false), scheduled('externalId', true)];
    subscriptions.push(...clients);
    await settled(() => clients.every((client) => client.results.length >= 6), 'six readings for every client');

    const shapes = clients.map((client) =>
      client.results.map((result) => {
        expect(result.errors).toBeUndefined();
        const installation = result.data.scheduledReadings.meter.installation;
        // Which fields came back, and whether each holds a value (a shared fetch of another shape would leave nulls).
        return [Object.keys(installation).sort().join(), Object.values(installation).every((value) => value != null)];
      }),
    );
    expect(shapes.map((each) => each.length >= 6)).toEqual([true, true, true, true]);
    expect(new Set(shapes[0]!.map((shape) => shape.join()))).toEqual(new Set(['id,license,true']));
    expect(new Set(shapes[1]!.map((shape) => shape.join()))).toEqual(new Set(['externalId,true']));
    expect(new Set(shapes[2]!.map((shape) => shape.join()))).toEqual(new Set(['id,true']));
    expect(new Set(shapes[3]!.map((shape) => shape.join()))).toEqual(new Set(['externalId,license,true']));
  });
});
