import { createClient, type Client, type FormattedExecutionResult } from 'graphql-ws';
import WebSocket from 'ws';
import type { RunningSimulator } from '../../src/simulator';

/** Shared by the simulator test files: a real client over HTTP and graphql-ws, nothing mocked. */

export const basicAuth = (token: string, secret: string) =>
  `Basic ${Buffer.from(`${token}:${secret}`).toString('base64')}`;

export const simulatorAuth = (sim: RunningSimulator) => basicAuth(sim.token, sim.secret);

export interface GraphQLResponse<T = any> {
  status: number;
  headers: Headers;
  body: { data?: T; errors?: Array<{ message: string; extensions?: { code?: string } }> };
}

export async function gql<T = any>(
  sim: RunningSimulator,
  query: string,
  variables?: Record<string, unknown>,
  authorization: string | null = simulatorAuth(sim),
): Promise<GraphQLResponse<T>> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (authorization !== null) headers.authorization = authorization;
  const response = await fetch(sim.url, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  return { status: response.status, headers: response.headers, body: await response.json() };
}

/** Like gql, but fails the test on any GraphQL error. */
export async function data<T = any>(
  sim: RunningSimulator,
  query: string,
  variables?: Record<string, unknown>,
): Promise<T> {
  const response = await gql<T>(sim, query, variables);
  expect(response.body.errors).toBeUndefined();
  expect(response.status).toBe(200);
  return response.body.data as T;
}

export function errorCodes(response: GraphQLResponse): Array<string | undefined> {
  return (response.body.errors ?? []).map((error) => error.extensions?.code);
}

/** A WebSocket that sends Authorization on the HTTP upgrade request. */
function webSocketWithHeaders(headers: Record<string, string>) {
  return class extends WebSocket {
    constructor(address: string, protocols?: string | string[]) {
      super(address, protocols, { headers });
    }
  };
}

export function wsClient(
  sim: RunningSimulator,
  options: { connectionParams?: Record<string, unknown>; upgradeHeaders?: Record<string, string> } = {},
): Client {
  return createClient({
    url: sim.wsUrl,
    webSocketImpl: options.upgradeHeaders ? webSocketWithHeaders(options.upgradeHeaders) : WebSocket,
    connectionParams: options.connectionParams,
    retryAttempts: 0,
    lazy: true,
  });
}

export const authorizedWsClient = (sim: RunningSimulator) =>
  wsClient(sim, { connectionParams: { authorization: simulatorAuth(sim) } });

/**
 * Subscribes and collects results until `done` says so (or the server completes), then unsubscribes.
 * Rejects with whatever the client reports as an error (GraphQL errors or a CloseEvent).
 */
export function collect<T = any>(
  client: Client,
  payload: { query: string; variables?: Record<string, unknown> },
  done: (results: Array<FormattedExecutionResult<T, unknown>>) => boolean,
  timeoutMs = 10_000,
): Promise<Array<FormattedExecutionResult<T, unknown>>> {
  const results: Array<FormattedExecutionResult<T, unknown>> = [];
  return new Promise((resolve, reject) => {
    let unsubscribe = () => {};
    const finish = (outcome: () => void) => {
      clearTimeout(timer);
      unsubscribe();
      outcome();
    };
    const timer = setTimeout(
      () => finish(() => reject(new Error(`timed out after ${results.length} results`))),
      timeoutMs,
    );
    unsubscribe = client.subscribe<T>(payload, {
      next: (result) => {
        results.push(result);
        if (done(results)) finish(() => resolve(results));
      },
      error: (error) => finish(() => reject(error)),
      complete: () => finish(() => resolve(results)),
    });
  });
}

