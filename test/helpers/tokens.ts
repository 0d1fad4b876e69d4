import { jose } from '../../src/identity/jose';

/** A staff bearer token (HS256, 10 minutes) for a gateway started with AUTH_JWT_SECRET=secret. */
export async function staffAuthorization(secret: string, subject = 'ops'): Promise<string> {
  const jwt = await new jose.SignJWT({ role: 'staff' })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(subject)
    .setExpirationTime('10m')
    .sign(new TextEncoder().encode(secret));
  return `Bearer ${jwt}`;
}

/** A customer's bearer token (HS256, 10 minutes, subject `user-<externalId>`), as request headers. */
export async function customerHeaders(secret: string, externalId: string): Promise<Record<string, string>> {
  const jwt = await new jose.SignJWT({ role: 'customer', externalId })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(`user-${externalId}`)
    .setExpirationTime('10m')
    .sign(new TextEncoder().encode(secret));
  return { authorization: `Bearer ${jwt}` };
}
