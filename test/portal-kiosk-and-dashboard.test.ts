// The kiosk portal and the admin dashboard in a real browser (Debian's chromium driven by
// playwright-core; never a downloaded browser), served by a real gateway process whose product
// manager is SIMULATED (test/support/gateway-fake-pm.ts): these tests prove what the pages do with
// the gateway's answers, not what the real product manager decides. Screenshots go to
// artifacts/portal/ (gitignored).

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import t from 'tap';
import type { Browser, Page } from 'playwright-core';
import { startGateway, type GatewayUnderTest } from './support/gateway-harness';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'];
const ROOT = path.resolve(__dirname, '..');
const ARTIFACTS_DIR = path.join(ROOT, 'artifacts', 'portal');
const KIOSK_VIEWPORT = { width: 1280, height: 800 };
/** Longest a page may take to show what a test waits for (a fill, an answer). */
const UI_WAIT_MS = 5_000;

if (!fs.existsSync(CHROMIUM)) {
  const why = `chromium is missing at ${CHROMIUM}: install it with "apt-get update && apt-get install -y chromium" (never "npx playwright install")`;
  if (process.env['CI'] === 'true') t.fail(why);
  else t.test(`portal browser tests: ${why}`, { skip: why }, () => undefined);
} else {
  run();
}

