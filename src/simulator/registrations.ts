import { randomBytes } from 'node:crypto';
import { badUserInput, notFound } from './errors';
import { createFreshDevice, createLoadProfile, createMeter } from './factories';
import { licenseFromTerm } from './licenses';
import type { Installation } from './model';
import type { Random } from './random';
import { DAY_MS, startOfUtcDay } from './time';
import type { World } from './world';

/**
 * Registration as the app performs it: the provider creates a token, and only when the app redeems
 * it does the installation exist, with a license taken from the pool, a device and a meter.
 */

export interface CreateTokenArgs {
  installationId?: string | null;
  externalId: string;
  signingKeyId: string;
  license: { poolId: string; startDate: string };
}

export interface RegistrationTokenResult {
  installationId: string;
  token: string;
  qrCode: string;
  deeplink: string;
}

interface TokenRecord {
  installationId: string;
  externalId: string;
  signingKeyId: string;
  poolId: string;
  startTime: number;
  redeemed: boolean;
}

/** A failed redemption, with the HTTP status the sandbox endpoint answers with. */
export class RedeemError extends Error {
  constructor(
    readonly status: 404 | 409 | 410,
    message: string,
  ) {
    super(message);
    this.name = 'RedeemError';
  }
}

export class Registrations {
  private readonly tokens = new Map<string, TokenRecord>();
  /** Installation ids handed out for external ids that have not registered yet, both ways round. */
  private readonly pendingIdByExternalId = new Map<string, string>();
  private readonly pendingExternalIdById = new Map<string, string>();

  constructor(
    private readonly world: World,
    private readonly random: Random,
    private readonly clock: () => number,
    /** Origin of the simulator, for absolute QR code URLs. */
    private readonly origin: string,
  ) {}

  createToken(args: CreateTokenArgs): RegistrationTokenResult {
    const externalId = args.externalId.trim();
    if (externalId === '') throw badUserInput('externalId must not be empty');

    const signingKey = this.world.signingKey(args.signingKeyId);
    if (!signingKey) throw notFound(`Signing key ${args.signingKeyId} does not exist`);
    if (!signingKey.enabled) throw badUserInput(`Signing key ${signingKey.id} is disabled`);

    const pool = this.world.licensePool(args.license.poolId);
    if (!pool) throw notFound(`License pool ${args.license.poolId} does not exist`);
    if (pool.usage >= pool.size) {
      throw badUserInput(`License pool ${pool.id} has no free licenses (${pool.usage} of ${pool.size} used)`);
    }

    // A start date is a calendar date in the provider's time zone; allowing yesterday (UTC) means
    // "today" is accepted from any zone, while genuinely backdated licenses are refused.
    const startTime = Date.parse(`${args.license.startDate}T00:00:00Z`);
    const earliest = startOfUtcDay(this.clock()) - DAY_MS;
    if (startTime < earliest) {
      throw badUserInput(
        `license.startDate ${args.license.startDate} is in the past; the earliest allowed is ${new Date(earliest).toISOString().slice(0, 10)}`,
      );
    }

    const installationId = this.installationIdFor(externalId, args.installationId ?? undefined);
    const token = randomBytes(18).toString('base64url');
    this.tokens.set(token, {
      installationId,
      externalId,
      signingKeyId: signingKey.id,
      poolId: pool.id,
      startTime,
      redeemed: false,
    });
    return {
      installationId,
      token,
      qrCode: `${this.origin}/sandbox/qr/${token}`,
      deeplink: deeplinkFor(token),
    };
  }

  /** What the QR code for a token encodes, or undefined for an unknown token. */
  deeplink(token: string): string | undefined {
    return this.tokens.has(token) ? deeplinkFor(token) : undefined;
  }

  redeem(token: string): { installationId: string } {
    const record = this.tokens.get(token);
    if (!record) throw new RedeemError(404, 'Unknown registration token');
    if (record.redeemed) return { installationId: record.installationId };

    const signingKey = this.world.signingKey(record.signingKeyId);
    if (!signingKey?.enabled) {
      throw new RedeemError(410, `Registration token is void: its signing key ${record.signingKeyId} is disabled`);
    }
    // Another token for the same external id was redeemed first; this one joins that installation.
    if (!this.world.installationById(record.installationId)) this.register(record);
    record.redeemed = true;
    return { installationId: record.installationId };
  }

  private register(record: TokenRecord): void {
    const pool = this.world.licensePool(record.poolId);
    if (!pool || pool.usage >= pool.size) {
      throw new RedeemError(409, `License pool ${record.poolId} has no free licenses left`);
    }
    const installation: Installation = {
      id: record.installationId,
      externalId: record.externalId,
      license: licenseFromTerm({ pool, term: pool.term, startTime: record.startTime }),
      meters: [],
      devices: [createFreshDevice(this.random)],
      load: createLoadProfile(this.random),
    };
    installation.meters.push(createMeter(this.random, this.world.meterNumbers, installation, this.clock()));
    pool.usage += 1;
    this.world.addInstallation(installation);
    this.pendingIdByExternalId.delete(record.externalId);
    this.pendingExternalIdById.delete(record.installationId);
  }

  /** The same external id always maps to the same installation, registered or not. */
  private installationIdFor(externalId: string, requestedId?: string): string {
    const known = this.world.installationByExternalId(externalId)?.id ?? this.pendingIdByExternalId.get(externalId);
    if (known) return known;

    const id = requestedId?.toLowerCase() ?? this.random.uuid();
    if (this.world.installationById(id) || this.pendingExternalIdById.has(id)) {
      throw badUserInput(`Installation ${id} already belongs to another externalId`);
    }
    this.pendingIdByExternalId.set(externalId, id);
    this.pendingExternalIdById.set(id, externalId);
    return id;
  }
}

function deeplinkFor(token: string): string {
  return `iometer://register?token=${token}`;
}
