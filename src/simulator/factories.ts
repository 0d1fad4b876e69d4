import { ARCHETYPE_COUNT, hasPv } from './meterValues';
import type { Device, Installation, LoadProfile, Meter } from './model';
import type { Random } from './random';

/** Building blocks shared by the seeded dataset and by installations created through registration. */

// DIN 43863-5 manufacturer flags of common German meter makers.
const MANUFACTURERS = ['EMH', 'ESY', 'ITF', 'LGZ', 'EBZ', 'DZG', 'EFR', 'ISK', 'APA'];

/** Like 1EMH0007058153: medium 1 (electricity), manufacturer, 2-digit block, 8-digit serial. */
function meterNumber(random: Random, taken: Set<string>): string {
  for (;;) {
    const block = String(random.int(0, 9)).padStart(2, '0');
    const serial = String(random.int(0, 99_999_999)).padStart(8, '0');
    const number = `1${random.pick(MANUFACTURERS)}${block}${serial}`;
    if (!taken.has(number)) {
      taken.add(number);
      return number;
    }
  }
}

export function createLoadProfile(random: Random): LoadProfile {
  return { archetype: random.int(0, ARCHETYPE_COUNT - 1), scale: 0.7 + random.next() * 0.7 };
}

export function createMeter(
  random: Random,
  takenNumbers: Set<string>,
  installation: Installation,
  activeFrom: number,
  activeUntil?: number,
): Meter {
  return {
    id: random.uuid(),
    number: meterNumber(random, takenNumbers),
    installation,
    activeFrom,
    activeUntil,
    importOffsetWh: random.int(500_000, 45_000_000),
    exportOffsetWh: hasPv(installation.load) ? random.int(0, 12_000_000) : 0,
  };
}

/** A device as it looks right after the app registered it: online, on the meter, PIN not yet entered. */
export function createFreshDevice(random: Random): Device {
  return {
    id: random.uuid(),
    bridge: { connectionStatus: 'connected' },
    core: {
      connectionStatus: 'connected',
      attachmentStatus: 'attached',
      batteryLevel: 100,
      powerStatus: 'battery',
      pinStatus: 'missing',
    },
    localHttpPushStatus: 'disabled',
  };
}
