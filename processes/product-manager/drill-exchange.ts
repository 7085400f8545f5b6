// A throwaway exchange around the product-manager pair, for its tests and failover drills: the rings
// of the pair's topology (created as the supervisor creates them), a real sequencer process, one or
// two real product-manager processes, the matching Engine library following the journal in this
// process (drill-engine.ts) and ring-level gateways (drill-gateway.ts), plus a bootstrap ring for
// listings, accounts, deposits and the trading-day open. Everything runs from dist/ (compile first)
// and is removed by close().

import { spawn, type ChildProcess } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { encode } from '../../bus/codec';
import { AccountRole, SelfTradePolicy } from '../../bus/enums';
import { JournalDiskReader, TO_DISK_END } from '../../bus/journal-disk-reader';
import { JournalStatusFile, statusPathForRing } from '../../bus/journal-status';
import { BACK_PRESSURED, registerConsumer, RingFile, RingProducer } from '../../bus/ring';
import {
  AccountOpened,
  Deposit,
  INPUT_HEADER_BYTES,
  InputHeader,
  InventoryReceipt,
  JournalHeader,
  ListProduct,
  SetRiskRule,
  TradingDayOpen,
  type MessageDescriptor,
  type ValueOf,
} from '../../bus/schema';
import { SourceId } from '../../bus/source-ids';
import { DrillGateway } from './drill-gateway';
import { EngineStandIn } from './drill-engine';
import {
  defaultJournalRing,
  GATEWAY_RING_PM_SLOT,
  gatewayToPmRing,
  PM_INSTANCES,
  pmToGatewayRing,
  pmToSequencerRing,
  REPLY_RING_GATEWAY_SLOT,
  SEQUENCER_SLOT,
  type PmInstance,
} from './pm-paths';
import { ProductManagerState } from './product-manager-state';
import { readPmStatus, type PmInstanceStatus, type PmStatus } from './pm-status';

export const DRILL_INPUT_RING_BYTES = 1 << 20;
export const DRILL_JOURNAL_RING_BYTES = 1 << 24;
const CHILD_STDERR_BYTES = 64 * 1024;
const CHILD_LINES_KEPT = 10_000;

// ---------------------------------------------------------------------------------------------
// Child processes

/** The package root: where package.json sits beside native/binding.gyp. */
export function packageRoot(): string {
  let dir = __dirname;
  for (let i = 0; i < 8; i++) {
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(path.join(dir, 'native', 'binding.gyp'))) return dir;
    dir = path.dirname(dir);
  }
  throw new Error(`cannot find the IMS package root above ${__dirname}`);
}

/** dist/<script>.js for a TypeScript entry point; refuses a missing or stale build. */
export function distScript(script: string): string {
  const root = packageRoot();
  const js = path.join(root, 'dist', script.replace(/\.ts$/, '.js'));
  const ts = path.join(root, script);
  const jsStat = fs.statSync(js, { throwIfNoEntry: false });
  if (jsStat === undefined) throw new Error(`${js} is missing; compile first with 'npx tsc -p .'`);
  const tsStat = fs.statSync(ts, { throwIfNoEntry: false });
  if (tsStat !== undefined && jsStat.mtimeMs < tsStat.mtimeMs) throw new Error(`${js} is older than ${script}; compile first with 'npx tsc -p .'`);
  return js;
}

export interface ChildLine {
  event?: string;
  [key: string]: unknown;
}

const liveChildren = new Set<ManagedProcess>();
process.on('exit', () => {
  for (const c of liveChildren) c.child.kill('SIGKILL');
});

