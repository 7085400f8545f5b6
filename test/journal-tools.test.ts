// The journal tools behind `ims journal replay | tail | verify | archive`: a readable (or JSON)
// dump of a seq range and of one product; tail and follow; verify's CRC chain, gap-free seq and
// determinism audit (the journal's commands through a fresh matching engine give exactly the
// recorded engine outputs); archive of closed trading days, which stay readable.

import * as fs from 'node:fs';
import * as path from 'node:path';
import t, { type Test } from 'tap';
import { encode } from '../bus/codec';
import { setI64, Frame } from '../bus/journal-format';
import { JournalReader } from '../bus/journal-reader';
import { listSegments } from '../bus/journal-recovery';
import { RingFile, RingProducer, BACK_PRESSURED, type RecordBuffer } from '../bus/ring';
import { Fill, INPUT_HEADER_BYTES, InputHeader, ListProduct, NewOrder, TradingDayClose, TradingDayOpen, type AnyMessage } from '../bus/schema';
import { Engine } from '../processes/matching-engine/engine';
import type { EngineSink } from '../processes/matching-engine/engine-sink';
import { applyEngineCommand } from '../processes/sequencer/journal-audit';
import { journalArchive, journalReplay, journalTail, journalVerify } from '../processes/sequencer/journal-tools';
import { Sequencer } from '../processes/sequencer/sequencer';
import { ENTRY_SEQ, getI64 } from '../bus/journal-format';
import { makeBus, produceOrders, pump, readJournal, tempDir, type Bus } from './support/journal-harness';

const PM = 1;
const ENGINE = 50;

/** Writes one input of `desc` with `body` values (input header: sourceId, sourceSeq, epoch). */
function offer(producer: RingProducer, desc: AnyMessage, sourceId: number, sourceSeq: number, epoch: number, body: Record<string, number | string>): void {
  const at = producer.tryClaim(desc.typeId, desc.version, INPUT_HEADER_BYTES + desc.size);
  if (at === BACK_PRESSURED) throw new Error('test input ring full');
  const view = producer.ring.view;
  setI64(view, at + InputHeader.o.sourceSeq, sourceSeq);
  view.setUint16(at + InputHeader.o.sourceId, sourceId, true);
  view.setUint16(at + InputHeader.o.flags, 0, true);
  view.setUint32(at + InputHeader.o.epoch, epoch, true);
  const full: Record<string, number | string> = {};
  for (const f of desc.fields) full[f.name] = body[f.name] ?? (f.type === 'char' ? '' : 0);
  encode(desc, full as never, view, at + INPUT_HEADER_BYTES);
  producer.commit();
}

