import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createGatewayRuntime } from '@graphql-hive/gateway';

/**
 * The peer to beat: The Guild's Hive Gateway in proxy mode, fronting the same upstream (HIVE_UPSTREAM_URL)
 * and injecting the same Basic credentials (HIVE_UPSTREAM_AUTHORIZATION), with its own logging, GraphiQL
 * and landing page off. Like the simulator, it prints `READY <url>` once it listens.
 */
const endpoint = process.env.HIVE_UPSTREAM_URL;
const authorization = process.env.HIVE_UPSTREAM_AUTHORIZATION;
if (!endpoint || !authorization) throw new Error('HIVE_UPSTREAM_URL and HIVE_UPSTREAM_AUTHORIZATION are required');

const gateway = createGatewayRuntime({
  proxy: { endpoint, headers: { authorization } },
  logging: false,
  graphiql: false,
  landingPage: false,
});
const server = createServer(gateway);
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  process.stdout.write(`READY http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql\n`);
});
process.once('SIGTERM', () => server.close(() => process.exit(0)));
