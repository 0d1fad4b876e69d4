import { GraphQLError } from 'graphql';

export interface SigningKeySummary {
  id: string;
  enabled: boolean;
}

export interface LicensePoolSummary {
  id: string;
  size: number;
  usage: number;
}

export interface RegistrationChoice {
  signingKeyId: string;
  poolId: string;
}

export interface RegistrationDefaults {
  /** IOMETER_DEFAULT_SIGNING_KEY_ID */
  signingKeyId?: string;
  /** IOMETER_DEFAULT_LICENSE_POOL_ID */
  licensePoolId?: string;
}

function badInput(message: string, field: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT', field } });
}

const hasCapacity = (pool: LicensePoolSummary) => pool.usage < pool.size;

/**
 * Which signing key and license pool a registration uses: the ones asked for, else the configured
 * defaults, else the only enabled key and the first pool with free capacity. A choice that IOmeter
 * would refuse (unknown, disabled, full) is refused here with the field named.
 */
export function chooseRegistration(
  requested: { signingKeyId?: string | null; licensePoolId?: string | null },
  defaults: RegistrationDefaults,
  available: { signingKeys: SigningKeySummary[]; licensePools: LicensePoolSummary[] },
): RegistrationChoice {
  const keyId = requested.signingKeyId ?? defaults.signingKeyId;
  let signingKeyId: string;
  if (keyId) {
    const key = available.signingKeys.find((candidate) => candidate.id === keyId);
    if (!key) throw badInput(`Signing key ${keyId} does not exist.`, 'signingKeyId');
    if (!key.enabled) throw badInput(`Signing key ${keyId} is disabled.`, 'signingKeyId');
    signingKeyId = key.id;
  } else {
    const enabled = available.signingKeys.filter((key) => key.enabled);
    if (enabled.length !== 1) {
      throw badInput(
        `signingKeyId is required: the provider has ${enabled.length} enabled signing keys and IOMETER_DEFAULT_SIGNING_KEY_ID is not set.`,
        'signingKeyId',
      );
    }
    signingKeyId = enabled[0]!.id;
  }

  const poolId = requested.licensePoolId ?? defaults.licensePoolId;
  let pool: LicensePoolSummary | undefined;
  if (poolId) {
    pool = available.licensePools.find((candidate) => candidate.id === poolId);
    if (!pool) throw badInput(`License pool ${poolId} does not exist.`, 'licensePoolId');
    if (!hasCapacity(pool)) {
      throw badInput(`License pool ${poolId} has no free capacity (${pool.usage} of ${pool.size} used).`, 'licensePoolId');
    }
  } else {
    pool = available.licensePools.find(hasCapacity);
    if (!pool) throw badInput('No license pool has free capacity.', 'licensePoolId');
  }
  return { signingKeyId, poolId: pool.id };
}

/** Today's date in UTC, the default license start date. */
export function today(): string {
  return new Date().toISOString().slice(0, 10);
}
