// End-of-day reports against a naive computation straight from the journal's entries of the day
// (from its TradingDayOpen to the next): per product trades, volume, notional, VWAP, open, high,
// low, close; per outlet each account's fills, bought and sold, deposits and withdrawals, cash and
// units at the open and the close of the day, and the rows of every statement file. SQLite and
// PostgreSQL.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import t, { type Test } from 'tap';
import { decode } from '../bus/codec';
import { AccountOpened, Deposit, Fill, InventoryDispatch, InventoryReceipt, JOURNAL_HEADER_BYTES, NewOrder, TradingDayOpen, TypeId, Withdraw } from '../bus/schema';
import { csvCell, formatRatio, isoTimeOfUs, parseCsv } from '../processes/reporter/csv-text';
import { EodReportError, reportEod, type EodReport } from '../processes/reporter/eod-report';
import { ReportModel } from '../processes/reporter/report-model';
import { openReportStore, type ReportStore } from '../processes/reporter/report-store';
import { buildWorkload } from '../processes/reporter/report-workload';
import { findTestPostgres, postgresMissingMessage, postgresRequired, postgresTestDatabase, sqliteTestDatabase, type TestDatabase } from '../processes/reporter/report-test-database';

const SEED = Number(process.env['IMS_TEST_SEED'] ?? 0xe0d_2025);
t.comment(`seed ${SEED} (set IMS_TEST_SEED to change)`);

const workload = buildWorkload({ seed: SEED, operations: 6_000, accounts: 16, outlets: 3, products: 6, dayEvery: 2_000, firstDay: 20250106 });
const journal = workload.journal;
const DAY = workload.tradingDays[1]!; // the middle day: entries before and after it exist
const DATE = `${String(DAY).slice(0, 4)}-${String(DAY).slice(4, 6)}-${String(DAY).slice(6)}`;