/** A stand-in for the engine process: applies journal commands, sends its outputs to the sequencer. */
class EngineProcess implements EngineSink {
  readonly engine = new Engine(this);
  private sourceSeq = 0;
  nextSeq = 1;
  /** When set, changes one field of the next Fill it publishes (a diverging engine). */
  corruptNextFill = false;
  constructor(private readonly producer: RingProducer) {}
  run(dataDir: string): void {
    for (const e of readJournal(dataDir, { fromSeq: this.nextSeq })) {
      const buf = Buffer.alloc(32 + e.body.length);
      const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
      setI64(view, 0, e.seq);
      setI64(view, 8, e.timestampUs);
      e.body.copy(buf, 32);
      applyEngineCommand(this.engine, e.typeId, view, 0);
      this.nextSeq = e.seq + 1;
    }
  }
  private out(desc: AnyMessage, body: Record<string, number>): void {
    offer(this.producer, desc, ENGINE, ++this.sourceSeq, 1, { ...body, epoch: 1 });
  }
  onAccepted(inSeq: number, outIndex: number, orderId: number, accountId: number, productId: number, side: number, price: number, quantity: number, leavesQuantity: number): void {
    this.out(messageOf('OrderAccepted'), { inSeq, outIndex, orderId, accountId, productId, side, price, quantity, leavesQuantity });
  }
  onRejected(inSeq: number, outIndex: number, orderId: number, accountId: number, productId: number, reason: number): void {
    this.out(messageOf('OrderRejected'), { inSeq, outIndex, orderId, accountId, productId, reason });
  }
  onFill(inSeq: number, outIndex: number, execId: number, productId: number, price: number, quantity: number, takerSide: number, makerOrderId: number, makerAccountId: number, makerLeaves: number, makerCumQuantity: number, takerOrderId: number, takerAccountId: number, takerLeaves: number, takerCumQuantity: number): void {
    const q = this.corruptNextFill ? quantity + 1 : quantity;
    this.corruptNextFill = false;
    this.out(Fill, { inSeq, outIndex, execId, productId, price, quantity: q, takerSide, makerOrderId, makerAccountId, makerLeaves, makerCumQuantity, takerOrderId, takerAccountId, takerLeaves, takerCumQuantity });
  }
  onCanceled(inSeq: number, outIndex: number, orderId: number, accountId: number, productId: number, side: number, price: number, canceledQuantity: number, _leaves: number, reason: number): void {
    this.out(messageOf('OrderCanceled'), { inSeq, outIndex, orderId, accountId, productId, side, price, canceledQuantity, reason });
  }
  onAmended(inSeq: number, outIndex: number, orderId: number, accountId: number, productId: number, side: number, oldPrice: number, newPrice: number, newQuantity: number, leavesQuantity: number, lostPriority: boolean): void {
    this.out(messageOf('OrderAmended'), { inSeq, outIndex, orderId, accountId, productId, side, oldPrice, newPrice, newQuantity, leavesQuantity, lostPriority: lostPriority ? 1 : 0 });
  }
  onExpired(inSeq: number, outIndex: number, orderId: number, accountId: number, productId: number, side: number, price: number, expiredQuantity: number): void {
    this.out(messageOf('OrderExpired'), { inSeq, outIndex, orderId, accountId, productId, side, price, expiredQuantity });
  }
  onBookLevel(inSeq: number, outIndex: number, productId: number, side: number, price: number, quantity: number, orderCount: number): void {
    this.out(messageOf('BookLevelChanged'), { inSeq, outIndex, productId, side, price, quantity, orderCount });
  }
}

function messageOf(name: string): AnyMessage {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require('../bus/schema') as typeof import('../bus/schema')).messageByName(name)!;
}

interface Market {
  bus: Bus;
  dataDir: string;
  archiveDir: string;
  sequencer: Sequencer;
  pm: RingProducer;
  engine: EngineProcess;
  pmSeq: number;
}

function market(t: Test, label: string): Market {
  const bus = makeBus(t, label, { inputs: 2 });
  const dataDir = tempDir(t, label);
  const archiveDir = path.join(tempDir(t, `${label}-archive`), 'archive');
  const sequencer = Sequencer.open({ inputs: bus.inputs, journalRing: bus.journal, dataDir, archiveDir, log: () => undefined, segmentBytes: 128 * 1024 });
  t.teardown(() => sequencer.close());
  return { bus, dataDir, archiveDir, sequencer, pm: new RingProducer(RingFile.open(bus.inputs[0]!)), engine: new EngineProcess(new RingProducer(RingFile.open(bus.inputs[1]!))), pmSeq: 0 };
}

function settle(m: Market): void {
  // Sequence the commands, let the engine answer, sequence its outputs; until nothing moves.
  for (let i = 0; i < 100; i++) {
    pump(() => undefined, () => m.sequencer.doWork() === 0);
    const before = m.engine.nextSeq;
    m.engine.run(m.dataDir);
    if (m.sequencer.doWork() === 0 && m.engine.nextSeq === before) return;
  }
}

/** A small trading session: one product, orders that rest, cross and fill. */
function trade(m: Market, orders: number, day = 0): void {
  if (m.pmSeq === 0) offer(m.pm, ListProduct, PM, ++m.pmSeq, 0, { productId: 7, brandId: 1, tickSize: 1, lotSize: 1, referencePrice: 100, symbol: 'APPL-128', brand: 'Appleseed' });
  if (day !== 0) offer(m.pm, TradingDayOpen, PM, ++m.pmSeq, 0, { tradingDay: day });
  for (let i = 0; i < orders; i++) {
    const orderId = m.pmSeq * 100 + i;
    offer(m.pm, NewOrder, PM, ++m.pmSeq, 0, { orderId, accountId: 1 + (i % 4), productId: 7, side: 1 + (i % 2), price: 100 + (i % 3), quantity: 5 + (i % 7), timeInForce: 1, requestId: i, gatewayId: 1, clientOrderId: `c${i}` });
  }
  settle(m);
}

