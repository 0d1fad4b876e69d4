import type { Browser, Page } from 'playwright-core';
import { seedSandboxCustomers } from '../src/customers/sandboxSeed';
import { CustomerStore } from '../src/customers/store';
import { jose } from '../src/identity/jose';
import { launchChromium } from './helpers/browser';
import { OUT_OF_SANDBOX_ENV, startStack, type Stack } from './helpers/stack';

const SECRET = 'graphiql-browser-test-secret-of-32-characters';

function sign(claims: Record<string, unknown>): Promise<string> {
  return new jose.SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('graphiql-user')
    .setExpirationTime('10m')
    .sign(new TextEncoder().encode(SECRET));
}

/** Polls the page until `predicate` holds, failing with `what` after the deadline. */
async function waitUntil(page: Page, what: string, predicate: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; the response pane shows: ${await responseText(page)}`);
    await page.waitForTimeout(100);
  }
}

const responseText = (page: Page) => page.locator('.graphiql-response').innerText().catch(() => '');

/** The reading times GraphiQL has shown so far, as a person would read them off the response pane. */
const timesSeen = new WeakMap<Page, Set<string>>();
async function noteTimes(page: Page): Promise<number> {
  const seen = timesSeen.get(page) ?? new Set<string>();
  timesSeen.set(page, seen);
  for (const match of (await responseText(page)).matchAll(/"time":\s*"([^"]+)"/g)) seen.add(match[1]!);
  return seen.size;
}

/**
 * Opens GraphiQL with `query` in its editor, types `headers` into the Headers tab the way a person
 * does, runs the operation and waits for two different live readings to appear.
 */
async function subscribeInGraphiQL(browser: Browser, url: string, query: string, headers: Record<string, string>): Promise<Page> {
  const page = await browser.newPage();
  await page.goto(`${url}?query=${encodeURIComponent(query)}`);
  await page.getByRole('button', { name: 'Headers' }).click();
  const editor = page.locator('.graphiql-editor-tool .graphiql-editor').last();
  await editor.click();
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.insertText(JSON.stringify(headers));
  await page.locator('.graphiql-execute-button').click();
  await waitUntil(page, 'two live readings', async () => (await noteTimes(page)) >= 2);
  return page;
}

describe('GraphiQL in a real browser: subscriptions authenticate with the Headers tab', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(() => browser?.close());

  describe('outside sandbox mode', () => {
    let stack: Stack;
    beforeAll(async () => {
      stack = await startStack({ env: { ...OUT_OF_SANDBOX_ENV, AUTH_JWT_SECRET: SECRET, GRAPHIQL: 'true' } });
    });
    afterAll(() => stack.close());

    it('streams readings to staff whose token is typed into the Headers tab', async () => {
      const token = await sign({ role: 'staff' });
      const page = await subscribeInGraphiQL(browser, stack.gateway.url, 'subscription Live { readings { time meter { id } } }', {
        Authorization: `Bearer ${token}`,
      });
      expect(await responseText(page)).not.toContain('UNAUTHENTICATED');
      await page.close();
    });
  });

  describe('in sandbox mode', () => {
    let stack: Stack;
    beforeAll(async () => {
      stack = await startStack({ env: { AUTH_JWT_SECRET: SECRET } });
      await seedSandboxCustomers(new CustomerStore(stack.database), { onboardedExternalIds: ['C-1001'] });
    });
    afterAll(() => stack.close());

    it("streams a customer's own readings (myReadings) with the customer's token from the Headers tab", async () => {
      const token = await sign({ role: 'customer', externalId: 'C-1001' });
      const page = await subscribeInGraphiQL(browser, stack.gateway.url, 'subscription Mine { myReadings { time installation { externalId } } }', {
        Authorization: `Bearer ${token}`,
      });
      const text = await responseText(page);
      expect(text).not.toContain('FORBIDDEN');
      expect(text).toContain('C-1001');
      await page.close();
    });
  });
});