// --- the naive side: one pass over the journal, entries tagged with their trading day.
const outletOf = new Map<number, number>();
let entryDay = 0;
let firstSeq = 0;
let lastSeq = 0;
const cashAt = new Map<number, number>(); // running cash per account
const unitsAt = new Map<string, number>();
const cashOpen = new Map<number, number>();
const cashClose = new Map<number, number>();
const unitsOpen = new Map<string, number>();
const unitsClose = new Map<string, number>();
interface ProductDay {
  trades: number;
  volume: number;
  notional: number;
  open: number;
  high: number;
  low: number;
  close: number;
}
const productDay = new Map<number, ProductDay>();
const accountDay = new Map<number, { fills: number; boughtUnits: number; boughtNotional: number; soldUnits: number; soldNotional: number; deposits: number; withdrawals: number; orders: number; movements: number }>();
const acct = (a: number): NonNullable<ReturnType<typeof accountDay.get>> => {
  let x = accountDay.get(a);
  if (x === undefined) accountDay.set(a, (x = { fills: 0, boughtUnits: 0, boughtNotional: 0, soldUnits: 0, soldNotional: 0, deposits: 0, withdrawals: 0, orders: 0, movements: 0 }));
  return x;
};
const bump = (m: Map<number, number>, k: number, d: number): void => void m.set(k, (m.get(k) ?? 0) + d);
const bumpUnits = (a: number, p: number, d: number): void => void unitsAt.set(`${a}/${p}`, (unitsAt.get(`${a}/${p}`) ?? 0) + d);
for (const e of journal.entries) {
  const b = e.offset + JOURNAL_HEADER_BYTES;
  const v = journal.view;
  if (e.typeId === TypeId.TradingDayOpen) {
    const opened = decode(TradingDayOpen, v, b).tradingDay;
    if (opened === DAY) {
      for (const [k, c] of cashAt) cashOpen.set(k, c);
      for (const [k, u] of unitsAt) unitsOpen.set(k, u);
    }
    if (entryDay === DAY) {
      for (const [k, c] of cashAt) cashClose.set(k, c);
      for (const [k, u] of unitsAt) unitsClose.set(k, u);
    }
    entryDay = opened;
  }
  const inDay = entryDay === DAY;
  if (inDay) {
    if (firstSeq === 0) firstSeq = e.seq;
    lastSeq = e.seq;
  }
  switch (e.typeId) {
    case TypeId.AccountOpened: {
      const a = decode(AccountOpened, v, b);
      outletOf.set(a.accountId, a.outletId);
      break;
    }
    case TypeId.Deposit: {
      const d = decode(Deposit, v, b);
      bump(cashAt, d.accountId, d.amount);
      if (inDay) {
        acct(d.accountId).deposits += d.amount;
        acct(d.accountId).movements++;
      }
      break;
    }
    case TypeId.Withdraw: {
      const w = decode(Withdraw, v, b);
      bump(cashAt, w.accountId, -w.amount);
      if (inDay) {
        acct(w.accountId).withdrawals += w.amount;
        acct(w.accountId).movements++;
      }
      break;
    }
    case TypeId.InventoryReceipt:
    case TypeId.InventoryDispatch: {
      const m = decode(e.typeId === TypeId.InventoryReceipt ? InventoryReceipt : InventoryDispatch, v, b);
      bumpUnits(m.accountId, m.productId, e.typeId === TypeId.InventoryReceipt ? m.quantity : -m.quantity);
      if (inDay) acct(m.accountId).movements++;
      break;
    }
    case TypeId.NewOrder:
      if (inDay) acct(decode(NewOrder, v, b).accountId).orders++;
      break;
    case TypeId.Fill: {
      const f = decode(Fill, v, b);
      const value = f.price * f.quantity;
      const buyer = f.takerSide === 1 ? f.takerAccountId : f.makerAccountId;
      const seller = f.takerSide === 1 ? f.makerAccountId : f.takerAccountId;
      bump(cashAt, buyer, -value);
      bump(cashAt, seller, value);
      bumpUnits(buyer, f.productId, f.quantity);
      bumpUnits(seller, f.productId, -f.quantity);
      if (inDay) {
        const p = productDay.get(f.productId) ?? { trades: 0, volume: 0, notional: 0, open: f.price, high: f.price, low: f.price, close: f.price };
        p.trades++;
        p.volume += f.quantity;
        p.notional += value;
        p.high = Math.max(p.high, f.price);
        p.low = Math.min(p.low, f.price);
        p.close = f.price;
        productDay.set(f.productId, p);
        for (const [who, buys] of [[buyer, true], [seller, false]] as const) {
          const x = acct(who);
          x.fills++;
          if (buys) {
            x.boughtUnits += f.quantity;
            x.boughtNotional += value;
          } else {
            x.soldUnits += f.quantity;
            x.soldNotional += value;
          }
        }
      }
      break;
    }
    default:
      break;
  }
}
t.comment(`trading day ${DATE}: seqs ${firstSeq}..${lastSeq}, ${productDay.size} products traded`);

function forEachDatabase(t: Test, body: (t: Test, store: ReportStore) => Promise<void>): void {
  const withStore = async (t: Test, db: TestDatabase): Promise<void> => {
    t.teardown(() => db.remove());
    const store = await openReportStore(db.options);
    t.teardown(() => store.close());
    const model = new ReportModel(await store.loadState());
    for (const e of journal.entries) {
      model.apply(journal.view, e.offset, e.typeId, e.desc.version);
      if (model.pendingEntries >= 900) await store.writeBatch(model.takeBatch());
    }
    await store.writeBatch(model.takeBatch());
    await body(t, store);
  };
  t.test('sqlite', async (t) => withStore(t, sqliteTestDatabase('eod')));
  t.test('postgres', async (t) => {
    const found = await findTestPostgres();
    if (found.url === undefined) {
      if (postgresRequired()) t.fail(postgresMissingMessage(found.why));
      else t.skip(postgresMissingMessage(found.why), () => undefined);
      return;
    }
    await withStore(t, postgresTestDatabase(found.url, 'eod'));
  });
}

