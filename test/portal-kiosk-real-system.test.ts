// The kiosk portal in a real browser (Debian's chromium driven by playwright-core; never a
// downloaded browser) against the REAL running system: the `ims` CLI starts every process (gateway,
// product managers, sequencer, engines, market-data publisher, control with the demo colleagues and
// products), and two demo colleagues trade with each other from two browser contexts. Everything
// shown is what the real product manager, engine and publisher decided: fills, wallets, the depth
// ladder, the trade tape and the candle chart. Screenshots go to artifacts/portal-kiosk-real/
// (gitignored) and docs/screenshots/kiosk.png (the README's picture).
//
// The machine may be loaded (2 cores shared with other work): every wait is for an event with a
// generous bound (UI_WAIT_MS); the values shown are asserted exactly.

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import t from 'tap';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { DEMO_PEOPLE } from '../processes/accounts/demo-accounts';
import { createImsInstance, type ImsInstance } from './support/ims-instance';
import { tradingPortWhenReady } from './support/gateway-http';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'];
const ROOT = path.resolve(__dirname, '..');
const ARTIFACTS_DIR = path.join(ROOT, 'artifacts', 'portal-kiosk-real');
const README_SCREENSHOT = path.join(ROOT, 'docs', 'screenshots', 'kiosk.png');
const KIOSK_VIEWPORT = { width: 1280, height: 800 };
/** Longest the page may take to show what a test waits for (a fill, a ladder change). */
const UI_WAIT_MS = 10_000;
/** Candle colours of candle-chart.tsx (CANDLE_UP_COLOR / CANDLE_DOWN_COLOR), as RGB. */
const CANDLE_RGB: ReadonlyArray<readonly [number, number, number]> = [
  [0x14, 0x6c, 0x2e],
  [0xa3, 0x26, 0x1b],
];

// Demo products (processes/control/demo-products.ts): APPL-256 has reference 999.00 and tick 0.01;
// APPL-512 has reference 1,099.00 and tick 0.05. Default risk: 1,000,000.00 notional per day.
const SYMBOL = 'APPL-256';
const COARSE_TICK_SYMBOL = 'APPL-512';

const alice = DEMO_PEOPLE.find((p) => p.username === 'alice')!;
const bruno = DEMO_PEOPLE.find((p) => p.username === 'bruno')!;

if (!fs.existsSync(CHROMIUM)) {
  const why = `chromium is missing at ${CHROMIUM}: install it with "apt-get update && apt-get install -y chromium" (never "npx playwright install")`;
  if (process.env['CI'] === 'true') t.fail(why);
  else t.test(`kiosk browser tests against the real system: ${why}`, { skip: why }, () => undefined);
} else {
  run();
}

/** "10,000,000.00" -> 1000000000 (cents). */
function cents(text: string | null): number {
  const m = /^(-?[0-9,]+)\.([0-9]{2})$/.exec((text ?? '').trim());
  if (m === null) throw new Error(`not an amount with two decimals: ${JSON.stringify(text)}`);
  return Number(m[1]!.replace(/,/g, '')) * 100 + Number(m[2]) * (m[1]!.startsWith('-') ? -1 : 1);
}

