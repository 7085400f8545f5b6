// `ims start` (the README's start command) brings up the sequencer and the control process; the
// control process lists the demo products, opens the demo colleagues' accounts and funds them
// exactly once, even across a restart, and opens the trading day.
import * as fs from 'node:fs';
import * as path from 'node:path';
import t from 'tap';
import { journalVerify } from '../processes/sequencer/journal-tools';
import { DEMO_PRODUCTS } from '../processes/control/demo-products';
import { DEMO_PEOPLE } from '../processes/accounts';
import { createImsInstance, until } from './support/ims-instance';

const inst = createImsInstance('start');
t.teardown(() => inst.destroy());

const colleagues = DEMO_PEOPLE.filter((p) => p.role === 'colleague').length;
const expected = {
  ListProduct: DEMO_PRODUCTS.length,
  AccountOpened: DEMO_PEOPLE.length,
  Deposit: colleagues,
  InventoryReceipt: colleagues * DEMO_PRODUCTS.length,
  TradingDayOpen: 1,
};
const total = Object.values(expected).reduce((a, b) => a + b, 0);

/** The demo commands in the journal (other entries, like product-manager takeover heartbeats, aside). */
function counts(): Record<string, number> {
  const all = journalVerify({ dataDir: path.join(inst.dataDir, 'journal'), engine: false, out: () => undefined }).countsByType as Record<string, number>;
  return Object.fromEntries(Object.keys(expected).map((k) => [k, all[k] ?? 0]));
}

t.test('the first start lists, opens, funds and opens the day', async (t) => {
  inst.start();
  await until('the demo plan in the journal', () => {
    if (!fs.existsSync(path.join(inst.runDir, 'supervisor.json'))) return false;
    const s = inst.status();
    return s.journal !== null && s.journal.visibleSeq >= total;
  }, 60_000);
  // The children's lines reach us through two pipes; give them a moment.
  await until('the credentials in the log', () => /alice\s+kiosk-101-demo\s+colleague/.test(inst.log()), 10_000);
  t.pass('the demo credentials are printed');
  const s = inst.status();
  t.ok(s.processes.every((p: any) => p.alive && p.cpus.length === 1), 'every process runs pinned to one core');
  t.same(counts(), expected, 'each demo command is in the journal once');
});

t.test('a restart over the same data adds nothing', async (t) => {
  await inst.stop();
  t.notOk(fs.existsSync(inst.runDir), 'stop removed the rings');
  inst.start();
  await until('the control process caught up', () => /"seeded":true/.test(inst.log()), 60_000);
  await new Promise((r) => setTimeout(r, 500));
  t.same(counts(), expected, 'still each demo command once');
  const verify = journalVerify({ dataDir: path.join(inst.dataDir, 'journal'), engine: false, out: () => undefined });
  t.ok(verify.ok, 'CRCs and the gap-free sequence verify');
  await inst.stop();
});
