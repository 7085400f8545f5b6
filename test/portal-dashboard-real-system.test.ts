// The admin and CEO dashboard (/admin) in a real browser (Debian's chromium driven by
// playwright-core; never a downloaded browser) against the REAL running system: every process
// started by `ims start` (gateway, product managers, sequencer, hot and warm engines, market data,
// reporter, control), so what the pages show is what the exchange decided. Trades are placed over
// REST; the pages are driven the way staff use them. Screenshot: artifacts/portal/ (gitignored) and
// docs/screenshots/dashboard.png (the README's picture).

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import t from 'tap';
import type { Browser, Page } from 'playwright-core';
import { mrzCheckDigit } from '../processes/accounts/mrz-check-digit';
import { createImsInstance, until, type ImsInstance } from './support/ims-instance';
import { gatewayHttp, tradingPortWhenReady, type Reply, type Session } from './support/gateway-http';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'];
const ROOT = path.resolve(__dirname, '..');
const ARTIFACTS_DIR = path.join(ROOT, 'artifacts', 'portal');
const README_SCREENSHOT = path.join(ROOT, 'docs', 'screenshots', 'dashboard.png');
const DESKTOP_VIEWPORT = { width: 1440, height: 1000 };
/** Longest a page may take to show what a test waits for (the machine is shared: be generous). */
const UI_WAIT_MS = 15_000;
/** Longest a sequenced effect (an account opened, a rule, a halt) may take to reach the exchange. */
const EFFECT_WAIT_MS = 20_000;
/** The candle colours of candle-chart.tsx (CANDLE_UP_COLOR, CANDLE_DOWN_COLOR) as RGB. */
const CANDLE_RGB: ReadonlyArray<readonly [number, number, number]> = [
  [0x14, 0x6c, 0x2e],
  [0xa3, 0x26, 0x1b],
];

const DEMO = {
  admin: { username: 'admin', password: 'control-room-demo' },
  risk: { username: 'risk', password: 'limits-desk-demo' },
  ceo: { username: 'ceo', password: 'board-view-demo' },
  alice: { username: 'alice', password: 'kiosk-101-demo' },
  bruno: { username: 'bruno', password: 'kiosk-102-demo' },
} as const;

if (!fs.existsSync(CHROMIUM)) {
  const why = `chromium is missing at ${CHROMIUM}: install it with "apt-get update && apt-get install -y chromium" (never "npx playwright install")`;
  if (process.env['CI'] === 'true') t.fail(why);
  else t.test(`dashboard browser tests against the real system: ${why}`, { skip: why }, () => undefined);
} else {
  run();
}