/** A child process of the drill: its JSON stdout lines, its stderr tail, its exit. */
export class ManagedProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly lines: ChildLine[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  exitStatus: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  readonly spawnedAtMs = Date.now();
  /** When the first stdout line arrived (0: none yet): how long the child took to start. */
  firstLineAtMs = 0;
  private stderrText = '';

  constructor(
    readonly label: string,
    script: string,
    args: readonly string[],
  ) {
    const env = { ...process.env };
    // Tap's loaders must not leak into children: they run the compiled code that ships.
    delete env['NODE_OPTIONS'];
    delete env['IMS_PIN_CPUS'];
    for (const key of Object.keys(env)) if (key.startsWith('TAP') || key.startsWith('_TAPJS') || key.startsWith('TS_NODE')) delete env[key];
    this.child = spawn(process.execPath, [distScript(script), ...args], { cwd: packageRoot(), env, stdio: ['ignore', 'pipe', 'pipe'] });
    if (this.child.pid === undefined) throw new Error(`${label}: spawn failed`);
    this.pid = this.child.pid;
    liveChildren.add(this);
    readline.createInterface({ input: this.child.stdout! }).on('line', (text) => {
      if (this.firstLineAtMs === 0) this.firstLineAtMs = Date.now();
      if (this.lines.length >= CHILD_LINES_KEPT) return;
      try {
        const parsed: unknown = JSON.parse(text);
        this.lines.push(typeof parsed === 'object' && parsed !== null ? (parsed as ChildLine) : { event: 'raw', text });
      } catch {
        this.lines.push({ event: 'raw', text });
      }
    });
    this.child.stderr!.on('data', (chunk: Buffer) => {
      if (this.stderrText.length < CHILD_STDERR_BYTES) this.stderrText += chunk.toString('utf8');
    });
    this.exited = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => {
        this.exitStatus = { code, signal };
        liveChildren.delete(this);
        resolve(this.exitStatus);
      });
    });
  }

  get alive(): boolean {
    return this.exitStatus === null;
  }

  get stderr(): string {
    return this.stderrText;
  }

  /** Sends `signal` and resolves once the child is reaped. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.alive) this.child.kill(signal);
    return this.exited;
  }

  async waitForEvent(event: string, timeoutMs: number, match: (line: ChildLine) => boolean = () => true): Promise<ChildLine> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const line = this.lines.find((l) => l.event === event && match(l));
      if (line !== undefined) return line;
      if (!this.alive) throw new Error(`${this.label} (pid ${this.pid}) exited ${JSON.stringify(this.exitStatus)} before '${event}'\n${this.describe()}`);
      if (Date.now() > deadline) throw new Error(`${this.label} (pid ${this.pid}): no '${event}' within ${timeoutMs} ms\n${this.describe()}`);
      await sleep(5);
    }
  }

  describe(): string {
    return `last lines:\n${this.lines.slice(-8).map((l) => JSON.stringify(l)).join('\n')}\nstderr:\n${this.stderrText.slice(-3000)}`;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// ---------------------------------------------------------------------------------------------
// The bus

/** Creates every ring of the pair's topology with its consumer slots, as the supervisor does. */
export function createProductManagerBus(runDir: string, gateways: number, extraInputs: readonly string[] = []): void {
  fs.mkdirSync(runDir, { recursive: true });
  const input = (file: string): void => {
    const ring = RingFile.create(file, { capacityBytes: DRILL_INPUT_RING_BYTES, maxConsumers: 2 });
    registerConsumer(ring, SEQUENCER_SLOT);
  };
  for (const instance of PM_INSTANCES) input(pmToSequencerRing(runDir, instance));
  for (const name of extraInputs) input(path.join(runDir, `${name}.ring`));
  for (let g = 1; g <= gateways; g++) {
    registerConsumer(RingFile.create(gatewayToPmRing(runDir, g), { capacityBytes: DRILL_INPUT_RING_BYTES, maxConsumers: 2 }), GATEWAY_RING_PM_SLOT);
    registerConsumer(RingFile.create(pmToGatewayRing(runDir, g), { capacityBytes: DRILL_INPUT_RING_BYTES, maxConsumers: 2 }), REPLY_RING_GATEWAY_SLOT);
  }
}

/** Writes sequencer inputs under one source id (the bootstrap loader of listings, accounts, money). */
export class InputWriter {
  readonly producer: RingProducer;
  private sourceSeq = 0;

  constructor(
    ringPath: string,
    readonly sourceId: number,
  ) {
    this.producer = new RingProducer(RingFile.open(ringPath));
  }

  write<D extends MessageDescriptor>(desc: D, value: ValueOf<D>, epoch = 0): void {
    const at = this.producer.tryClaim(desc.typeId, desc.version, INPUT_HEADER_BYTES + desc.size);
    if (at === BACK_PRESSURED) throw new Error(`input ring ${this.producer.ring.path} is full`);
    const view = this.producer.ring.view;
    encode(InputHeader, { sourceSeq: ++this.sourceSeq, sourceId: this.sourceId, flags: 0, epoch }, view, at);
    encode(desc, value, view, at + INPUT_HEADER_BYTES);
    this.producer.commit();
  }

  close(): void {
    this.producer.close();
  }
}