function csvOf(report: EodReport, name: string): Array<Record<string, string>> {
  const file = report.files.find((f) => f.name === name);
  if (file === undefined) throw new Error(`no file ${name} in ${report.files.map((f) => f.name).join(', ')}`);
  const [header, ...rows] = parseCsv(file.csv);
  return rows.map((r) => Object.fromEntries(header!.map((h, i) => [h, r[i]!])));
}

t.test('the per-product summary equals a naive computation from the day’s fills (volume, VWAP, high, low, trades)', async (t) => {
  t.ok(productDay.size >= 5, 'the day has trades in most products');
  forEachDatabase(t, async (t, store) => {
    const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ims-test-reporter-eod-out-'));
    t.teardown(() => fs.rmSync(outDir, { recursive: true, force: true }));
    const report = await reportEod({ database: store, date: DATE, csv: true, outDir });
    t.match(report, { tradingDay: DAY, date: DATE, firstSeq, lastSeq }, 'the day is the journal range of its TradingDayOpen');
    const rows = csvOf(report, `eod-${DATE}-products.csv`);
    t.equal(rows.length, productDay.size, 'one row per product traded');
    for (const r of rows) {
      const naive = productDay.get(Number(r['product_id']))!;
      const vwap = naive.notional / naive.volume;
      t.same(
        { trades: Number(r['trades']), volume: Number(r['volume']), notional: Number(r['notional']), open: Number(r['open']), high: Number(r['high']), low: Number(r['low']), close: Number(r['close']) },
        { trades: naive.trades, volume: naive.volume, notional: naive.notional, open: naive.open, high: naive.high, low: naive.low, close: naive.close },
        `${r['symbol']}: trades, volume, notional, open/high/low/close`,
      );
      t.ok(Math.abs(Number(r['vwap']) - vwap) <= 0.00005 + 1e-9, `${r['symbol']}: VWAP ${r['vwap']} ≈ ${vwap}`);
    }
    for (const f of report.files) t.equal(fs.readFileSync(path.join(outDir, f.name), 'utf8'), f.csv, `${f.name} written`);
  });
});