/** Polls until the condition holds; past the deadline it fails naming what did not happen. */
export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs = 5_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`${what}: not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * The promise's value, or a failure naming what did not arrive once the deadline passes. The deadline
 * only keeps a regression from hanging until jest's generic timeout; it is no performance limit.
 */
export async function within<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: did not arrive within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A reading's identity: the same meter never takes two readings at the same time. */
export const readingKey = (reading: { meter: { id: string }; time: string }) => `${reading.meter.id}@${reading.time}`;

/** Fragments the API reference's example operations refer to (GraphQL rejects unused ones). */
const LICENSE_TERM_FRAGMENT = 'fragment LicenseTermFragment on LicenseTerm { period autoRenewal }';
const LICENSE_FRAGMENT = `
  fragment LicenseFragment on License {
    pool { id name size usage term { ...LicenseTermFragment } }
    term { ...LicenseTermFragment }
    startTime endTime status
  }`;
const READING_FRAGMENT = 'fragment ReadingFragment on Reading { time obisCode value unit }';
const METER_FRAGMENT = 'fragment MeterFragment on Meter { id number latestReadings { ...ReadingFragment } }';
const DEVICE_FRAGMENT = `
  fragment DeviceFragment on Device {
    id
    bridge { connectionStatus }
    core { connectionStatus attachmentStatus batteryLevel powerStatus pinStatus }
    localHttpPushStatus
  }`;
const INSTALLATION_FRAGMENT = 'fragment InstallationFragment on Installation { id externalId license { ...LicenseFragment } }';
const METER_READING_FRAGMENT = `
  fragment MeterReadingFragment on MeterReading {
    meter { id number }
    installation { id externalId }
    time receiveTime
    values { obisCode value unit }
  }`;

/**
 * The reference's `query Provider` example. As printed it omits the required `id` of signingKey and
 * licensePool and installation's id/externalId, so those are variables here.
 */
export const PROVIDER_EXAMPLE = /* GraphQL */ `
  query Provider($installationExternalId: String, $signingKeyId: Uuid!, $licensePoolId: Uuid!) {
    provider {
      id
      name
      installations {
        id externalId
        license { ...LicenseFragment }
        meters { ...MeterFragment }
        currentMeter { ...MeterFragment }
        devices { ...DeviceFragment }
        currentDevice { ...DeviceFragment }
      }
      installation(externalId: $installationExternalId) {
        id externalId
        license { ...LicenseFragment }
        meters { ...MeterFragment }
        currentMeter { ...MeterFragment }
        devices { ...DeviceFragment }
        currentDevice { ...DeviceFragment }
      }
      signingKeys { id name enabled }
      signingKey(id: $signingKeyId) { id name enabled }
      licensePools { id name size usage term { ...LicenseTermFragment } }
      licensePool(id: $licensePoolId) { id name size usage term { ...LicenseTermFragment } }
      readings { readings { ...MeterReadingFragment } cursor }
    }
  }
  ${LICENSE_TERM_FRAGMENT} ${LICENSE_FRAGMENT} ${READING_FRAGMENT} ${METER_FRAGMENT} ${DEVICE_FRAGMENT}
  ${METER_READING_FRAGMENT}
`;

export const CREATE_REGISTRATION_TOKEN_EXAMPLE = /* GraphQL */ `
  mutation CreateRegistrationToken(
    $installationId: Uuid
    $externalId: String!
    $signingKeyId: Uuid!
    $license: LicenseInput!
  ) {
    createRegistrationToken(
      installationId: $installationId
      externalId: $externalId
      signingKeyId: $signingKeyId
      license: $license
    ) {
      installationId
      token
      qrCode
      deeplink
    }
  }
`;

export const UPDATE_LICENSE_EXAMPLE = /* GraphQL */ `
  mutation UpdateLicense($installationId: Uuid!, $setTerm: SetLicenseTerm, $setEndTime: SetLicenseEndTime) {
    updateLicense(installationId: $installationId, setTerm: $setTerm, setEndTime: $setEndTime) {
      pool { id name size usage term { ...LicenseTermFragment } }
      term { period autoRenewal }
      startTime
      endTime
      status
    }
  }
  ${LICENSE_TERM_FRAGMENT}
`;

export const READINGS_SUBSCRIPTION_EXAMPLE = /* GraphQL */ `
  subscription Readings($startTime: DateTime) {
    readings(startTime: $startTime) {
      meter { id number }
      installation { id externalId }
      time
      receiveTime
      values { obisCode value unit }
    }
  }
`;

export const SCHEDULED_READINGS_EXAMPLE = /* GraphQL */ `
  subscription ScheduledReadings($obisCodes: [ObisCode!]) {
    scheduledReadings(obisCodes: $obisCodes) {
      meter {
        id
        installation { ...InstallationFragment }
        number
        latestReadings { ...ReadingFragment }
      }
      time
      obisCode
      value
      unit
    }
  }
  ${LICENSE_TERM_FRAGMENT} ${LICENSE_FRAGMENT} ${INSTALLATION_FRAGMENT} ${READING_FRAGMENT}
`;

/** Ids every registration test needs. */
export async function providerIds(sim: RunningSimulator) {
  const { provider } = await data(
    sim,
    `{ provider { signingKeys { id enabled } licensePools { id size usage term { period } } } }`,
  );
  const pools: Array<{ id: string; size: number; usage: number; term: { period: number } | null }> =
    provider.licensePools;
  return {
    enabledKeyId: provider.signingKeys.find((key: { enabled: boolean }) => key.enabled).id as string,
    disabledKeyId: provider.signingKeys.find((key: { enabled: boolean }) => !key.enabled).id as string,
    freePool: pools.find((pool) => pool.usage < pool.size && pool.term !== null) as (typeof pools)[number] & {
      term: { period: number };
    },
    fullPool: pools.find((pool) => pool.usage >= pool.size)!,
  };
}
