import { badUserInput, notFound } from './errors';
import type { License, LicenseTerm } from './model';
import { addMonths, toIso } from './time';
import type { World } from './world';

export type LicenseStatus = 'inactive' | 'active' | 'expired';

/** Status is derived from the times on every read; the simulator never renews licenses by itself. */
export function licenseStatus(license: License, now: number): LicenseStatus {
  if (now < license.startTime) return 'inactive';
  if (license.endTime !== undefined && now >= license.endTime) return 'expired';
  return 'active';
}

export function licenseFromTerm(license: Omit<License, 'endTime'>): License {
  return { ...license, endTime: license.term ? addMonths(license.startTime, license.term.period) : undefined };
}

// Keeps computed end times inside what RFC 3339 and JS dates can express.
const MAX_TERM_MONTHS = 1_200;

export interface UpdateLicenseArgs {
  installationId: string;
  setTerm?: LicenseTerm | null;
  setEndTime?: { endTime: string } | null;
}

export function updateLicense(world: World, args: UpdateLicenseArgs): License {
  const { setTerm, setEndTime } = args;
  if ((setTerm == null) === (setEndTime == null)) {
    throw badUserInput('updateLicense requires exactly one of setTerm or setEndTime');
  }
  const installation = world.installationById(args.installationId);
  if (!installation) throw notFound(`Installation ${args.installationId} does not exist`);
  const current = installation.license;

  if (setTerm) {
    if (setTerm.period < 1 || setTerm.period > MAX_TERM_MONTHS) {
      throw badUserInput(`setTerm.period must be between 1 and ${MAX_TERM_MONTHS} months, got ${setTerm.period}`);
    }
    const term = { period: setTerm.period, autoRenewal: setTerm.autoRenewal };
    installation.license = licenseFromTerm({ pool: current.pool, startTime: current.startTime, term });
    return installation.license;
  }

  const endTime = Date.parse(setEndTime!.endTime);
  if (endTime <= current.startTime) {
    throw badUserInput(
      `setEndTime.endTime ${setEndTime!.endTime} must be after the license start time ${toIso(current.startTime)}`,
    );
  }
  installation.license = { pool: current.pool, startTime: current.startTime, endTime };
  return installation.license;
}