function run(): void {
  const inst: ImsInstance = createImsInstance('kiosk', ['--trading-port', '0', '--public-port', '0']);
  let port = 0;
  let browser: Browser | undefined;
  const contexts: BrowserContext[] = [];
  const pageErrors: string[] = [];

  t.before(async () => {
    // The gateway reads dist/portal at start-up: build it from the current sources first.
    const built = spawnSync(process.execPath, [path.join(ROOT, 'dist', 'scripts', 'build-portal.js')], { cwd: ROOT, encoding: 'utf8' });
    if (built.status !== 0) throw new Error(`build-portal failed: ${built.stderr}${built.stdout}`);
    fs.mkdirSync(ARTIFACTS_DIR, { recursive: true });
    inst.start();
    port = await tradingPortWhenReady(inst, 60_000);
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
  });
  t.teardown(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close().catch(() => undefined);
    await inst.destroy();
  });

  async function kioskOf(who: { username: string; password: string }): Promise<Page> {
    const context = await browser!.newContext({ viewport: KIOSK_VIEWPORT, hasTouch: true });
    contexts.push(context);
    const page = await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(`${who.username}: ${e.message}`));
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) pageErrors.push(`${who.username}: ${m.text()}`);
    });
    await page.goto(`http://127.0.0.1:${port}/`);
    await page.getByLabel('Username').fill(who.username);
    await page.getByLabel('Password').fill(who.password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByText('live: open').waitFor({ timeout: UI_WAIT_MS });
    return page;
  }

  async function openProduct(page: Page, symbol: string): Promise<void> {
    await page.getByRole('button', { name: `Open ${symbol} product page` }).click();
    await page.getByRole('heading', { name: new RegExp(`^${symbol}`) }).waitFor({ timeout: UI_WAIT_MS });
    await page.locator('#ladder-state', { hasText: /^sequence \d+$/ }).waitFor({ timeout: UI_WAIT_MS });
  }

  async function placeOrder(page: Page, side: 'inflow' | 'outflow', symbol: string, price: string, quantity: number): Promise<void> {
    await page.locator('#ticket-symbol').selectOption(symbol);
    await page.getByRole('radio', { name: side === 'inflow' ? /^Inflow/ : /^Outflow/ }).check();
    await page.getByLabel(/^Limit price/).fill(price);
    await page.getByLabel(/^Quantity/).fill(String(quantity));
    await page.getByRole('button', { name: side === 'inflow' ? 'Place inflow' : 'Place outflow' }).click();
  }

  /** The ladder row of one level, with its size. */
  function level(page: Page, side: 'bid' | 'ask', price: string): Locator {
    return page.locator(`.ladder tr.level[data-side="${side}"][data-price="${price}"]`);
  }

  async function text(l: Locator): Promise<string> {
    return ((await l.textContent({ timeout: UI_WAIT_MS })) ?? '').trim();
  }

  /** A table row's cells, space-separated ("APPL-256 1000 0 1000"). */
  async function cells(row: Locator): Promise<string> {
    await row.waitFor({ timeout: UI_WAIT_MS });
    return (await row.locator('th, td').allTextContents()).map((c) => c.trim()).join(' ');
  }

  /** The wallet as the page shows it: cash in cents and the stock row of SYMBOL. */
  async function shownWallet(page: Page): Promise<{ balance: number; reserved: number; available: number; stock: string }> {
    await page.locator('#wallet-cash-balance').waitFor({ timeout: UI_WAIT_MS });
    return {
      balance: cents(await text(page.locator('#wallet-cash-balance'))),
      reserved: cents(await text(page.locator('#wallet-cash-reserved'))),
      available: cents(await text(page.locator('#wallet-cash-available'))),
      stock: await cells(page.locator(`.wallet tr[data-symbol="${SYMBOL}"]`)),
    };
  }

  /** Pixels of the candle colours in the chart's drawing canvases (0 while nothing is drawn). */
  async function candlePixels(page: Page): Promise<number> {
    return page.evaluate((colours) => {
      const d = globalThis as unknown as { document: { querySelectorAll(s: string): ArrayLike<any> } };
      let n = 0;
      for (const canvas of Array.from(d.document.querySelectorAll('.chart-box canvas'))) {
        if (canvas.width === 0 || canvas.height === 0) continue;
        const data: Uint8ClampedArray = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
        for (let i = 0; i < data.length; i += 4) {
          if (data[i + 3] < 200) continue;
          for (const [r, g, b] of colours) if (Math.abs(data[i] - r) + Math.abs(data[i + 1] - g) + Math.abs(data[i + 2] - b) < 24) n++;
        }
      }
      return n;
    }, CANDLE_RGB as Array<readonly [number, number, number]>);
  }

  let a: Page;
  let b: Page;
  let walletServed = false;
  let aliceOrderId = '';

  t.test('two colleagues trade from the kiosk: both see the fill, their wallets, the depth ladder, the tape and the candles change', async (t) => {
    a = await kioskOf(alice);
    b = await kioskOf(bruno);
    const probe = await fetch(`http://127.0.0.1:${port}/v1/wallet`);
    walletServed = probe.status !== 404;
    await openProduct(a, SYMBOL);
    await openProduct(b, SYMBOL);
    await a.locator('#chart-status').waitFor({ timeout: UI_WAIT_MS });
    t.equal(await candlePixels(a), 0, 'before any trade the candle chart has no candle drawn');

    let a0 = { balance: 0, reserved: 0, available: 0, stock: '' };
    let b0 = { balance: 0, reserved: 0, available: 0, stock: '' };
    if (walletServed) {
      a0 = await shownWallet(a);
      b0 = await shownWallet(b);
      t.equal(a0.reserved, 0, "alice's cash is not reserved before she posts");
      t.match(a0.stock, new RegExp(`^${SYMBOL} 1000 0 1000$`), "alice's stock of the product: 1000 held, none reserved");
      t.match(await text(a.locator('#wallet-owner')), `outlet ${alice.outletId}`, 'alice sees her own outlet');
      t.match(await text(b.locator('#wallet-owner')), `outlet ${bruno.outletId}`, 'bruno sees his own outlet');
    } else {
      await a.locator('#wallet-error', { hasText: 'Wallet unavailable' }).waitFor({ timeout: UI_WAIT_MS });
      t.pass('this gateway does not serve GET /v1/wallet: the panel says the wallet is unavailable');
    }

    // Alice posts an inflow of 5 at 999.00: the ticket shows what it reserves before she sends it.
    await a.locator('#ticket-symbol').selectOption(SYMBOL);
    await a.getByLabel(/^Limit price/).fill('999.00');
    await a.getByLabel(/^Quantity/).fill('5');
    t.match(await text(a.locator('#ticket-reserve')), /^Reserves 4995\.00 cash/, 'the ticket shows the cash the inflow reserves (price × quantity)');
    let brandLeft = -1;
    if (walletServed) {
      const limit = /^Brand limit left today \(Apple\): ([0-9]+) of ([0-9]+) units\.$/.exec(await text(a.locator('#ticket-brand-limit')));
      t.ok(limit !== null, "the ticket shows the brand's daily unit limit left (from the wallet)");
      brandLeft = Number(limit?.[1] ?? -1);
    }
    await placeOrder(a, 'inflow', SYMBOL, '999.00', 5);
    const placed = a.getByText(new RegExp(`Order (\\d+) added: inflow 5 ${SYMBOL} at 999\\.00`));
    await placed.waitFor({ timeout: UI_WAIT_MS });
    aliceOrderId = /Order (\d+)/.exec(await text(placed))![1]!;
    for (const [who, page] of [['alice', a], ['bruno', b]] as const) {
      await level(page, 'bid', '999.00').getByText('5', { exact: true }).waitFor({ timeout: UI_WAIT_MS });
      t.pass(`${who}'s depth ladder shows the inflow level 999.00 × 5`);
    }
    await a.locator(`li.order[data-order-id="${aliceOrderId}"]`).waitFor({ timeout: UI_WAIT_MS });
    if (walletServed) {
      await a.locator('#wallet-cash-reserved').filter({ hasText: /^4,?995\.00$/ }).waitFor({ timeout: UI_WAIT_MS });
      t.pass("alice's wallet shows 4995.00 reserved for her inflow");
      await a.locator('#ticket-brand-limit', { hasText: `(Apple): ${brandLeft - 5} of ` }).waitFor({ timeout: UI_WAIT_MS });
      t.pass(`the brand limit left today fell by the 5 units posted (${brandLeft} -> ${brandLeft - 5})`);
    }

    // Bruno sees neither alice's order nor her wallet.
    t.equal(await b.locator(`li.order[data-order-id="${aliceOrderId}"]`).count(), 0, "bruno's open orders do not show alice's order");
    t.equal(await b.locator('li.order').count(), 0, 'bruno has no open orders listed at all');
    const bText = (await b.locator('body').textContent()) ?? '';
    t.notMatch(bText, /alice|outlet 101/, "bruno's page names neither alice nor her outlet");
    if (walletServed) t.equal(cents(await text(b.locator('#wallet-cash-reserved'))), b0.reserved, "bruno's reserved cash is his own, untouched by alice's order");

    // Bruno posts a crossing outflow of 3 at 998.00: it fills at alice's resting 999.00.
    await b.getByRole('radio', { name: /^Outflow/ }).check();
    await b.getByLabel(/^Limit price/).fill('998.00');
    await b.getByLabel(/^Quantity/).fill('3');
    t.match(await text(b.locator('#ticket-reserve')), new RegExp(`^Reserves 3 ${SYMBOL} from your stock`), 'the ticket shows the units the outflow reserves');
    const sentAt = Date.now();
    await placeOrder(b, 'outflow', SYMBOL, '998.00', 3);
    await b.getByText(new RegExp(`Order \\d+ filled: outflow 3 ${SYMBOL} at 998\\.00 \\(filled 3\\)`)).waitFor({ timeout: UI_WAIT_MS });

    await a.locator('.notice.fill', { hasText: `Fill: inflow 3 ${SYMBOL} at 999.00` }).waitFor({ timeout: UI_WAIT_MS });
    t.comment(`alice saw her fill notice ${Date.now() - sentAt} ms after bruno pressed Place outflow`);
    t.match(await text(a.locator('#fill-announcer')), `Fill: inflow 3 ${SYMBOL} at 999.00`, "alice's fill is announced to screen readers");
    await b.locator('.notice.fill', { hasText: `Fill: outflow 3 ${SYMBOL} at 999.00` }).waitFor({ timeout: UI_WAIT_MS });
    t.pass('bruno sees his fill at the resting price');
    await a.locator(`li.order[data-order-id="${aliceOrderId}"]`).getByText('2 of 5 @ 999.00').waitFor({ timeout: UI_WAIT_MS });

    for (const [who, page] of [['alice', a], ['bruno', b]] as const) {
      await level(page, 'bid', '999.00').getByText('2', { exact: true }).waitFor({ timeout: UI_WAIT_MS });
      const top = page.locator('.tape tr.trade').first();
      await top.getByText('999.00', { exact: true }).waitFor({ timeout: UI_WAIT_MS });
      t.match(await cells(top), /999\.00 3 outflow$/, `${who}'s tape shows the trade: 3 at 999.00, outflow the taker`);
      await page.locator('#product-last', { hasText: '999.00 × 3' }).waitFor({ timeout: UI_WAIT_MS });
      t.pass(`${who}'s ladder shows 2 left at 999.00`);
    }

    if (walletServed) {
      // 3 × 999.00 = 2,997.00 moves from alice to bruno; 3 units from bruno to alice.
      await a.locator('#wallet-cash-reserved').filter({ hasText: /^1,?998\.00$/ }).waitFor({ timeout: UI_WAIT_MS });
      await a.locator(`.wallet tr[data-symbol="${SYMBOL}"] td`).first().filter({ hasText: /^1003$/ }).waitFor({ timeout: UI_WAIT_MS });
      await b.locator(`.wallet tr[data-symbol="${SYMBOL}"] td`).first().filter({ hasText: /^997$/ }).waitFor({ timeout: UI_WAIT_MS });
      const a1 = await shownWallet(a);
      const b1 = await shownWallet(b);
      t.equal(a1.balance, a0.balance - 299_700, "alice's cash balance fell by 2,997.00");
      t.equal(a1.reserved, 199_800, "alice's remaining 2 @ 999.00 keep 1,998.00 reserved");
      t.match(a1.stock, new RegExp(`^${SYMBOL} 1003 0 1003$`), 'alice holds 3 more units');
      t.equal(b1.balance, b0.balance + 299_700, "bruno's cash balance rose by 2,997.00");
      t.match(b1.stock, new RegExp(`^${SYMBOL} 997 0 997$`), 'bruno holds 3 fewer units');
    }

    // The candle chart drew the trade (the forming candle pushed over candles:SYMBOL:60); before
    // the trade no pixel had the candle colours (asserted above).
    const deadline = Date.now() + UI_WAIT_MS;
    let pixels = 0;
    while ((pixels = await candlePixels(a)) === 0 && Date.now() < deadline) await a.waitForTimeout(200);
    t.ok(pixels > 0, `the candle chart drew the trade: its candle, last-price line and label (${pixels} pixels in the candle colours)`);
    await a.locator('#chart-status', { hasText: /^1 candles? at 1m$/ }).waitFor({ timeout: UI_WAIT_MS });

    await a.screenshot({ path: path.join(ARTIFACTS_DIR, 'kiosk-alice-product-page.png'), fullPage: true });
    await b.screenshot({ path: path.join(ARTIFACTS_DIR, 'kiosk-bruno-product-page.png'), fullPage: true });
    fs.mkdirSync(path.dirname(README_SCREENSHOT), { recursive: true });
    await a.screenshot({ path: README_SCREENSHOT, fullPage: true });

    // Back on the board: the product's row shows the live prices, day volume and alice's stock.
    await a.getByRole('button', { name: 'Back to all products' }).click();
    const row = a.locator(`.board tr[data-symbol="${SYMBOL}"]`);
    await row.locator('td.best-inflow', { hasText: '999.00' }).waitFor({ timeout: UI_WAIT_MS });
    await row.locator('td.last', { hasText: '999.00' }).waitFor({ timeout: UI_WAIT_MS });
    await row.locator('td.volume', { hasText: /^3$/ }).waitFor({ timeout: UI_WAIT_MS });
    if (walletServed) await row.locator('td.mine', { hasText: '1003 (0)' }).waitFor({ timeout: UI_WAIT_MS });
    t.pass("the board row shows best inflow 999.00, last 999.00, day volume 3 (and alice's stock)");
    await a.screenshot({ path: path.join(ARTIFACTS_DIR, 'kiosk-alice-board.png') });
  });

  t.test('a colleague updates and removes an open order from the kiosk; server errors appear next to their fields', async (t) => {
    if (aliceOrderId === '') return t.fail('the first test did not leave an open order');
    // Off tick: APPL-512 trades in steps of 0.05.
    await placeOrder(a, 'inflow', COARSE_TICK_SYMBOL, '1099.01', 1);
    const priceError = a.locator('#ticket-price-error');
    await priceError.waitFor({ timeout: UI_WAIT_MS });
    t.match(await text(priceError), /not a multiple of tick 0\.05/, 'the off-tick error is shown under the price');
    t.equal(await a.getByLabel(/^Limit price/).getAttribute('aria-invalid'), 'true', 'the price field is marked invalid for screen readers');

    // Over a limit: 2,000 × 999.00 = 1,998,000.00 is over the default 1,000,000.00 daily notional.
    await placeOrder(a, 'inflow', SYMBOL, '999.00', 2000);
    const quantityError = a.locator('#ticket-quantity-error');
    await quantityError.waitFor({ timeout: UI_WAIT_MS });
    t.match(await text(quantityError), /daily notional limit/, 'the over-the-limit error is shown under the quantity');
    t.equal(await priceError.count(), 0, 'the earlier price error is gone');

    const row = a.locator(`li.order[data-order-id="${aliceOrderId}"]`);
    if ((await a.locator('#product-title').count()) === 0) await openProduct(a, SYMBOL);
    await row.getByRole('button', { name: 'Update' }).click();
    await row.getByLabel('New price').fill('998.503');
    await row.getByRole('button', { name: 'Save' }).click();
    const editError = row.locator('.field-error');
    await editError.waitFor({ timeout: UI_WAIT_MS });
    t.match(await text(editError), /decimals|tick/, 'an off-tick update is refused next to the new price');

    await row.getByLabel('New price').fill('998.50');
    await row.getByRole('button', { name: 'Save' }).click();
    await row.getByText('2 of 5 @ 998.50').waitFor({ timeout: UI_WAIT_MS });
    for (const page of [a, b]) {
      await level(page, 'bid', '998.50').getByText('2', { exact: true }).waitFor({ timeout: UI_WAIT_MS });
      await level(page, 'bid', '999.00').waitFor({ state: 'detached', timeout: UI_WAIT_MS });
    }
    t.pass('the updated price moved the level on both ladders');
    if (walletServed) {
      await a.locator('#wallet-cash-reserved').filter({ hasText: /^1,?997\.00$/ }).waitFor({ timeout: UI_WAIT_MS });
      t.pass('the reservation follows the new price: 2 × 998.50 = 1,997.00');
    }

    await row.getByRole('button', { name: /^Remove order/ }).click();
    await row.waitFor({ state: 'detached', timeout: UI_WAIT_MS });
    for (const page of [a, b]) await level(page, 'bid', '998.50').waitFor({ state: 'detached', timeout: UI_WAIT_MS });
    t.pass('the removed order left the open orders and both ladders');
    if (walletServed) {
      await a.locator('#wallet-cash-reserved').filter({ hasText: /^0\.00$/ }).waitFor({ timeout: UI_WAIT_MS });
      t.pass('removing the order released its reservation');
    }
    t.equal(await b.locator('li.order').count(), 0, "bruno's page never listed alice's order");
  });

  t.test('no page threw or broke its Content-Security-Policy', async (t) => {
    t.same(pageErrors, [], 'no script error and no CSP violation in either kiosk');
  });
}
