export { createApiKeyMatcher, hashApiKey, parseApiKeys, type ApiKeyEntry } from './apiKeys';
export {
  ANONYMOUS_SANDBOX_IDENTITY,
  assertAuthConfigured,
  createAuthenticator,
  headersFromConnectionParams,
  type AuthOptions,
  type Authenticator,
} from './authenticate';
export { DEMO_CUSTOMER_EXTERNAL_ID, DEMO_TOKEN_LIFETIME_SECONDS, signDemoTokens, type DemoTokenOptions, type DemoTokens } from './demoTokens';
export { authUnavailableError, unauthenticatedError, type UnauthenticatedReason } from './errors';
export { identityHash } from './identityHash';
export { bearerTokenExpiresAtMs } from './tokenExpiry';
export { MIN_JWT_SECRET_LENGTH, type JwtOptions } from './jwt';
export { ROLES, isRole, type CustomerIdentity, type Identity, type Role, type StaffIdentity } from './types';
