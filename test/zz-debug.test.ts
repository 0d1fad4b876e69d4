import Redis from 'ioredis';
import { identityHash } from '../src/identity';
import { jose } from '../src/identity/jose';
import { postGraphQL } from './helpers/clients';
import { uniqueKeyPrefix } from './helpers/redis';
import { startStack } from './helpers/stack';
const SECRET = 'rate-limit-test-secret-of-32-characters-at-least';
it('debug', async () => {
  for (let round = 0; round < 3; round++) {
  const prefix = uniqueKeyPrefix('dbg');
  const env = { AUTH_JWT_SECRET: SECRET, REDIS_URL: 'redis://127.0.0.1:6379', REDIS_KEY_PREFIX: prefix, CACHE_TTL: '0', RATE_LIMIT_MAX: '10' };
  const [a, b] = await Promise.all([startStack({ env }), startStack({ env })]);
  const token = await new jose.SignJWT({ role: 'staff' }).setProtectedHeader({ alg: 'HS256' }).setSubject('alice').setExpirationTime('10m').sign(new TextEncoder().encode(SECRET));
  const statuses = [];
  for (let i = 0; i < 12; i++) statuses.push((await postGraphQL(a.gateway.url, '{ __typename }', undefined, { authorization: `Bearer ${token}` })).status);
  const r = new Redis('redis://127.0.0.1:6379');
  const key = `${prefix}rl:ops:id:${identityHash({ role: 'staff', subject: 'alice', via: 'jwt' })}`;
  console.log(round, statuses.join(','), await r.get(key), await r.pttl(key), a.logs.filter((l) => /redis|rate/i.test(l)).join('\n'));
  r.disconnect();
  await Promise.all([a.close(), b.close()]);
  }
});
