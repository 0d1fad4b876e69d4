import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadSimulatorConfig } from '../../src/config';
import { startSimulator } from '../../src/simulator';

/**
 * The IOmeter simulator in a process of its own, so a benchmark can call it directly as a baseline,
 * count the upstream subscriptions it really holds, and measure its CPU and RSS apart from the
 * gateway's (bench/lib/stack.ts). SIMULATOR_* variables shape its world and reading rate. It prints `READY <stats url>`; GET on that URL returns the endpoint,
 * the generated credentials and `activeSubscriptions`.
 */
async function main(): Promise<void> {
  const simulator = await startSimulator({
    ...loadSimulatorConfig(),
    host: '127.0.0.1',
    port: 0,
    token: randomBytes(16).toString('hex'),
    secret: randomBytes(24).toString('hex'),
  });
  const stats = createServer((_request, response) => {
    const { url, wsUrl, token, secret } = simulator;
    response.setHeader('content-type', 'application/json');
    response.end(JSON.stringify({ url, wsUrl, token, secret, activeSubscriptions: simulator.stats.activeSubscriptions }));
  });
  stats.listen(0, '127.0.0.1', () => {
    process.stdout.write(`READY http://127.0.0.1:${(stats.address() as AddressInfo).port}/stats\n`);
  });
  process.once('SIGTERM', () => {
    stats.close();
    void simulator.close().then(() => process.exit(0));
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
