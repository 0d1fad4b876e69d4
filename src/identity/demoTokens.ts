import { jose } from './jose';

/** The sandbox's first simulated installation; the sandbox seeds a customer with this number. */
export const DEMO_CUSTOMER_EXTERNAL_ID = 'C-1001';
export const DEMO_TOKEN_LIFETIME_SECONDS = 12 * 60 * 60;

export interface DemoTokenOptions {
  /** The HS256 secret the authenticator verifies with (in the sandbox, often generated per start). */
  secret: string;
  issuer?: string;
  audience?: string;
  roleClaim: string;
  externalIdClaim: string;
  /** Defaults to 12 hours. */
  lifetimeSeconds?: number;
}

export interface DemoTokens {
  /** sub 'demo-staff', role staff. */
  staff: string;
  /** sub 'demo-customer', role customer, externalId C-1001. */
  customer: string;
}

/**
 * HS256 tokens for trying both roles in GraphiQL in sandbox mode. Only the sandbox should call this:
 * anyone holding the secret can mint staff tokens.
 */
export async function signDemoTokens(options: DemoTokenOptions): Promise<DemoTokens> {
  const key = new TextEncoder().encode(options.secret);
  const now = Math.floor(Date.now() / 1000);
  const sign = (subject: string, claims: Record<string, string>) => {
    const jwt = new jose.SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(subject)
      .setIssuedAt(now)
      .setExpirationTime(now + (options.lifetimeSeconds ?? DEMO_TOKEN_LIFETIME_SECONDS));
    if (options.issuer !== undefined) jwt.setIssuer(options.issuer);
    if (options.audience !== undefined) jwt.setAudience(options.audience);
    return jwt.sign(key);
  };
  const [staff, customer] = await Promise.all([
    sign('demo-staff', { [options.roleClaim]: 'staff' }),
    sign('demo-customer', { [options.roleClaim]: 'customer', [options.externalIdClaim]: DEMO_CUSTOMER_EXTERNAL_ID }),
  ]);
  return { staff, customer };
}
