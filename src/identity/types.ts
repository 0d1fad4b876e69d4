export const ROLES = ['staff', 'customer'] as const;
export type Role = (typeof ROLES)[number];

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

interface IdentityBase {
  /**
   * Stable id for rate limiting, cache scoping and logging: the JWT `sub`, the API key's configured
   * name, or 'anonymous'. Never a secret. Prefer `identityHash(identity)` in logs and Redis keys.
   */
  subject: string;
  via: 'jwt' | 'apiKey' | 'anonymous';
}

/** Staff see every customer's data. A sandbox request without credentials is anonymous staff. */
export interface StaffIdentity extends IdentityBase {
  role: 'staff';
  externalId?: undefined;
}

/** A customer sees only its own data; `externalId` (the customer number) is always present. */
export interface CustomerIdentity extends IdentityBase {
  role: 'customer';
  via: 'jwt' | 'apiKey';
  externalId: string;
}

/** Who is calling. Narrow on `role` to get a guaranteed `externalId`. */
export type Identity = StaffIdentity | CustomerIdentity;