t.test('verify: a sound journal passes, and its commands through a fresh engine give exactly the recorded outputs', async (t) => {
  const m = market(t, 'verify');
  trade(m, 300);
  const lines: string[] = [];
  const report = journalVerify({ dataDir: m.dataDir, archiveDir: m.archiveDir, out: (l) => lines.push(l) });
  t.equal(report.ok, true, lines.join('\n'));
  t.equal(report.entries, m.sequencer.headSeq);
  t.ok(report.countsByType['Fill']! > 10, `${report.countsByType['Fill']} fills recorded`);
  t.match(report.determinism, { ran: true, commandsApplied: 301, mismatchCount: 0 });
  t.ok((report.determinism as { outputsCompared: number }).outputsCompared > 300);

  // An engine that diverges (one fill quantity off) is caught, naming the entry and the field.
  m.engine.corruptNextFill = true;
  trade(m, 40);
  const bad = journalVerify({ dataDir: m.dataDir, archiveDir: m.archiveDir });
  t.equal(bad.ok, false);
  t.match(bad.determinism, { ran: true, mismatchCount: 1 });
  t.match((bad.determinism as { mismatches: string[] }).mismatches[0], /^seq \d+: Fill \(inSeq \d+, outIndex \d+\) quantity is \d+ in the journal, \d+ in the replay$/);
});

t.test('verify names a damaged record and a missing segment', async (t) => {
  const m = market(t, 'verifybad');
  trade(m, 2000);
  m.sequencer.close();
  const segments = listSegments(m.dataDir);
  t.ok(segments.length >= 3, `${segments.length} segments`);
  const victim = segments[1]!.path;
  const bytes = fs.readFileSync(victim);
  bytes[4096 + Frame.PAYLOAD + 20] ^= 1;
  fs.writeFileSync(victim, bytes);
  const damaged = journalVerify({ dataDir: m.dataDir });
  t.equal(damaged.ok, false);
  t.match(damaged.problems[0], `journal segment ${victim} at byte offset 4096`);
  bytes[4096 + Frame.PAYLOAD + 20] ^= 1;
  fs.writeFileSync(victim, bytes);
  t.equal(journalVerify({ dataDir: m.dataDir }).ok, true, 'repaired, it passes again');
  fs.unlinkSync(victim);
  const gap = journalVerify({ dataDir: m.dataDir, engine: false });
  t.equal(gap.ok, false);
  t.match(gap.problems.join('\n'), /ends at seq \d+ but the next segment starts at seq \d+ \(a segment is missing or overlaps\)/);
});

t.test('replay prints a readable dump of a seq range, one product, or JSON', async (t) => {
  const m = market(t, 'replay');
  trade(m, 20);
  const lines: string[] = [];
  const result = journalReplay({ dataDir: m.dataDir, from: 2, to: 4, out: (l) => lines.push(l) });
  t.equal(result.printed, 3);
  t.match(lines[0], /^\s+2 \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z NewOrder\s+src=1\/2 {2}orderId=100 price=100 quantity=5 accountId=1 productId=7 .* clientOrderId="c0"$/);
  const json: string[] = [];
  journalReplay({ dataDir: m.dataDir, from: 1, to: 1, json: true, out: (l) => json.push(l) });
  t.match(JSON.parse(json[0]!), { seq: 1, type: 'ListProduct', sourceId: 1, sourceSeq: 1, body: { productId: 7, symbol: 'APPL-128', tickSize: 1 } });
  const bySymbol: string[] = [];
  const filtered = journalReplay({ dataDir: m.dataDir, product: 'APPL-128', out: (l) => bySymbol.push(l) });
  t.equal(filtered.printed, filtered.scanned, 'every entry here is about product 7');
  const none = journalReplay({ dataDir: m.dataDir, product: 8, out: () => undefined });
  t.equal(none.printed, 0);
  t.throws(() => journalReplay({ dataDir: m.dataDir, product: 'NOPE', out: () => undefined }), /no product 'NOPE' was listed/);
});