function run(): void {
  let inst: ImsInstance;
  let port = 0;
  let browser: Browser;
  const cspViolations: string[] = [];
  let orderSeq = 0;

  const { call, login: loginOnce } = gatewayHttp(() => port);

  /** Sessions by username: each account logs in once (login calls are rate-limited per IP). */
  const sessions = new Map<string, Session>();
  async function login(username: string, password: string): Promise<Session> {
    const known = sessions.get(username);
    if (known !== undefined) return known;
    const session = await loginOnce(username, password);
    sessions.set(username, session);
    return session;
  }

  /**
   * Places an order, retrying (same clientOrderId: safe) while the exchange answers 503 — the
   * product managers may be failing over on a loaded machine — or until `done` accepts the answer.
   */
  async function placeUntil(token: string, order: Record<string, unknown>, done: (r: Reply) => boolean, what: string): Promise<Reply> {
    const deadline = Date.now() + EFFECT_WAIT_MS;
    let last: Reply = { status: 0, json: null };
    for (;;) {
      const clientOrderId = `dash-${process.pid}-${++orderSeq}`;
      last = await call('POST', '/v1/transact', { ...order, clientOrderId }, token);
      if (done(last)) return last;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last answer ${last.status} ${JSON.stringify(last.json)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** A trade between alice (resting inflow) and bruno (crossing outflow) at `price`. */
  async function trade(symbol: string, price: string, quantity: number): Promise<void> {
    const alice = await login(DEMO.alice.username, DEMO.alice.password);
    const bruno = await login(DEMO.bruno.username, DEMO.bruno.password);
    await placeUntil(alice.token, { symbol, side: 'inflow', price, quantity }, (r) => r.status === 200, `alice's inflow ${symbol} at ${price}`);
    const sold = await placeUntil(bruno.token, { symbol, side: 'outflow', price, quantity }, (r) => r.status === 200, `bruno's outflow ${symbol} at ${price}`);
    if (sold.json.filledQuantity !== quantity) throw new Error(`the outflow did not fill: ${JSON.stringify(sold.json)}`);
  }

  async function openDashboard(who: { username: string; password: string }): Promise<Page> {
    const context = await browser.newContext({ viewport: DESKTOP_VIEWPORT });
    const page = await context.newPage();
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
    });
    await page.goto(`http://127.0.0.1:${port}/admin`);
    await page.getByLabel('Username').fill(who.username);
    await page.getByLabel('Password').fill(who.password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('banner').getByText(who.username).waitFor({ timeout: UI_WAIT_MS });
    return page;
  }

  /** Pixels of the chart's canvases drawn in a candle colour (0 when no candle is drawn). */
  async function candlePixels(page: Page): Promise<number> {
    return page.evaluate((colours) => {
      const doc = (globalThis as any).document;
      let n = 0;
      for (const canvas of doc.querySelectorAll('.chart-box canvas')) {
        if (canvas.width === 0 || canvas.height === 0) continue;
        const data: Uint8ClampedArray = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
        for (let i = 0; i < data.length; i += 4) {
          if (data[i + 3]! < 200) continue;
          for (const [r, g, b] of colours) {
            if (Math.abs(data[i]! - r) + Math.abs(data[i + 1]! - g) + Math.abs(data[i + 2]! - b) < 40) {
              n++;
              break;
            }
          }
        }
      }
      return n;
    }, CANDLE_RGB as Array<readonly [number, number, number]>);
  }

  t.before(async () => {
    // The gateway reads dist/portal at start-up: build it from the current sources first.
    const built = spawnSync(process.execPath, [path.join(ROOT, 'dist', 'scripts', 'build-portal.js')], { cwd: ROOT, encoding: 'utf8' });
    if (built.status !== 0) throw new Error(`build-portal failed: ${built.stderr}${built.stdout}`);
    fs.mkdirSync(ARTIFACTS_DIR, { recursive: true });
    inst = createImsInstance('dashboard', ['--trading-port', '0', '--public-port', '0']);
    inst.start();
    port = await tradingPortWhenReady(inst, 60_000);
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
  });
  t.teardown(async () => {
    await browser?.close();
    await inst?.destroy();
  });

  t.test('a new colleague applies, an admin approves in the review queue and deposits, and the colleague trades', async (t) => {
    const username = `newcomer${process.pid % 100000}`;
    const field = `DB${String(process.pid % 10_000_000).padStart(7, '0')}`;
    // A name close to an entry of the demo sanctions list: KYC holds it for a human decision.
    const applied = await call('POST', '/v1/applications', {
      legalName: 'Quellmrash Boris',
      dateOfBirth: '1990-05-20',
      outletId: 777,
      document: { type: 'passport', number: field + mrzCheckDigit(field), expiryDate: `${new Date().getUTCFullYear() + 5}-01-31` },
      address: { line1: '7 Market Street', city: 'Leeds', postalCode: 'LS1 1AA', country: 'GB' },
      username,
      password: 'river-stone-lantern',
    });
    t.equal(applied.status, 201, `the application is received (${JSON.stringify(applied.json)})`);
    t.equal(applied.json.status, 'pending_review', 'a possible sanctions match waits for an administrator');
    t.equal((await call('POST', '/v1/sessions', { username, password: 'river-stone-lantern' })).status, 403, 'the applicant cannot log in before the review');

    const page = await openDashboard(DEMO.admin);
    const item = page.locator(`li[data-application="${applied.json.applicationId}"]`);
    await item.waitFor({ timeout: UI_WAIT_MS });
    await item.getByLabel(`Reason for ${username}`).fill('date of birth differs from the listed person');
    await item.getByRole('button', { name: `Approve ${username}` }).click();
    const outcome = page.getByText(new RegExp(`Application ${applied.json.applicationId} \\(${username}\\): approved, account (\\d+)`));
    await outcome.waitFor({ timeout: UI_WAIT_MS });
    const accountId = Number(/account (\d+)/.exec((await outcome.textContent())!)![1]);
    await item.waitFor({ state: 'detached', timeout: UI_WAIT_MS });
    t.pass(`approved in the queue: account ${accountId}`);

    const newcomer = await login(username, 'river-stone-lantern');
    t.equal(newcomer.accountId, accountId, 'the colleague logs in with the approved account');
    const order = { symbol: 'APPL-128', side: 'inflow', price: '850.00', quantity: 2 };
    // The account reaches the product manager through the accounts outbox: wait for it to be
    // open there (an unfunded inflow is refused for funds, no longer for the account).
    const unfunded = await placeUntil(newcomer.token, order, (r) => r.status !== 403 && r.status !== 503, 'the new account to open in the product manager');
    t.equal(unfunded.json?.error, 'insufficient_funds', 'an open account without cash cannot buy');

    const deposit = page.getByRole('form', { name: 'Deposit cash' });
    await deposit.getByLabel('Account id').fill(String(accountId));
    await deposit.getByLabel('Amount').fill('5000.00');
    await deposit.getByLabel('Reference number').fill(String(9_000_000 + (process.pid % 100_000)));
    await deposit.getByRole('button', { name: 'Submit' }).click();
    await deposit.getByText(/Deposit submitted/).waitFor({ timeout: UI_WAIT_MS });

    const accepted = await placeUntil(newcomer.token, order, (r) => r.status === 200, "the newcomer's funded order");
    t.match(accepted.json, { symbol: 'APPL-128', side: 'inflow', quantity: 2 }, 'the new colleague trades: the order is accepted');
    t.ok(['added', 'partially_filled', 'filled'].includes(accepted.json.status), `status ${accepted.json.status}`);
    await call('DELETE', `/v1/transact/${accepted.json.id}`, undefined, newcomer.token);

    // The admin makes the newcomer an analyst from the Roles form: a server refusal shows next to
    // its field, the result is announced, and the newcomer's session is signed out.
    const roles = page.getByRole('form', { name: "Change an account's role" });
    await roles.getByLabel('Account id').fill(String(accountId));
    await roles.getByLabel('New role').selectOption('colleague');
    await roles.getByLabel(/^Outlet id/).fill('777');
    await roles.getByLabel(/^Reason/).fill('joins the analysts');
    await roles.getByRole('button', { name: 'Change role' }).click();
    await roles.getByText(/already is a colleague/).waitFor({ timeout: UI_WAIT_MS });
    t.equal(await roles.getByLabel('New role').getAttribute('aria-invalid'), 'true', 'role_unchanged is shown next to the role');
    await roles.getByLabel('New role').selectOption('analyst');
    await roles.getByRole('button', { name: 'Change role' }).click();
    await roles.getByRole('status').getByText(new RegExp(`Account ${accountId} is now analyst \\(was colleague\\)`)).waitFor({ timeout: UI_WAIT_MS });
    t.equal((await call('GET', '/v1/sessions/current', undefined, newcomer.token)).status, 401, "the newcomer's session was signed out");
    await page.context().close();
  });

  t.test("trades draw real candles on the dashboard's chart, the tape shows them, and switching resolution redraws", async (t) => {
    const page = await openDashboard(DEMO.ceo);
    const status = page.locator('#chart-status');
    // A product nobody traded: the chart is blank (this is what the pixel count would see if no
    // candle were drawn).
    await page.locator('#chart-symbol').selectOption('LGEL-ULTRA');
    await status.getByText('no trades yet at 1m').waitFor({ timeout: UI_WAIT_MS });
    t.equal(await candlePixels(page), 0, 'no candle pixels for a product without trades');

    await page.locator('#chart-symbol').selectOption('SONY-256');
    await status.getByText('no trades yet at 1m').waitFor({ timeout: UI_WAIT_MS });
    // Live: these trades happen while the chart and tape are open.
    await trade('SONY-256', '600.00', 2);
    await trade('SONY-256', '606.00', 1);
    await trade('SONY-256', '596.00', 4);
    await page.locator('.tape tbody tr', { hasText: '596.00' }).waitFor({ timeout: UI_WAIT_MS });
    t.equal(await page.locator('.tape tbody tr').count(), 3, 'the tape shows the three trades');
    await page.waitForFunction(() => /candle/.test((globalThis as any).document.querySelector('#chart-status')?.textContent ?? '') && !/no trades/.test((globalThis as any).document.querySelector('#chart-status').textContent), undefined, { timeout: UI_WAIT_MS });
    let pixels = 0;
    const deadline = Date.now() + UI_WAIT_MS;
    while ((pixels = await candlePixels(page)) < 50 && Date.now() < deadline) await page.waitForTimeout(200);
    t.ok(pixels >= 50, `the 1m chart draws the candles (${pixels} candle-coloured pixels)`);

    // Mark the canvases drawn now: after the switch the chart must be drawn on new ones.
    await page.evaluate(() => {
      for (const c of (globalThis as any).document.querySelectorAll('.chart-box canvas')) c.dataset['drawnBefore'] = '1';
    });
    await page.getByRole('group', { name: 'Resolution' }).getByRole('button', { name: '5m' }).click();
    await page.locator('.chart-box[data-resolution="300"]').waitFor({ timeout: UI_WAIT_MS });
    await status.getByText(/\d+ candles? at 5m/).waitFor({ timeout: UI_WAIT_MS });
    t.equal(await page.getByRole('button', { name: '5m' }).getAttribute('aria-pressed'), 'true', 'the 5m button is pressed');
    let pixels5 = 0;
    const deadline5 = Date.now() + UI_WAIT_MS;
    while ((pixels5 = await candlePixels(page)) < 50 && Date.now() < deadline5) await page.waitForTimeout(200);
    t.ok(pixels5 >= 50, `the 5m chart is redrawn with candles (${pixels5} candle-coloured pixels)`);
    t.equal(await page.locator('.chart-box canvas[data-drawn-before]').count(), 0, 'the chart was rebuilt for the new resolution');

    // Top movers: SONY-256 traded today, so it is ranked (its change since the day's open).
    await page.locator('.movers tbody tr', { hasText: 'SONY-256' }).waitFor({ timeout: UI_WAIT_MS + 10_000 });
    t.pass('SONY-256 is among the top movers');
    await page.screenshot({ path: path.join(ARTIFACTS_DIR, 'dashboard-ceo.png') });
    await page.context().close();
  });

  t.test('the system-status panel lists the sequencer, both engines hot and warm with their epoch, and the journal position, which moves after trades', async (t) => {
    const page = await openDashboard(DEMO.ceo);
    const row = (name: string) => page.locator(`tr[data-process="${name}"]`);
    await row('sequencer').waitFor({ timeout: UI_WAIT_MS });
    for (const name of ['engine-a', 'engine-b', 'pm-a', 'pm-b', 'market-data', 'gateway-1']) t.equal(await row(name).count(), 1, `${name} is listed`);
    const roleOf = async (name: string) => ((await row(name).locator('[data-field="role"]').textContent()) ?? '').trim();
    await page.waitForFunction(() => {
      const doc = (globalThis as any).document;
      const roles = ['engine-a', 'engine-b'].map((n) => doc.querySelector(`tr[data-process="${n}"] [data-field="role"]`)?.textContent?.trim());
      return roles.includes('hot') && roles.includes('warm');
    }, undefined, { timeout: UI_WAIT_MS });
    const roles = [await roleOf('engine-a'), await roleOf('engine-b')];
    t.same([...roles].sort(), ['hot', 'warm'], `one engine is hot, the other warm (${roles.join(', ')})`);
    const hot = roles[0] === 'hot' ? 'engine-a' : 'engine-b';
    const epoch = Number(await row(hot).locator('[data-field="epoch"]').textContent());
    t.ok(epoch >= 1, `the hot engine acts under epoch ${epoch}`);
    t.match(await page.locator('#status-engines').textContent(), new RegExp(`hot ${hot.slice(-1)}, epoch ${epoch}`), 'the engine summary agrees');
    t.ok((await row('sequencer').locator('td').nth(1).textContent())!.trim() !== '', 'the sequencer shows its cores');

    const durable = async (): Promise<number> => Number(await page.locator('#status-journal-durable').textContent());
    const head = Number(await page.locator('#status-journal-head').textContent());
    const before = await durable();
    t.ok(before > 0 && head >= before, `the journal position is shown (head ${head}, durable ${before})`);
    await trade('APPL-256', '1000.00', 1);
    const deadline = Date.now() + UI_WAIT_MS;
    let after = before;
    while ((after = await durable()) <= before && Date.now() < deadline) await page.waitForTimeout(200);
    t.ok(after > before, `the durable journal position moved after the trade (${before} -> ${after})`);
    await page.locator('#status-p99').getByText(/\d+\.\d\d ms/).waitFor({ timeout: UI_WAIT_MS });
    t.pass(`the p99 order round trip is shown: ${await page.locator('#status-p99').textContent()}, orders/s ${await page.locator('#status-orders-per-second').textContent()}`);

    const colleague = await login(DEMO.alice.username, DEMO.alice.password);
    const refused = await call('GET', '/v1/admin/system-status', undefined, colleague.token);
    t.equal(refused.status, 403, 'a colleague may not read the system status');
    const doc = await call('GET', '/openapi.json');
    t.ok(doc.json.paths['/v1/admin/system-status']?.get, 'the endpoint is in /openapi.json');
    await page.context().close();
  });

  t.test('a risk rule set from the editor is listed and takes effect: an order over it is rejected with the limit code', async (t) => {
    const alice = await login(DEMO.alice.username, DEMO.alice.password);
    const page = await openDashboard(DEMO.risk);
    const editor = page.getByRole('form', { name: 'Set a risk rule' });
    await editor.getByLabel('Rule', { exact: true }).selectOption('max_order_quantity');
    await editor.getByLabel(/^Limit/).fill('lots');
    await editor.getByRole('button', { name: 'Set rule' }).click();
    await page.locator('#risk-limit-error').waitFor({ timeout: UI_WAIT_MS });
    t.equal(await editor.getByLabel(/^Limit/).getAttribute('aria-invalid'), 'true', "the server's error is shown next to the limit field");

    await editor.getByLabel(/^Limit/).fill('50');
    await editor.getByLabel(/^Account id/).fill(String(alice.accountId));
    await editor.getByRole('button', { name: 'Set rule' }).click();
    await editor.getByText(/Rule submitted \(sequence \d+\)/).waitFor({ timeout: UI_WAIT_MS });
    t.equal(await page.locator('#risk-limit-error').count(), 0, 'the old error is gone');
    const listed = page.locator('table.rules tbody tr', { hasText: 'Largest order quantity' });
    await listed.waitFor({ timeout: UI_WAIT_MS });
    t.match(await listed.textContent(), new RegExp(`50.*account ${alice.accountId}`), 'the rule is listed with its limit and account');

    const over = await placeUntil(alice.token, { symbol: 'APPL-512', side: 'outflow', price: '1100.00', quantity: 60 }, (r) => r.status === 409 && r.json?.error === 'risk_max_order_quantity', 'the rule to take effect');
    t.equal(over.json.error, 'risk_max_order_quantity', 'an order over the limit is rejected with the limit code');
    const within = await placeUntil(alice.token, { symbol: 'APPL-512', side: 'outflow', price: '1100.00', quantity: 5 }, (r) => r.status !== 503, 'an order within the limit');
    t.equal(within.status, 200, 'an order within the limit is accepted');
    await call('DELETE', `/v1/transact/${within.json.id}`, undefined, alice.token);

    // Remove it again so the rest of the run trades without it.
    await editor.getByLabel('Remove this rule instead').check();
    await editor.getByRole('button', { name: 'Set rule' }).click();
    await editor.getByText(/Removal submitted/).waitFor({ timeout: UI_WAIT_MS });
    const lifted = await placeUntil(alice.token, { symbol: 'APPL-512', side: 'outflow', price: '1100.00', quantity: 60 }, (r) => r.status === 200, 'the rule removal to take effect');
    t.equal(lifted.status, 200, 'after removal the same order is accepted');
    await call('DELETE', `/v1/transact/${lifted.json.id}`, undefined, alice.token);
    await page.context().close();
  });

  t.test('a product listed through the form is sequenced; a duplicate listing shows its error next to the symbol; a product is halted and resumed', async (t) => {
    const alice = await login(DEMO.alice.username, DEMO.alice.password);
    const page = await openDashboard(DEMO.admin);
    const form = page.getByRole('form', { name: 'List a product' });
    const fill = async (values: Record<string, string>): Promise<void> => {
      for (const [label, v] of Object.entries(values)) await form.getByLabel(label, { exact: true }).fill(v);
    };
    await fill({ 'Product id': '901', Symbol: 'DASH-TEST1', Brand: 'Apple', 'Tick size': '0.01', 'Lot size (units)': '1', 'Reference price': '10.00' });
    await form.getByRole('button', { name: 'List product' }).click();
    await form.getByText(/DASH-TEST1: listing submitted/).waitFor({ timeout: UI_WAIT_MS });
    const journalHas = (): boolean => {
      const tail = inst.ims('journal', 'tail', '-n', '200', '--json');
      return tail.out.split('\n').some((line) => line.includes('"type":"ListProduct"') && line.includes('DASH-TEST1'));
    };
    await until('the ListProduct command in the journal', journalHas, EFFECT_WAIT_MS, 250);
    t.pass('the product manager accepted the listing and the sequencer journaled it');

    await fill({ 'Product id': '902', Symbol: 'APPL-128' });
    await form.getByRole('button', { name: 'List product' }).click();
    await page.locator('#listing-symbol-error').waitFor({ timeout: UI_WAIT_MS });
    t.match(await page.locator('#listing-symbol-error').textContent(), /already listed/, 'a duplicate symbol is refused next to the symbol field');

    const halts = page.locator('section.halts');
    await halts.getByRole('button', { name: 'Halt SMSG-64' }).click();
    await halts.getByText('SMSG-64: halt submitted.').waitFor({ timeout: UI_WAIT_MS });
    const halted = await placeUntil(alice.token, { symbol: 'SMSG-64', side: 'outflow', price: '655.00', quantity: 1 }, (r) => r.json?.error === 'product_halted', 'the halt to take effect');
    t.equal(halted.status, 409, 'orders in a halted product are refused with product_halted');
    await halts.getByRole('button', { name: 'Resume SMSG-64' }).click();
    await halts.getByText('SMSG-64: resume submitted.').waitFor({ timeout: UI_WAIT_MS });
    const resumed = await placeUntil(alice.token, { symbol: 'SMSG-64', side: 'outflow', price: '655.00', quantity: 1 }, (r) => r.status !== 503 && r.json?.error !== 'product_halted', 'the resume to take effect');
    t.equal(resumed.status, 200, 'after the resume the product trades again');
    await call('DELETE', `/v1/transact/${resumed.json.id}`, undefined, alice.token);
    await page.context().close();
  });

  t.test('a product listed through the form appears in /v1/products and can be halted', async (t) => {
    // The gateway learns the listing from the journal (through the market-data publisher) within a moment.
    const listedProduct = async (): Promise<{ symbol: string; halted: boolean } | undefined> =>
      (await call('GET', '/v1/products')).json?.products?.find((p: { symbol: string }) => p.symbol === 'DASH-TEST1');
    const deadline = Date.now() + EFFECT_WAIT_MS;
    let seen = await listedProduct();
    while (seen === undefined && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      seen = await listedProduct();
    }
    t.match(seen, { symbol: 'DASH-TEST1', tickSize: '0.01', lotSize: 1, halted: false }, 'DASH-TEST1 is listed');
    const admin = await login(DEMO.admin.username, DEMO.admin.password);
    const alice = await login(DEMO.alice.username, DEMO.alice.password);
    t.equal((await call('POST', '/v1/admin/products/DASH-TEST1/halt', undefined, admin.token)).status, 202, 'the halt endpoint knows the new symbol');
    const halted = await placeUntil(alice.token, { symbol: 'DASH-TEST1', side: 'inflow', price: '10.00', quantity: 1 }, (r) => r.json?.error === 'product_halted', 'the halt of DASH-TEST1 to take effect');
    t.equal(halted.status, 409, 'orders in the halted new product are refused with product_halted');
    t.equal((await listedProduct())?.halted, true, '/v1/products shows it halted');
    t.equal((await call('POST', '/v1/admin/products/DASH-TEST1/resume', undefined, admin.token)).status, 202);
    const resumed = await placeUntil(alice.token, { symbol: 'DASH-TEST1', side: 'inflow', price: '10.00', quantity: 1 }, (r) => r.status !== 503 && r.json?.error !== 'product_halted', 'the resume of DASH-TEST1 to take effect');
    t.equal(resumed.status, 200, 'after the resume the new product takes orders');
    await call('DELETE', `/v1/transact/${resumed.json.id}`, undefined, alice.token);
  });

  t.test('a colleague opening /admin sees no staff panel and the page calls no staff endpoint', async (t) => {
    const context = await browser.newContext({ viewport: DESKTOP_VIEWPORT });
    const page = await context.newPage();
    const staffCalls: string[] = [];
    page.on('request', (r) => {
      if (new URL(r.url()).pathname.startsWith('/v1/admin')) staffCalls.push(r.url());
    });
    await page.goto(`http://127.0.0.1:${port}/admin`);
    await page.getByLabel('Username').fill(DEMO.alice.username);
    await page.getByLabel('Password').fill(DEMO.alice.password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page
      .getByText('This dashboard is for staff')
      .waitFor({ timeout: UI_WAIT_MS })
      .catch(async (e: Error) => {
        throw new Error(`${e.message}\nthe page shows: ${await page.locator('body').innerText()}`);
      });
    await page.waitForTimeout(1_500);
    for (const heading of ['System status', 'KYC review queue', 'Accounts', 'Risk rules', 'Deposit cash', 'List a product', 'Products', 'Candles']) {
      t.equal(await page.getByRole('heading', { name: heading }).count(), 0, `no "${heading}" panel`);
    }
    t.same(staffCalls, [], 'no staff endpoint was called for a colleague');
    const text = await page.locator('body').innerText();
    t.notMatch(text, /bruno|newcomer|Quellmrash/i, "nothing about other accounts is on the page");
    t.equal(await page.getByRole('link', { name: 'open the kiosk' }).getAttribute('href'), '/', 'the colleague is sent to the kiosk');
    await context.close();
  });

  t.test('screenshot of the dashboard (admin, after trades)', async (t) => {
    const page = await openDashboard(DEMO.admin);
    await page.locator('#chart-symbol').selectOption('SONY-256');
    await page.locator('#chart-status').getByText(/\d+ candles? at 1m/).waitFor({ timeout: UI_WAIT_MS });
    await page.locator('tr[data-process="engine-a"] [data-field="role"]').getByText(/hot|warm/).waitFor({ timeout: UI_WAIT_MS });
    await page.locator('.movers').waitFor({ timeout: UI_WAIT_MS + 10_000 });
    await page.waitForTimeout(500);
    const file = path.join(ARTIFACTS_DIR, 'dashboard-real-system.png');
    await page.screenshot({ path: file });
    fs.mkdirSync(path.dirname(README_SCREENSHOT), { recursive: true });
    fs.copyFileSync(file, README_SCREENSHOT);
    t.ok(fs.statSync(README_SCREENSHOT).size > 10_000, 'the screenshot is saved for the README');
    await page.context().close();
  });

  t.test('no page broke its Content-Security-Policy', async (t) => {
    t.same(cspViolations, [], 'the browser reported no CSP violation');
  });
}
