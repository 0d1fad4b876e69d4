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