// ---------------------------------------------------------------------------------------------
// The journal, read back

export interface JournalEntry {
  readonly seq: number;
  readonly typeId: number;
  readonly sourceId: number;
  readonly sourceSeq: number;
  readonly epoch: number;
  /** The whole entry (journal header + body), copied. */
  readonly bytes: Uint8Array;
}

/** Every entry on disk (up to `toSeq`). */
export function readJournalEntries(dataDir: string, toSeq = TO_DISK_END): JournalEntry[] {
  const reader = new JournalDiskReader({ dataDir, fromSeq: 1 });
  const out: JournalEntry[] = [];
  try {
    for (;;) {
      const n = reader.read(
        (typeId, _version, buf, offset, length) => {
          const view = buf.view;
          out.push({
            seq: view.getUint32(offset + JournalHeader.o.seq, true) + view.getInt32(offset + JournalHeader.o.seq + 4, true) * 2 ** 32,
            typeId,
            sourceId: view.getUint16(offset + JournalHeader.o.sourceId, true),
            sourceSeq: view.getUint32(offset + JournalHeader.o.sourceSeq, true) + view.getInt32(offset + JournalHeader.o.sourceSeq + 4, true) * 2 ** 32,
            epoch: view.getUint32(offset + JournalHeader.o.epoch, true),
            bytes: buf.bytes.slice(offset, offset + length),
          });
        },
        65_536,
        toSeq,
      );
      if (n === 0) break;
    }
  } finally {
    reader.close();
  }
  return out;
}

/** A body view of an entry (field x at JOURNAL_HEADER_BYTES + Desc.o.x). */
export function entryView(e: JournalEntry): DataView {
  return new DataView(e.bytes.buffer, e.bytes.byteOffset, e.bytes.byteLength);
}

/** A fresh product manager rebuilt from journal entries (what a replay gives). */
export function replayProductManager(entries: readonly JournalEntry[], toSeq = Number.POSITIVE_INFINITY): ProductManagerState {
  const state = new ProductManagerState();
  for (const e of entries) {
    if (e.seq > toSeq) break;
    state.applyJournalEntry(entryView(e), 0, e.typeId);
  }
  return state;
}

// ---------------------------------------------------------------------------------------------
// The exchange

export interface DrillProduct {
  readonly productId: number;
  readonly brandId: number;
  readonly tickSize: number;
  readonly lotSize: number;
  readonly referencePrice: number;
  readonly symbol: string;
}

export interface DrillAccount {
  readonly accountId: number;
  readonly outletId: number;
  readonly cash: number;
  /** Units received of every product. */
  readonly units: number;
  readonly role?: number;
}

export interface ScratchExchangeOptions {
  readonly label?: string;
  /** Default: a fresh directory on /dev/shm. */
  readonly runDir?: string;
  /** Default: a fresh directory under the system temp directory. */
  readonly dataDir?: string;
  readonly gateways: number;
  /** Which product-manager instances to start (default both). */
  readonly instances?: readonly PmInstance[];
  readonly products: readonly DrillProduct[];
  readonly accounts: readonly DrillAccount[];
  /** Risk rules as [ruleKind, limit, accountId, brandId]. */
  readonly riskRules?: ReadonlyArray<readonly [number, number, number, number]>;
  readonly leaseTimeoutMs?: number;
  readonly hashIntervalMs?: number;
  readonly durability?: 'fsync' | 'async';
  /**
   * Restart a product manager that exits, after SUPERVISOR_RESTART_DELAY_MS, as the supervisor does
   * (default false: the test restarts what it kills).
   */
  readonly supervise?: boolean;
}

export const SUPERVISOR_RESTART_DELAY_MS = 100;

export const DRILL_TRADING_DAY = 20250106;

export class ScratchExchange {
  readonly runDir: string;
  readonly dataDir: string;
  readonly options: ScratchExchangeOptions;
  readonly journalRing: string;
  readonly engineRing: string;
  readonly bootstrapRing: string;
  sequencer!: ManagedProcess;
  readonly pms = new Map<PmInstance, ManagedProcess>();
  /** Every product-manager process started, in order (restarts included). */
  readonly pmHistory: Array<{ instance: PmInstance; process: ManagedProcess }> = [];
  engine: EngineStandIn | null = null;
  readonly gateways: DrillGateway[] = [];
  bootstrapEntries = 0;
  private pumpTimer: NodeJS.Timeout | null = null;
  private pumpImmediate: NodeJS.Immediate | null = null;
  private closed = false;
  private ownRunDir: boolean;
  private ownDataDir: boolean;

