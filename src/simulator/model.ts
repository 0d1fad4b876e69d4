/**
 * The simulator's in-memory domain. Times are epoch milliseconds; resolvers turn them into
 * RFC 3339 strings at the edge. Device shapes match the GraphQL types so default resolvers apply.
 */

export type ConnectionStatus = 'connected' | 'disconnected';
export type PinStatus = 'missing' | 'pending' | 'entered';
export type LocalHttpPushStatus = 'disabled' | 'enabled' | 'error';

export interface Provider {
  id: string;
  name: string;
}

export interface SigningKey {
  id: string;
  name: string;
  enabled: boolean;
}

export interface LicenseTerm {
  period: number;
  autoRenewal: boolean;
}

export interface LicensePool {
  id: string;
  name: string;
  size: number;
  usage: number;
  term?: LicenseTerm;
}

export interface License {
  pool: LicensePool;
  term?: LicenseTerm;
  startTime: number;
  endTime?: number;
}

export interface Device {
  id: string;
  bridge: { connectionStatus: ConnectionStatus };
  core: {
    connectionStatus: ConnectionStatus;
    attachmentStatus: 'attached' | 'detached';
    batteryLevel: number;
    powerStatus: 'battery' | 'wired';
    pinStatus: PinStatus;
  };
  localHttpPushStatus: LocalHttpPushStatus;
}

/** Which household archetype drives the installation's consumption, scaled to its size. */
export interface LoadProfile {
  archetype: number;
  scale: number;
}

export interface Meter {
  id: string;
  number: string;
  installation: Installation;
  /** The meter reports readings taken in [activeFrom, activeUntil). */
  activeFrom: number;
  activeUntil?: number;
  /** Register values at activeFrom. */
  importOffsetWh: number;
  exportOffsetWh: number;
}

export interface Installation {
  id: string;
  externalId?: string;
  license: License;
  /** Oldest first; the last one is the current meter. */
  meters: Meter[];
  /** Oldest first; the last one is the current device. */
  devices: Device[];
  load: LoadProfile;
  /** Set by tests (RunningSimulator.setPowerW): every reading delivered reports this power. */
  powerOverrideW?: number;
}

/** A reading is identified by meter and time; its values are recomputed from the load profile. */
export interface StoredReading {
  meter: Meter;
  time: number;
  receiveTime: number;
}