t.test('outlet statements: each account’s fills, trades, movements, cash and units at the open and close of the day', async (t) => {
  forEachDatabase(t, async (t, store) => {
    const report = await reportEod({ database: store, date: String(DAY), csv: true });
    t.same(report.outlets, [1, 2, 3], 'every outlet');
    t.equal(report.files.filter((f) => f.path !== null).length, 0, 'without outDir nothing is written');
    let fillRows = 0;
    let orderRows = 0;
    let movementRows = 0;
    const cashProblems: string[] = [];
    for (const outlet of report.outlets) {
      const accounts = csvOf(report, `eod-${DATE}-outlet-${outlet}-accounts.csv`);
      t.same(accounts.map((a) => Number(a['account_id'])), [...outletOf].filter(([, o]) => o === outlet).map(([a]) => a), `outlet ${outlet}: its accounts`);
      for (const a of accounts) {
        const id = Number(a['account_id']);
        const naive = accountDay.get(id) ?? acct(id);
        const open = cashOpen.get(id) ?? 0;
        const close = cashClose.get(id) ?? 0;
        const got = {
          fills: Number(a['fills']), bought: Number(a['bought_units']), boughtNotional: Number(a['bought_notional']), sold: Number(a['sold_units']), soldNotional: Number(a['sold_notional']),
          deposits: Number(a['deposits']), withdrawals: Number(a['withdrawals']), orders: Number(a['orders_placed']), open: Number(a['cash_open']), change: Number(a['cash_change']), close: Number(a['cash_close']),
        };
        const want = {
          fills: naive.fills, bought: naive.boughtUnits, boughtNotional: naive.boughtNotional, sold: naive.soldUnits, soldNotional: naive.soldNotional,
          deposits: naive.deposits, withdrawals: naive.withdrawals, orders: naive.orders, open, change: close - open, close,
        };
        if (JSON.stringify(got) !== JSON.stringify(want)) cashProblems.push(`account ${id}: report ${JSON.stringify(got)}, naive ${JSON.stringify(want)}`);
        fillRows += naive.fills;
        orderRows += naive.orders;
        movementRows += naive.movements;
      }
      for (const p of csvOf(report, `eod-${DATE}-outlet-${outlet}-positions.csv`)) {
        const key = `${p['account_id']}/${p['product_id']}`;
        if (Number(p['units_open']) !== (unitsOpen.get(key) ?? 0) || Number(p['units_close']) !== (unitsClose.get(key) ?? 0)) {
          cashProblems.push(`position ${key}: ${p['units_open']} → ${p['units_close']}, naive ${unitsOpen.get(key)} → ${unitsClose.get(key)}`);
        }
        const flow = Number(p['bought']) - Number(p['sold']) + Number(p['received']) - Number(p['dispatched']);
        if (flow !== Number(p['units_close']) - Number(p['units_open'])) cashProblems.push(`position ${key}: the day's flows do not add up`);
      }
    }
    t.same(cashProblems.slice(0, 10), [], 'every account line and position equals the naive computation');
    const sum = (suffix: string): number => report.files.filter((f) => f.name.endsWith(suffix)).reduce((n, f) => n + f.rows, 0);
    t.equal(sum('-fills.csv'), fillRows, `${fillRows} fill rows: each account's side of each execution`);
    t.equal(sum('-orders.csv'), orderRows, `${orderRows} order rows: the orders placed that day`);
    t.equal(sum('-movements.csv'), movementRows, `${movementRows} movement rows`);

    const one = await reportEod({ database: store, date: DATE, outlet: 2, csv: true });
    t.same(one.outlets, [2], '--outlet restricts the statements to one outlet');
    t.same(one.files.map((f) => f.name), [
      `eod-${DATE}-outlet-2-accounts.csv`, `eod-${DATE}-outlet-2-positions.csv`, `eod-${DATE}-outlet-2-orders.csv`,
      `eod-${DATE}-outlet-2-fills.csv`, `eod-${DATE}-outlet-2-movements.csv`, `eod-${DATE}-products.csv`,
    ]);
    await t.rejects(reportEod({ database: store, date: '2024-02-30', csv: true }), EodReportError, 'an impossible date');
    await t.rejects(reportEod({ database: store, date: '2031-01-02', csv: true }), /no journal entries were reported for trading day 2031-01-02; the latest days reported are/, 'a day without entries names the days there are');
    await t.rejects(reportEod({ database: store, date: DATE, outlet: 77, csv: true }), /outlet 77 has no accounts/, 'an unknown outlet');
  });
});

t.test('CSV cells are quoted and defused; ratios are rounded exactly; times keep their microseconds', async (t) => {
  t.equal(csvCell('k1,"x"'), '"k1,""x"""', 'commas and quotes are quoted');
  t.equal(csvCell('=HYPERLINK("http://x")'), `"'=HYPERLINK(""http://x"")"`, 'a formula typed by a user is not run by a spreadsheet');
  t.equal(csvCell('-5'), "'-5", 'a text cell that looks like a formula is defused');
  t.equal(csvCell(-5), '-5', 'numbers are written as they are');
  t.equal(csvCell(null), '');
  t.same(parseCsv('a,b\r\n"x,1","y""z"\r\n'), [['a', 'b'], ['x,1', 'y"z']]);
  t.equal(formatRatio(2, 3, 4), '0.6667');
  t.equal(formatRatio(1, 8, 2), '0.13', 'half up');
  t.equal(formatRatio(584_060, 583, 4), '1001.8182');
  t.equal(formatRatio(Number.MAX_SAFE_INTEGER, 3, 4), '3002399751580330.3333', 'exact beyond double precision');
  t.equal(formatRatio(5, 0, 4), '', 'no fills, no average');
  t.equal(isoTimeOfUs(1_736_000_000_123_456), '2025-01-04T14:13:20.123456Z');
});
