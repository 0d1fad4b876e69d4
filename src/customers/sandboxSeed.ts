import type { CustomerStore } from './store';
import type { Customer, Tariff } from './types';
import type { TariffInput, UpsertCustomerInput } from './validation';

/*
 * Fixed sandbox data: the same externalIds always get the same people, addresses and contracts.
 * Emails use the reserved example.* domains.
 */

export const SANDBOX_TARIFFS = [
  { name: 'Basis Strom', energyPriceCtPerKwh: 32.5, basePriceEurPerMonth: 12.9, feedInCtPerKwh: 8.1 },
  { name: 'Öko Dynamik', energyPriceCtPerKwh: 29.8, basePriceEurPerMonth: 15.9, feedInCtPerKwh: 8.1 },
] as const satisfies readonly TariffInput[];

/** Customers who signed a contract but whose IOmeter is not installed yet. */
export const NOT_ONBOARDED_EXTERNAL_IDS = ['C-2001', 'C-2002', 'C-2003'] as const;

const FIRST_NAMES = [
  'Anna', 'Lukas', 'Sophie', 'Maximilian', 'Marie', 'Felix', 'Laura', 'Jonas', 'Lea', 'Paul',
  'Hannah', 'Leon', 'Julia', 'Finn', 'Emma', 'Elias', 'Mia', 'Noah', 'Lena', 'Ben',
  'Clara', 'Tim', 'Johanna', 'David', 'Katharina', 'Moritz', 'Greta', 'Jan',
];
const LAST_NAMES = [
  'Müller', 'Schmidt', 'Schneider', 'Fischer', 'Weber', 'Meyer', 'Wagner', 'Becker', 'Schulz',
  'Hoffmann', 'Schäfer', 'Koch', 'Bauer', 'Richter', 'Klein', 'Wolf', 'Schröder', 'Neumann',
  'Schwarz', 'Zimmermann', 'Braun', 'Krüger', 'Hofmann', 'Hartmann', 'Lange', 'Weiß', 'Jäger',
];
const STREETS = [
  'Hauptstraße', 'Bahnhofstraße', 'Gartenweg', 'Lindenallee', 'Schillerstraße', 'Goethestraße',
  'Am Markt', 'Kirchweg', 'Bergstraße', 'Rosenweg', 'Mozartstraße', 'Birkenweg', 'Schulstraße',
];
const CITIES: ReadonlyArray<readonly [postalCode: string, city: string, areaCode: string]> = [
  ['10115', 'Berlin', '30'], ['20095', 'Hamburg', '40'], ['80331', 'München', '89'],
  ['50667', 'Köln', '221'], ['60311', 'Frankfurt am Main', '69'], ['70173', 'Stuttgart', '711'],
  ['40213', 'Düsseldorf', '211'], ['04109', 'Leipzig', '341'], ['01067', 'Dresden', '351'],
  ['30159', 'Hannover', '511'], ['90402', 'Nürnberg', '911'], ['28195', 'Bremen', '421'],
  ['44135', 'Dortmund', '231'], ['69117', 'Heidelberg', '6221'], ['79098', 'Freiburg im Breisgau', '761'],
  ['48143', 'Münster', '251'], ['93047', 'Regensburg', '941'], ['24103', 'Kiel', '431'],
];
const MAIL_DOMAINS = ['example.com', 'example.org', 'example.net'];

const pick = <T>(list: readonly T[], index: number): T => list[index % list.length] as T;

function asciiLower(value: string): string {
  return value
    .replace(/ä/g, 'ae').replace(/ö/g, 'oe').replace(/ü/g, 'ue').replace(/ß/g, 'ss')
    .replace(/Ä/g, 'Ae').replace(/Ö/g, 'Oe').replace(/Ü/g, 'Ue')
    .toLowerCase();
}

/** The n-th sandbox person (n ≥ 0), the same for every run. */
export function sandboxCustomer(externalId: string, n: number): UpsertCustomerInput {
  const first = pick(FIRST_NAMES, n);
  const last = pick(LAST_NAMES, n * 7 + 3);
  const [postalCode, city, areaCode] = pick(CITIES, n * 5 + 1);
  const subscriber = 1_000_000 + ((n * 7_919 + 4_201) % 9_000_000);
  const mailbox = `${asciiLower(first)}.${asciiLower(last)}${n >= FIRST_NAMES.length ? n : ''}`;
  return {
    externalId,
    name: `${first} ${last}`,
    email: `${mailbox}@${pick(MAIL_DOMAINS, n)}`,
    phone: `+49 ${areaCode} ${subscriber}`,
    address: {
      street: `${pick(STREETS, n * 3 + 2)} ${1 + ((n * 13) % 97)}`,
      postalCode,
      city,
      country: 'DE',
    },
  };
}

export interface SandboxSeedResult {
  tariffs: Tariff[];
  /** Onboarded customers first, in the order given, then the not-onboarded ones. */
  customers: Customer[];
  /** How many customers and contracts this run created (0 when everything already existed). */
  created: { tariffs: number; customers: number; contracts: number };
}

/**
 * Creates what is missing of the sandbox data and leaves everything that exists alone, so a restart
 * keeps changes made through the API. Onboarded customers get an active contract, the others a
 * pending one. A second run costs three queries.
 */
export async function seedSandboxCustomers(
  store: CustomerStore,
  options: { onboardedExternalIds: readonly string[] },
): Promise<SandboxSeedResult> {
  const created = { tariffs: 0, customers: 0, contracts: 0 };

  const tariffs = await store.listTariffs();
  for (const tariff of SANDBOX_TARIFFS) {
    if (tariffs.some((existing) => existing.name === tariff.name)) continue;
    tariffs.push((await store.upsertTariff(tariff)).after);
    created.tariffs += 1;
  }
  const tariffFor = (n: number): Tariff => {
    const name = pick(SANDBOX_TARIFFS, n % 3 === 2 ? 1 : 0).name;
    return tariffs.find((tariff) => tariff.name === name) as Tariff;
  };

  const onboarded = new Set(options.onboardedExternalIds);
  const externalIds = [
    ...options.onboardedExternalIds,
    ...NOT_ONBOARDED_EXTERNAL_IDS.filter((id) => !onboarded.has(id)),
  ];
  const existing = await store.customersByExternalIds(externalIds);
  const customers: Customer[] = [];
  for (const [n, externalId] of externalIds.entries()) {
    let customer = existing[n];
    if (!customer) {
      customer = await store.upsertCustomer(sandboxCustomer(externalId, n));
      created.customers += 1;
    }
    customers.push(customer);
  }

  const contracts = await store.contractsByCustomerIds(customers.map((customer) => customer.id));
  for (const [n, customer] of customers.entries()) {
    if (contracts[n]) continue;
    const isOnboarded = onboarded.has(customer.externalId);
    // Supply started in 2024 for onboarded customers; the others switch to us in 2027 (pending until then).
    const nth = isOnboarded ? n : n - options.onboardedExternalIds.length;
    const month = String(1 + (nth % 12)).padStart(2, '0');
    await store.upsertContract({
      customerExternalId: customer.externalId,
      tariffId: tariffFor(n).id,
      startDate: isOnboarded ? `2024-${month}-01` : `2027-${month}-01`,
    });
    created.contracts += 1;
  }

  return { tariffs, customers, created };
}