t.test('tail prints the last entries and follows new ones as they are sequenced', async (t) => {
  const m = market(t, 'tail');
  produceOrders(m.pm, 9, 1, 30);
  pump(() => m.sequencer.doWork(), () => m.sequencer.headSeq === 30);
  const lines: string[] = [];
  const last = await journalTail({ dataDir: m.dataDir, ringPath: m.bus.journal, count: 5, out: (l) => lines.push(l) });
  t.equal(last.printed, 5);
  t.match(lines[0], /^\s+26 /);
  const controller = new AbortController();
  const followed: string[] = [];
  const following = journalTail({ dataDir: m.dataDir, ringPath: m.bus.journal, count: 0, follow: true, out: (l) => followed.push(l), signal: controller.signal });
  await new Promise((resolve) => setTimeout(resolve, 50));
  produceOrders(m.pm, 9, 31, 40);
  pump(() => m.sequencer.doWork(), () => m.sequencer.headSeq === 40);
  for (let i = 0; i < 100 && followed.length < 10; i++) await new Promise((resolve) => setTimeout(resolve, 20));
  controller.abort();
  await following;
  t.equal(followed.length, 10);
  t.match(followed[0], /^\s+31 /);
  t.notOk(RingFile.open(m.bus.journal).consumers().some((c) => c.name.startsWith('tail-')), 'the follower gave its ring slot back');
});

t.test('a closed trading day is archived compressed and stays readable by replay, readers and verify', async (t) => {
  const m = market(t, 'archive');
  trade(m, 1500, 20251124);
  offer(m.pm, TradingDayClose, PM, ++m.pmSeq, 0, { tradingDay: 20251124 });
  settle(m);
  const closeSeq = readJournal(m.dataDir).find((e) => e.typeId === TradingDayClose.typeId)!.seq;
  const firstDaySegments = listSegments(m.dataDir).filter((s) => s.firstSeq <= closeSeq).length;
  trade(m, 200, 20251125);
  const head = m.sequencer.headSeq;
  const lines: string[] = [];
  const result = journalArchive({ dataDir: m.dataDir, archiveDir: m.archiveDir, out: (l) => lines.push(l) });
  t.equal(result.archived.length, firstDaySegments, `the ${firstDaySegments} segments of the closed day moved`);
  t.ok(result.archived.every((a) => a.tradingDay === 20251124 && a.to.includes(path.join('archive', '20251124')) && a.to.endsWith('.seg.gz')));
  t.equal(result.archived[result.archived.length - 1]!.lastSeq, closeSeq, 'the day ends with its close');
  t.ok(result.archived.every((a) => a.compressedBytes < a.bytes));
  t.ok(listSegments(m.dataDir).every((s) => s.firstSeq > closeSeq), 'only the open day stays in the data directory');
  t.equal(journalArchive({ dataDir: m.dataDir, archiveDir: m.archiveDir }).archived.length, 0, 'running it again moves nothing');

  const all = readJournal(m.dataDir, { archiveDir: m.archiveDir });
  t.equal(all.length, head, 'replay reads across the archive');
  t.equal(journalReplay({ dataDir: m.dataDir, archiveDir: m.archiveDir, from: 1, to: 3, out: () => undefined }).printed, 3);
  const report = journalVerify({ dataDir: m.dataDir, archiveDir: m.archiveDir });
  t.equal(report.ok, true, report.problems.join('\n'));
  t.equal(report.archivedSegments, firstDaySegments);
  t.match(report.determinism, { ran: true, mismatchCount: 0 });

  // A consumer starting from seq 1 reads the archive (found through the status file), then the ring.
  const reader = new JournalReader({ ringPath: m.bus.journal, name: 'reporter', fromSeq: 1 });
  t.teardown(() => reader.close());
  let count = 0;
  let last = 0;
  const handler = (_ty: number, _v: number, buf: RecordBuffer, offset: number): void => {
    const seq = getI64(buf.view, offset + ENTRY_SEQ);
    if (seq === last + 1) count++;
    last = seq;
  };
  pump(() => reader.poll(handler, 1024), () => last >= head);
  t.equal(count, head);

  // Exactly-once state outlives the archive: the restarted sequencer still knows source PM's last seq.
  m.sequencer.close();
  const restarted = Sequencer.open({ inputs: m.bus.inputs, journalRing: m.bus.journal, dataDir: m.dataDir, archiveDir: m.archiveDir, log: () => undefined });
  t.teardown(() => restarted.close());
  t.equal(restarted.exactlyOnce.lastSourceSeq(PM), m.pmSeq);
  offer(m.pm, NewOrder, PM, 5, 0, { orderId: 1, accountId: 1, productId: 7, side: 1, price: 100, quantity: 1, timeInForce: 1 }); // an old duplicate
  restarted.doWork();
  t.equal(restarted.headSeq, head, 'a duplicate from the archived day is still skipped');
});
