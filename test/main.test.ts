import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SHUTDOWN_GRACE_MS, terminate } from './helpers/childProcesses';
import { startGatewayProcess as start } from './helpers/gatewayProcess';
import { waitFor } from './helpers/simulator';

/**
 * A sandbox start (seeding the customers and the reading archive in PGlite) takes seconds on a quiet
 * machine and one to two minutes on a loaded one: a deadline against hanging, not a speed limit.
 */
const SANDBOX_START_MS = 150_000;

describe('npm start (src/main.ts)', () => {
  it('fails at start-up with a message naming the bad variable', async () => {
    const { exited, output } = start({ PORT: 'forty' });
    expect(await exited).toBe(1);
    expect(output()).toContain('PORT');
    expect(output()).not.toMatch(/\n\s+at /);
  });

  it('runs in sandbox mode, serves GraphiQL from the package and shuts down cleanly on SIGTERM', async () => {
    const { child, output } = start({ PORT: '0', HOST: '127.0.0.1' });
    let exitCode: number | null | undefined;
    try {
      // A first sandbox start also seeds the reading archive: on a loaded machine that takes a while.
      await waitFor(() => /GraphiQL at (http:\/\/\S+)/.test(output()), SANDBOX_START_MS, 'the sandbox to start');
      expect(output()).toMatch(/SANDBOX MODE/);
      const url = /GraphiQL at (http:\/\/[^\s"]+)/.exec(output())![1];

      const page = await fetch(url, { headers: { accept: 'text/html' } });
      const html = await page.text();
      expect(page.status).toBe(200);
      expect(html).toContain('IOmeter Gateway');
      expect(html).not.toMatch(/<script[^>]+src=["']https?:/);
      expect(html).not.toContain('unpkg.com');

      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ provider { installation(externalId: "C-1001") { externalId } } }' }),
      });
      expect(await response.json()).toEqual({ data: { provider: { installation: { externalId: 'C-1001' } } } });
      expect((await fetch(url.replace('/graphql', '/healthz'))).status).toBe(200);

      // Start-up prints demo JWTs so GraphiQL users can try the customer role: plain lines, no colour codes.
      await waitFor(() => /^ {2}customer: \S+ {2}\(C-1001\)$/m.test(output()), 5_000);
      expect(output()).toMatch(/^ {2}staff: {4}[\w-]+\.[\w-]+\.[\w-]+$/m);
      expect(output()).not.toContain('\x1b[');
      const customerJwt = /customer: (\S+)/.exec(output())![1];
      const me = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${customerJwt}` },
        body: JSON.stringify({ query: '{ me { externalId installation { externalId } } }' }),
      });
      expect(await me.json()).toEqual({ data: { me: { externalId: 'C-1001', installation: { externalId: 'C-1001' } } } });

      // The sandbox archive is seeded with the simulated history: last week's days and yesterday's hours have readings.
      const day = 86_400_000;
      const today = Math.floor(Date.now() / day) * day;
      const iso = (ms: number) => new Date(ms).toISOString();
      const history = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${customerJwt}` },
        body: JSON.stringify({
          query: `{ me {
            consumption(from: "${iso(today - 7 * day)}", to: "${iso(today - day)}", resolution: DAY) { importedWh readings }
            installation { readingHistory(from: "${iso(today - day)}", to: "${iso(today)}", first: 100) { edges { node { time } } } } } }`,
        }),
      });
      const { data } = (await history.json()) as { data: { me: { consumption: Array<{ importedWh: number; readings: number }>; installation: { readingHistory: { edges: unknown[] } } } } };
      // Days of CONSUMPTION_TIME_ZONE (Europe/Berlin): a UTC range cuts one at each end.
      expect(data.me.consumption.length).toBeGreaterThanOrEqual(6);
      for (const bucket of data.me.consumption) {
        expect(bucket.readings).toBeGreaterThan(0);
        expect(bucket.importedWh).toBeGreaterThan(0);
      }
      expect(data.me.installation.readingHistory.edges.length).toBeGreaterThanOrEqual(24);
    } finally {
      exitCode = await terminate(child, SHUTDOWN_GRACE_MS);
    }
    expect(exitCode).toBe(0);
  }, SANDBOX_START_MS + 60_000);

  it('keeps the sandbox signing secret beside the embedded database, so demo tokens outlive a restart', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'iometer-sandbox-'));
    const env = { PORT: '0', HOST: '127.0.0.1', EMBEDDED_DB_DIR: join(dataDir, 'pglite') };
    const runOnce = async (check: (url: string, customerJwt: string) => Promise<void>) => {
      const { child, output } = start(env);
      let exitCode: number | null | undefined;
      try {
        await waitFor(() => /GraphiQL at (http:\/\/\S+)/.test(output()) && /customer: \S+/.test(output()), SANDBOX_START_MS, 'the sandbox to start');
        await check(/GraphiQL at (http:\/\/[^\s"]+)/.exec(output())![1]!, /customer: (\S+)/.exec(output())![1]!);
      } finally {
        exitCode = await terminate(child, SHUTDOWN_GRACE_MS);
      }
      expect(exitCode).toBe(0);
    };
    const me = (url: string, jwt: string) =>
      fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${jwt}` },
        body: JSON.stringify({ query: '{ me { externalId } }' }),
      });
    try {
      let firstJwt = '';
      await runOnce(async (_url, customerJwt) => {
        firstJwt = customerJwt;
      });
      expect(statSync(join(dataDir, 'sandbox-jwt-secret')).mode & 0o777).toBe(0o600);
      await runOnce(async (url) => {
        expect(await (await me(url, firstJwt)).json()).toEqual({ data: { me: { externalId: 'C-1001' } } });
        // A token the sandbox never signed: the 401 says where demo tokens come from.
        const forged = `${firstJwt.slice(0, firstJwt.lastIndexOf('.'))}.${'A'.repeat(43)}`;
        const refused = await me(url, forged);
        expect(refused.status).toBe(401);
        expect(((await refused.json()) as { errors: Array<{ message: string }> }).errors[0]!.message).toMatch(/Sandbox mode: use a demo token printed at start-up/);
      });
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 2 * SANDBOX_START_MS + 60_000);
});