function run(): void {
  let gw: GatewayUnderTest;
  let browser: Browser;
  const cspViolations: string[] = [];

  t.before(async () => {
    // The gateway reads dist/portal at start-up: build it from the current sources first.
    const built = spawnSync(process.execPath, [path.join(ROOT, 'dist', 'scripts', 'build-portal.js')], { cwd: ROOT, encoding: 'utf8' });
    if (built.status !== 0) throw new Error(`build-portal failed: ${built.stderr}${built.stdout}`);
    fs.mkdirSync(ARTIFACTS_DIR, { recursive: true });
    gw = await startGateway(t);
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
  });
  t.teardown(async () => {
    await browser?.close();
  });

  async function openPage(urlPath: string): Promise<Page> {
    const context = await browser.newContext({ viewport: KIOSK_VIEWPORT, hasTouch: true });
    const page = await context.newPage();
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
    });
    await page.goto(`http://127.0.0.1:${gw.tradingPort}${urlPath}`);
    return page;
  }

  async function logIn(page: Page, who: string): Promise<void> {
    const a = gw.accounts[who]!;
    await page.getByLabel('Username').fill(a.username);
    await page.getByLabel('Password').fill(a.password);
    await page.getByRole('button', { name: 'Log in' }).click();
  }

  t.test('the gateway serves the pages with a strict CSP, content types, caching and no inline script (PM simulated)', async (t) => {
    for (const urlPath of ['/', '/admin']) {
      const r = await gw.request('GET', urlPath);
      t.equal(r.status, 200, `${urlPath} is served`);
      t.equal(r.headers['content-type'], 'text/html; charset=utf-8');
      t.equal(r.headers['cache-control'], 'no-cache', 'pages are revalidated so a deploy shows at once');
      const csp = String(r.headers['content-security-policy']);
      t.match(csp, /default-src 'none'/);
      t.match(csp, /script-src 'self'(;|$)/, 'scripts only from the gateway itself');
      t.notMatch(csp, /unsafe-inline|unsafe-eval|https?:/, 'no inline code, no eval, no CDN');
      t.equal(r.headers['x-content-type-options'], 'nosniff');
      const scripts = [...r.text.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
      t.ok(scripts.length > 0, 'the page loads a script');
      for (const [, attrs, body] of scripts) {
        t.match(attrs, /src="\/assets\/[\w-]+\.js"/, 'every script is an external, hashed asset');
        t.equal(body!.trim(), '', 'no inline script');
      }
      t.notMatch(r.text, /<style|style="|\son[a-z]+=/i, 'no inline style or event handler attributes');
      const asset = /src="(\/assets\/[\w-]+\.js)"/.exec(r.text)![1]!;
      const js = await gw.request('GET', asset);
      t.equal(js.status, 200);
      t.equal(js.headers['content-type'], 'text/javascript; charset=utf-8');
      t.equal(js.headers['cache-control'], 'public, max-age=31536000, immutable', 'hashed assets are cached for good');
    }
    const missing = await gw.request('GET', '/assets/nope-123.js');
    t.equal(missing.status, 404);
    const api = await gw.request('GET', '/v1/nothing-here');
    t.equal(api.status, 404, 'the API catch-all still answers unknown API paths');
    t.equal(api.json.error, 'not_found');
  });

  t.test('kiosk: a colleague logs in, places an order, sees an off-tick error next to the price, and a fill arrives live (PM simulated)', async (t) => {
    const page = await openPage('/');
    await logIn(page, 'alice');
    await page.getByRole('heading', { name: 'Products' }).waitFor({ timeout: UI_WAIT_MS });
    await page.getByText('live: open').waitFor({ timeout: UI_WAIT_MS });
    t.equal(await page.evaluate(() => {
      const w = globalThis as unknown as { localStorage: { length: number }; sessionStorage: { length: number } };
      return w.localStorage.length + w.sessionStorage.length;
    }), 0, 'the session token is not stored in web storage');

    // Off tick: SONY-WH1000 has a tick of 1.00.
    await page.getByLabel('Product', { exact: true }).selectOption('SONY-WH1000');
    await page.getByLabel(/^Limit price/).fill('10.05');
    await page.getByLabel(/^Quantity/).fill('1');
    await page.getByRole('button', { name: 'Place inflow' }).click();
    const priceError = page.locator('#ticket-price-error');
    await priceError.waitFor({ timeout: UI_WAIT_MS });
    t.match(await priceError.textContent(), /not a multiple of tick 1\.00/, 'the server error is shown under the price field');
    t.equal(await page.getByLabel(/^Limit price/).getAttribute('aria-invalid'), 'true', 'the price field is marked invalid for screen readers');
    t.equal(await page.getByLabel(/^Limit price/).getAttribute('aria-describedby'), 'ticket-price-error');

    // A good order rests and appears among the open orders.
    await page.getByLabel('Product', { exact: true }).selectOption('APPL-128');
    await page.getByLabel(/^Limit price/).fill('10.00');
    await page.getByLabel(/^Quantity/).fill('5');
    await page.getByRole('button', { name: 'Place inflow' }).click();
    await page.getByText(/Order \d+ added: inflow 5 APPL-128 at 10\.00/).waitFor({ timeout: UI_WAIT_MS });
    t.equal(await priceError.count(), 0, 'the old error is gone after a good order');
    const row = page.locator('li.order', { hasText: 'APPL-128' });
    await row.waitFor({ timeout: UI_WAIT_MS });

    // Another outlet crosses it through the API: the fill is pushed over the WebSocket.
    const bob = await gw.request('POST', '/v1/transact', { token: await gw.tokenOf('bob'), body: { symbol: 'APPL-128', side: 'outflow', price: '10.00', quantity: 2 } });
    t.equal(bob.status, 200, 'the crossing outflow was accepted');
    const announcer = page.locator('#fill-announcer');
    await page.locator('.notice.fill', { hasText: 'Fill: inflow 2 APPL-128 at 10.00' }).waitFor({ timeout: UI_WAIT_MS });
    t.match(await announcer.textContent(), /Fill: inflow 2 APPL-128 at 10\.00/, 'the fill is announced in the aria-live region');
    t.equal(await announcer.getAttribute('aria-live'), 'assertive');
    await row.getByText('3 of 5 @ 10.00').waitFor({ timeout: UI_WAIT_MS });
    await page.screenshot({ path: path.join(ARTIFACTS_DIR, 'kiosk.png') });

    // Update then remove the open order from the UI.
    await row.getByRole('button', { name: 'Update' }).click();
    await row.getByLabel('New price').fill('10.001');
    await row.getByRole('button', { name: 'Save' }).click();
    const editError = row.locator('.field-error');
    await editError.waitFor({ timeout: UI_WAIT_MS });
    t.match(await editError.textContent(), /decimals|tick/, 'an update error is shown next to the price');
    await row.getByLabel('New price').fill('9.99');
    await row.getByRole('button', { name: 'Save' }).click();
    await row.getByText('3 of 5 @ 9.99').waitFor({ timeout: UI_WAIT_MS });
    await row.getByRole('button', { name: /^Remove order/ }).click();
    await row.waitFor({ state: 'detached', timeout: UI_WAIT_MS });
    t.pass('the order was updated and removed from the kiosk');
    await page.context().close();
  });

  t.test('kiosk: the application form shows field-level errors from the server (PM simulated)', async (t) => {
    const page = await openPage('/');
    await page.getByRole('button', { name: /Apply for an account/ }).click();
    await page.getByLabel('Legal name').fill('Dana Newcomer');
    await page.getByLabel(/^Date of birth/).fill('not-a-date');
    await page.getByRole('button', { name: 'Apply' }).click();
    const dobError = page.locator('#apply-dateOfBirth-error');
    await dobError.waitFor({ timeout: UI_WAIT_MS });
    t.ok(((await dobError.textContent()) ?? '').length > 0, 'the date of birth error is next to its field');
    await page.context().close();
  });

  t.test('dashboard: an admin sees the review queue and products and halts a product (PM simulated)', async (t) => {
    const page = await openPage('/admin');
    await logIn(page, 'admin');
    await page.getByRole('heading', { name: 'KYC review queue' }).waitFor({ timeout: UI_WAIT_MS });
    await page.getByRole('heading', { name: 'Deposit cash' }).waitFor({ timeout: UI_WAIT_MS });
    await page.getByRole('button', { name: 'Halt SMSN-S24' }).click();
    await page.getByText('SMSN-S24: halt submitted.').waitFor({ timeout: UI_WAIT_MS });
    gw.pm.caughtUp();
    t.ok(gw.pm.adminCommands.some((c) => c.name === 'HaltProduct' && c.value['productId'] === 2), 'the halt reached the product manager');
    await page.getByRole('button', { name: 'Resume SMSN-S24' }).waitFor({ timeout: UI_WAIT_MS });
    await page.screenshot({ path: path.join(ARTIFACTS_DIR, 'dashboard.png'), fullPage: true });
    await page.context().close();
  });

  t.test('no page broke its Content-Security-Policy', async (t) => {
    t.same(cspViolations, [], 'the browser reported no CSP violation');
  });
}
