import { randomBytes } from 'node:crypto';
import type { GatewayConfig } from './config';
import { signDemoTokens, type DemoTokens } from './identity';

/**
 * Sandbox mode lets anonymous requests act as staff. So that GraphiQL users can also try the
 * customer role, it signs demo JWTs, with AUTH_JWT_SECRET or, when unset, a secret made per start.
 */
export async function sandboxAuth(auth: GatewayConfig['auth']): Promise<{ auth: GatewayConfig['auth']; demoTokens: DemoTokens }> {
  const withSecret = { ...auth, jwtSecret: auth.jwtSecret ?? randomBytes(32).toString('base64url') };
  const demoTokens = await signDemoTokens({
    secret: withSecret.jwtSecret,
    issuer: withSecret.issuer,
    audience: withSecret.audience,
    roleClaim: withSecret.roleClaim,
    externalIdClaim: withSecret.externalIdClaim,
  });
  return { auth: withSecret, demoTokens };
}
