import { randomBytes } from 'node:crypto';
import { jose } from '../../src/identity/jose';

/** The gateways a bench starts accept HS256 JWTs signed with this secret (AUTH_JWT_SECRET), made per run. */
export const benchJwtSecret = randomBytes(32).toString('hex');

/** `Bearer <jwt>` values for `count` distinct staff identities (subjects `<subject>-0`, `<subject>-1`, …). */
export async function staffAuthorizations(count: number, subject = 'bench-user'): Promise<string[]> {
  const key = new TextEncoder().encode(benchJwtSecret);
  return Promise.all(
    Array.from({ length: count }, async (_, index) => {
      const token = await new jose.SignJWT({ role: 'staff' })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(`${subject}-${index}`)
        .setExpirationTime('1h')
        .sign(key);
      return `Bearer ${token}`;
    }),
  );
}


/** `Bearer <jwt>` values for customers, one per installation externalId (role customer, claim externalId). */
export async function customerAuthorizations(externalIds: string[]): Promise<string[]> {
  const key = new TextEncoder().encode(benchJwtSecret);
  return Promise.all(
    externalIds.map(async (externalId) => {
      const token = await new jose.SignJWT({ role: 'customer', externalId })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(`bench-customer-${externalId}`)
        .setExpirationTime('1h')
        .sign(key);
      return `Bearer ${token}`;
    }),
  );
}
