import type { Installation, LicensePool, Meter, Provider, SigningKey } from './model';

/** The provider's mutable state with the lookups the API needs. */
export class World {
  readonly installations: Installation[] = [];
  /** Meter numbers are unique across the provider, including retired meters. */
  readonly meterNumbers = new Set<string>();
  private readonly installationsById = new Map<string, Installation>();
  private readonly installationsByExternalId = new Map<string, Installation>();

  constructor(
    readonly provider: Provider,
    readonly signingKeys: SigningKey[],
    readonly licensePools: LicensePool[],
  ) {}

  addInstallation(installation: Installation): void {
    this.installations.push(installation);
    this.installationsById.set(installation.id, installation);
    if (installation.externalId !== undefined) {
      this.installationsByExternalId.set(installation.externalId, installation);
    }
  }

  installationById(id: string): Installation | undefined {
    return this.installationsById.get(id.toLowerCase());
  }

  installationByExternalId(externalId: string): Installation | undefined {
    return this.installationsByExternalId.get(externalId);
  }

  signingKey(id: string): SigningKey | undefined {
    return this.signingKeys.find((key) => key.id === id.toLowerCase());
  }

  licensePool(id: string): LicensePool | undefined {
    return this.licensePools.find((pool) => pool.id === id.toLowerCase());
  }

  meters(): Meter[] {
    return this.installations.flatMap((installation) => installation.meters);
  }
}