  private constructor(options: ScratchExchangeOptions) {
    this.options = options;
    const tag = `${process.pid}-${crypto.randomBytes(3).toString('hex')}-${options.label ?? 'pm'}`;
    this.ownRunDir = options.runDir === undefined;
    this.ownDataDir = options.dataDir === undefined;
    this.runDir = options.runDir ?? path.join('/dev/shm', `ims-pmdrill-${tag}`);
    this.dataDir = options.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), `ims-pmdrill-${tag}-`));
    this.journalRing = defaultJournalRing(this.runDir);
    this.engineRing = path.join(this.runDir, 'engine-a-to-sequencer.ring');
    this.bootstrapRing = path.join(this.runDir, 'bootstrap-to-sequencer.ring');
  }

  /**
   * Creates the bus, starts the sequencer and the product managers, bootstraps listings, accounts,
   * money, stock and the trading day, and waits until a product manager is hot and has applied it.
   */
  static async start(options: ScratchExchangeOptions): Promise<ScratchExchange> {
    const ex = new ScratchExchange(options);
    try {
      await ex.boot();
    } catch (e) {
      await ex.close();
      throw e;
    }
    return ex;
  }

  private async boot(): Promise<void> {
    const o = this.options;
    createProductManagerBus(this.runDir, o.gateways, ['engine-a-to-sequencer', 'bootstrap-to-sequencer']);
    // The journal ring exists before anyone follows it (the sequencer would create it otherwise).
    RingFile.create(this.journalRing, { capacityBytes: DRILL_JOURNAL_RING_BYTES, maxConsumers: 8 });
    const inputs = [pmToSequencerRing(this.runDir, 'a'), pmToSequencerRing(this.runDir, 'b'), this.engineRing, this.bootstrapRing];
    this.sequencer = new ManagedProcess('sequencer', 'processes/sequencer/main.ts', [
      ...inputs.flatMap((r) => ['--input', r]),
      '--journal-ring', this.journalRing,
      '--data-dir', path.join(this.dataDir, 'journal'),
      '--durability', o.durability ?? 'async',
    ]);
    await this.sequencer.waitForEvent('sequencer-start', 10_000).catch(async () => {
      // Older builds print no start line: the status file says it runs.
      await this.waitFor(() => fs.existsSync(statusPathForRing(this.journalRing)), 10_000, 'the sequencer status file');
    });
    this.engine = new EngineStandIn(this.journalRing, this.engineRing);
    for (let g = 1; g <= o.gateways; g++) this.gateways.push(new DrillGateway(this.runDir, g, { firstRequestId: g * 1_000_000 }));
    this.bootstrap();
    this.startPump();
    for (const instance of o.instances ?? PM_INSTANCES) this.startPm(instance);
    const instances = o.instances ?? PM_INSTANCES;
    await this.waitFor(() => {
      const hot = this.hot();
      const ready = this.status().instances.filter((s) => s.alive && (s.role === 'hot' || s.role === 'warm') && s.lastSeq >= this.bootstrapEntries);
      return hot !== null && ready.length === instances.length;
    }, 30_000, 'a hot product manager and its standby that applied the bootstrap');
  }

  private bootstrap(): void {
    const o = this.options;
    const w = new InputWriter(this.bootstrapRing, SourceId.CONTROL);
    let reference = 0;
    let n = 0;
    const write = <D extends MessageDescriptor>(desc: D, value: ValueOf<D>): void => {
      w.write(desc, value);
      n++;
    };
    for (const p of o.products) {
      write(ListProduct, { tickSize: p.tickSize, lotSize: p.lotSize, referencePrice: p.referencePrice, productId: p.productId, brandId: p.brandId, selfTradePolicy: SelfTradePolicy.CANCEL_NEWEST, symbol: p.symbol, brand: `B${p.brandId}` });
    }
    for (const a of o.accounts) {
      write(AccountOpened, { accountId: a.accountId, outletId: a.outletId, role: a.role ?? AccountRole.COLLEAGUE });
      if (a.cash > 0) write(Deposit, { amount: a.cash, reference: ++reference, accountId: a.accountId });
      if (a.units > 0) for (const p of o.products) write(InventoryReceipt, { quantity: a.units, reference: ++reference, accountId: a.accountId, productId: p.productId });
    }
    for (const [ruleKind, limit, accountId, brandId] of o.riskRules ?? []) write(SetRiskRule, { limit, accountId, brandId, ruleKind });
    write(TradingDayOpen, { tradingDay: DRILL_TRADING_DAY });
    w.close();
    this.bootstrapEntries = n;
  }

  /** Starts (or restarts) product-manager `instance`. */
  startPm(instance: PmInstance): ManagedProcess {
    const o = this.options;
    const p = new ManagedProcess(`pm-${instance}`, 'processes/product-manager/main.ts', [
      '--instance', instance,
      '--run-dir', this.runDir,
      '--gateways', String(o.gateways),
      '--lease-timeout-ms', String(o.leaseTimeoutMs ?? 50),
      '--hash-interval-ms', String(o.hashIntervalMs ?? 200),
    ]);
    this.pms.set(instance, p);
    this.pmHistory.push({ instance, process: p });
    if (o.supervise === true) {
      void p.exited.then(async () => {
        await sleep(SUPERVISOR_RESTART_DELAY_MS);
        if (!this.closed && this.pms.get(instance) === p) this.startPm(instance);
      });
    }
    return p;
  }

  status(): PmStatus {
    return readPmStatus(this.runDir);
  }

  /** The status of the instance that is hot and holds the lease, or null. */
  hot(): PmInstanceStatus | null {
    const s = this.status();
    return s.instances.find((i) => i.role === 'hot' && i.alive && s.lease !== null && i.pid === s.lease.leaderPid) ?? null;
  }

  /** The journal's visible seq (what every consumer may act on). */
  visibleSeq(): number {
    const status = JournalStatusFile.openIfExists(statusPathForRing(this.journalRing));
    if (status === null) return 0;
    const out = new Float64Array(3);
    status.readVisible(out);
    return out[0]!;
  }

  gateway(gatewayId: number): DrillGateway {
    return this.gateways[gatewayId - 1]!;
  }

  /** Polls the engine stand-in and the gateways until nothing is left to do. */
  pump(): number {
    let work = 0;
    if (this.engine !== null) work += this.engine.poll();
    for (const g of this.gateways) work += g.poll();
    return work;
  }

  private startPump(): void {
    const tick = (): void => {
      this.pumpTimer = null;
      this.pumpImmediate = null;
      if (this.closed) return;
      const work = this.pump();
      if (work > 0) this.pumpImmediate = setImmediate(tick);
      else this.pumpTimer = setTimeout(tick, 1);
    };
    tick();
  }

  async waitFor(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      if (Date.now() > deadline) {
        const children = [this.sequencer, ...this.pms.values()].filter((c) => c !== undefined);
        throw new Error(`scratch exchange: ${what} not reached within ${timeoutMs} ms\nstatus: ${JSON.stringify(this.status())}\n${children.map((c) => `--- ${c.label}: ${c.describe()}`).join('\n')}`);
      }
      await sleep(2);
    }
  }

  /** Waits until every visible journal entry is applied by the hot product manager and the engine. */
  async settle(timeoutMs = 10_000): Promise<void> {
    let last = -1;
    let stableSince = Date.now();
    await this.waitFor(() => {
      const visible = this.visibleSeq();
      const hot = this.hot();
      const engineDone = this.engine === null || this.engine.reader.nextSeq > visible;
      if (visible !== last) {
        last = visible;
        stableSince = Date.now();
        return false;
      }
      return hot !== null && hot.lastSeq >= visible && engineDone && Date.now() - stableSince > 30;
    }, timeoutMs, 'a quiet journal applied by the hot product manager');
  }

  journal(): JournalEntry[] {
    return readJournalEntries(path.join(this.dataDir, 'journal'));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.pumpTimer !== null) clearTimeout(this.pumpTimer);
    if (this.pumpImmediate !== null) clearImmediate(this.pumpImmediate);
    const children = [...this.pmHistory.map((p) => p.process), this.sequencer].filter((c) => c !== undefined);
    await Promise.all(children.map((c) => c.kill('SIGKILL')));
    for (const g of this.gateways) g.close();
    this.engine?.close();
    if (this.ownRunDir) fs.rmSync(this.runDir, { recursive: true, force: true });
    if (this.ownDataDir) fs.rmSync(this.dataDir, { recursive: true, force: true });
  }
}
