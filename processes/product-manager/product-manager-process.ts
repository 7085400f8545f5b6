// One product-manager instance (pm-a or pm-b) as a loop over the rings: the state library
// (product-manager-state.ts) wired to the journal, the gateways, the sequencer and the pair's
// leader lease. main.ts drives doWork() and the idle strategy; tests and drills run the process.
//
// Roles (the status file shows them):
//
//   REPLAYING ──caught up──► WARM ──leader looks dead──► TAKING_OVER ──► HOT
//                              ▲                              │ lost the lease race
//                              └──────────────────────────────┘
//
//   WARM   follows the journal (applyJournalEntry) and nothing else: no gateway ring, no output.
//          It remembers the execution reports the leader should have sent (report-history.ts).
//   TAKING_OVER, in order (each step retried by doWork until it can complete, so signals and the
//          status file stay live):
//          1. SIGKILL the old leader's pid if it still runs a product manager (single-machine
//             fencing) and wait until it is gone (a zombie counts as gone: it runs no code);
//          2. claim the next epoch (LeaderLease.tryAcquire: a compare-and-swap, so of two standbys
//             one wins and the other stays warm); heartbeat from here on;
//          3. wait until the sequencer has drained BOTH instances' input rings: everything the old
//             leader (or this instance's previous life) sent is then journaled or refused;
//          4. read the journal to its end, as visible after step 3: order ids, reservations and
//             in-flight state now include every command the old leader sent;
//          5. continue sourceSeq after the last one journaled for this instance, attach the gateway
//             rings (slot `pm`) and the reply rings (producer), write one Heartbeat as a fence (the
//             sequencer refuses lower epochs of the pair from then on), resend the remembered
//             reports after the old leader's reportedSeq, and serve.
//   HOT    each iteration: heartbeat (false = fenced: stop at once), apply journal entries and send
//          their reports, take a bounded batch of commands from each gateway ring (the first ring
//          rotates), check them, forward accepted ones and answer the rest; then COMMIT the gateway
//          ring positions, THEN publish the sequencer ring and the reply rings, then record
//          reportedSeq.
//
// What a crash of the hot can lose, precisely: the commands it took from gateway rings in its last
// iteration when the crash falls between committing those positions and publishing the batch (a
// few stores apart). They were neither forwarded nor answered: the gateway times them out (503) and
// the client retries with the same clientOrderId / reference, which creates them once. Nothing that
// was acknowledged is lost (an answer or a forwarded command is published only after its gateway
// position is committed, so no command can be read twice either), and every command published on
// the sequencer ring is journaled (step 3). Reports computed from journal entries after the dead
// leader's reportedSeq are resent by the new leader (the gateway drops the ones it already has).
//
// Hot path: no allocation per command or entry (scratch body, pre-allocated rings, typed arrays);
// the state hash for the status file is computed on a timer, not per entry.

import * as fs from 'node:fs';
import { native } from '../../native/addon';
import { readI64, readU16, readU32, writeI64, writeU16, writeU32, writeU8 } from '../../bus/codec';
import { ProcessRole, RejectReason } from '../../bus/enums';
import { SleepingParker, type Parker } from '../../bus/idle-strategy';
import { JournalReader } from '../../bus/journal-reader';
import { JournalStatusFile, statusPathForRing } from '../../bus/journal-status';
import { emptyLeaseSnapshot, LeaderLease } from '../../bus/leader-lease';
import { BACK_PRESSURED, RingFile, RingProducer, type RecordBuffer } from '../../bus/ring';
import {
  AccountOpened,
  AmendOrder,
  CancelOrder,
  ExecutionReport,
  Heartbeat,
  INPUT_HEADER_BYTES,
  InputHeader,
  JournalHeader,
  MAX_BODY_BYTES,
  messageByTypeId,
  NewOrder,
  TypeId,
} from '../../bus/schema';
import { InputCursor, INPUT_STOP, INPUT_TAKEN } from '../sequencer/input-cursor';
import { CHECK_BACK_PRESSURED, CHECK_DUPLICATE, ProductManagerState, type ProductManagerOptions } from './product-manager-state';
import {
  defaultJournalRing,
  GATEWAY_RING_PM_SLOT,
  gatewayToPmRing,
  MAX_GATEWAYS,
  otherInstance,
  pmJournalReaderName,
  pmLeasePath,
  pmSourceId,
  pmStatusPath,
  pmToGatewayRing,
  pmToSequencerRing,
  SEQUENCER_SLOT,
  type PmInstance,
} from './pm-paths';
import {
  DEFAULT_HASH_INTERVAL_MS,
  DEFAULT_LEASE_TIMEOUT_MS,
  GATEWAY_BATCH,
  HOT_HASH_BUDGET_MS,
  HOT_JOURNAL_BATCH,
  LEADER_EXIT_WAIT_MS,
  LOGGED_ADMIN_REJECTS,
  LOGGED_INVALID_RECORDS_PER_GATEWAY,
  REPORT_HISTORY_CAPACITY,
  STATUS_INTERVAL_MS,
  TAKEOVER_WAIT_LOG_INTERVAL_MS,
  WARM_JOURNAL_BATCH,
} from './pm-process-limits';
import { isProductManagerProcess, PmRole, PmStatusField, PmStatusFile, processRunning, readPmInstanceStatus, type PmCounters } from './pm-status';
import { ReportHistory } from './report-history';
import { PmCountersFile } from './pm-counters';
import { LeaseKeepingHasher } from './lease-keeping-hasher';
import { releaseDeadOwner } from './dead-owner';
import { isReadQuery, ReadQueries } from './read-queries';

export interface ProductManagerProcessOptions {
  readonly runDir: string;
  readonly instance: PmInstance;
  /** Gateways 1..gateways each have a gw<n>-to-pm and a pm-to-gw<n> ring. */
  readonly gateways: number;
  /** Default <runDir>/journal.ring. */
  readonly journalRing?: string;
  /** A leader silent this long is presumed dead (default 50 ms). */
  readonly leaseTimeoutMs?: number;
  /** How often the status file gets a fresh state hash (default 1 s). */
  readonly hashIntervalMs?: number;
  /** Hold the sequencer back instead of catching up from disk when lapped (default false). */
  readonly journalGating?: boolean;
  /** Bounds of the state (tests shrink them). */
  readonly state?: ProductManagerOptions;
  /** One JSON object per event; default: a line on stdout. */
  readonly log?: (event: Record<string, unknown>) => void;
  /** The process's counters file (pm-counters.ts); default: counts kept in memory only. */
  readonly countersFile?: PmCountersFile;
}

const TakeoverStep = { KILL: 1, ACQUIRE: 2, DRAIN: 3, CATCH_UP: 4, ATTACH: 5 } as const;

/** Commands a gateway may send (orders, admin commands, the accounts outbox). */
const GATEWAY_COMMAND = new Uint8Array(0x10000);
for (const name of ['NewOrder', 'CancelOrder', 'AmendOrder', 'Deposit', 'Withdraw', 'InventoryReceipt', 'InventoryDispatch', 'SetRiskRule', 'ListProduct',
  'HaltProduct', 'ResumeProduct', 'DelistProduct', 'AccountOpened', 'AccountSuspended', 'AccountRoleChanged'] as const) {
  GATEWAY_COMMAND[TypeId[name]] = 1;
}

const J_SOURCE_ID = JournalHeader.o.sourceId;
const J_SOURCE_SEQ = JournalHeader.o.sourceSeq;
const J_SEQ = JournalHeader.o.seq;
const J_EPOCH = JournalHeader.o.epoch;
const IN_SOURCE_ID = InputHeader.o.sourceId;
const IN_SOURCE_SEQ = InputHeader.o.sourceSeq;
const IN_EPOCH = InputHeader.o.epoch;
const REPORT_BYTES = ExecutionReport.size;

/** reportedSeqOf: no leader ever published, so nothing is owed to the gateways. */
const NOTHING_TO_RESEND = Number.MAX_SAFE_INTEGER;
/** A heartbeat this late makes a standby check whether the leader is still a running process. */
const LATE_HEARTBEAT_MS = 2;
/** reportedSeqOf: no status file names the old leader. */
const REPORTED_SEQ_UNKNOWN = -1;

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export class ProductManagerProcess implements Parker {
  readonly instance: PmInstance;
  readonly sourceId: number;
  private readonly otherSourceId: number;
  readonly gateways: number;
  readonly state: ProductManagerState;
  readonly status: PmStatusFile;
  readonly lease: LeaderLease;
  readonly counters: PmCounters = { ordersForwarded: 0, commandsForwarded: 0, rejected: 0, duplicatesAnswered: 0, invalidRecords: 0, reportsSent: 0, reportsDropped: 0, adminRejected: 0 };
  role: PmRole = PmRole.REPLAYING;
  epoch = 0;
  /** Set when the process must end: 0 after a requested stop, 4 when fenced. */
  exitCode: number | null = null;

  private readonly runDir: string;
  private readonly journalRing: string;
  private readonly leaseTimeoutMs: number;
  private readonly hashIntervalMs: number;
  private readonly journalGating: boolean;
  private readonly log: (event: Record<string, unknown>) => void;
  private readonly countersFile: PmCountersFile;
  private reader: JournalReader | null = null;
  private journalStatus: JournalStatusFile | null = null;
  private readonly visible = new Float64Array(3);
  private readonly clock = new Float64Array(2);
  private readonly sleeper = new SleepingParker();
  private readonly history = new ReportHistory(REPORT_HISTORY_CAPACITY);
  /** Answers gateways' reads: wallets, orders, risk rules (hot only; never sequenced; read-queries.ts). */
  readonly reads: ReadQueries;

  /** Last sourceSeq journaled under this instance's source id: where its numbering continues. */
  private lastOwnSourceSeq = 0;
  /**
   * The highest lease epoch the pair's journaled inputs carry. After a reboot the lease file is new
   * (epoch 0) while the sequencer fences the pair at this epoch: a claim must go past it.
   */
  private pairEpochJournaled = 0;
  private sourceSeq = 0;
  private toSequencer: RingProducer | null = null;
  private readonly gatewayCursors: InputCursor[] = [];
  private readonly replyProducers: RingProducer[] = [];
  /** Per gateway: the (epoch, sourceSeq) of its last command, to refuse a repeat on the link. */
  private readonly linkEpoch: Float64Array;
  private readonly linkSeq: Float64Array;
  private readonly invalidByGateway: Float64Array;
  private firstGateway = 0;
  private readonly scratch = new DataView(new ArrayBuffer(MAX_BODY_BYTES));
  private readonly scratchI32 = new Int32Array(this.scratch.buffer);

  // Takeover progress.
  private takeoverStep: number = TakeoverStep.KILL;
  private takeoverStartNs = 0;
  /** Monotonic ns at which each takeover step completed (kill, acquire, drain, catch-up). */
  private readonly takeoverStepNs = new Float64Array(5);
  private takeoverSeenEpoch = 0;
  /** The lease as considerTakeover judged it: what takeoverAcquire claims. */
  private readonly takeoverSeen = emptyLeaseSnapshot();
  private takeoverOldPid = 0;
  private takeoverOldReportedSeq = -1;
  private takeoverKilled = false;
  private takeoverWaitLogNs = 0;
  private catchUpToSeq = 0;
  private takeovers = 0;
  /** Both instances' sequencer input rings, opened when a takeover starts (the drain check). */
  private drainRings: RingFile[] = [];

  // Timers (monotonic ns).
  private lastLeaseCheckNs = 0;
  private lastStatusNs = 0;
  private lastHashNs = 0;
  private hashRequested = false;
  private hashTooSlowForHot = false;
  private hotHashes = 0;
  private ordersAtLastStatus = 0;
  private stopRequested = false;
  private lastJournalWaitLogNs = 0;

  private readonly onJournalEntry: (typeId: number, version: number, buf: RecordBuffer, offset: number, length: number) => void;
  private readonly onGatewayRecord: (input: InputCursor, typeId: number, version: number, payload: number, length: number) => number;

  constructor(options: ProductManagerProcessOptions) {
    if (!(Number.isInteger(options.gateways) && options.gateways >= 0 && options.gateways <= MAX_GATEWAYS)) {
      throw new RangeError(`gateways must be an integer in [0, ${MAX_GATEWAYS}], got ${options.gateways}`);
    }
    this.runDir = options.runDir;
    this.instance = options.instance;
    this.sourceId = pmSourceId(options.instance);
    this.otherSourceId = pmSourceId(otherInstance(options.instance));
    this.gateways = options.gateways;
    this.journalRing = options.journalRing ?? defaultJournalRing(options.runDir);
    this.leaseTimeoutMs = options.leaseTimeoutMs ?? DEFAULT_LEASE_TIMEOUT_MS;
    this.hashIntervalMs = options.hashIntervalMs ?? DEFAULT_HASH_INTERVAL_MS;
    this.journalGating = options.journalGating ?? false;
    this.log = options.log ?? ((event) => process.stdout.write(JSON.stringify(event) + '\n'));
    this.countersFile = options.countersFile ?? PmCountersFile.detached(`pm-${options.instance}`);
    this.linkEpoch = new Float64Array(this.gateways).fill(-1);
    this.linkSeq = new Float64Array(this.gateways);
    this.invalidByGateway = new Float64Array(this.gateways);
    // Every ring this instance will ever need must exist now: a typo in the topology fails at start,
    // not at the first failover.
    for (const file of [pmToSequencerRing(this.runDir, this.instance), ...this.gatewayRingPaths()]) {
      if (!fs.existsSync(file)) throw new Error(`product manager ${this.instance}: ring ${file} does not exist; the supervisor creates the rings before it starts the processes`);
    }
    this.state = new ProductManagerState({ ...options.state, sourceId: this.sourceId, epoch: 0 });
    this.reads = new ReadQueries(this.state);
    this.now();
    this.status = PmStatusFile.claim(pmStatusPath(this.runDir, this.instance), this.instance, this.gateways, this.clock[1]!);
    this.lease = LeaderLease.open(pmLeasePath(this.runDir));
    this.onJournalEntry = (typeId, version, buf, offset, length) => this.journalEntry(typeId, version, buf, offset, length);
    this.onGatewayRecord = (input, typeId, version, payload, length) => this.gatewayRecord(input, typeId, version, payload, length);
    this.lastStatusNs = this.clock[0]!;
    this.lastHashNs = this.clock[0]!;
    this.log({ event: 'pm-start', instance: this.instance, pid: process.pid, sourceId: this.sourceId, gateways: this.gateways, journalRing: this.journalRing, leaseTimeoutMs: this.leaseTimeoutMs });
  }

  private gatewayRingPaths(): string[] {
    const out: string[] = [];
    for (let g = 1; g <= this.gateways; g++) out.push(gatewayToPmRing(this.runDir, g), pmToGatewayRing(this.runDir, g));
    return out;
  }

  // =============================================================================================
  // The loop

  /** One iteration; returns the work done (0 = idle, let the idle strategy wait). */
  doWork(): number {
    if (this.exitCode !== null) return 0;
    this.now();
    if (this.stopRequested) {
      this.stop();
      return 0;
    }
    let work: number;
    switch (this.role) {
      case PmRole.HOT:
        work = this.hotWork();
        break;
      case PmRole.TAKING_OVER:
        work = this.takeoverWork();
        break;
      default:
        work = this.followWork();
    }
    if (this.clock[0]! - this.lastStatusNs >= STATUS_INTERVAL_MS * 1e6) this.writeStatus();
    return work;
  }

  /** Sleeps until the journal may have data (or the timeout): the idle strategy's parker. */
  park(timeoutNs: number): void {
    if (this.reader !== null) this.reader.park(timeoutNs);
    else this.sleeper.park(timeoutNs);
  }

  /** SIGTERM: the next doWork flushes everything and ends the process (exitCode 0). */
  requestStop(): void {
    this.stopRequested = true;
  }

  /** SIGUSR2 / tests: compute the state hash at the next status write. */
  requestHash(): void {
    this.hashRequested = true;
    this.lastStatusNs = 0;
  }

  /** Replaying or warm: follow the journal; a caught-up warm watches the leader. */
  private followWork(): number {
    if (this.reader === null && !this.openReader()) return 0;
    const n = this.reader!.poll(this.onJournalEntry, WARM_JOURNAL_BATCH);
    if (this.role === PmRole.REPLAYING) {
      if (n < WARM_JOURNAL_BATCH && this.caughtUp()) {
        this.role = PmRole.WARM;
        this.status.setRole(PmRole.WARM);
        this.requestHash();
        this.log({ event: 'pm-ready', instance: this.instance, role: 'warm', lastSeq: this.state.lastSeq, lastOwnSourceSeq: this.lastOwnSourceSeq });
      }
      return n;
    }
    if (this.clock[0]! - this.lastLeaseCheckNs >= 1e6) {
      this.lastLeaseCheckNs = this.clock[0]!;
      this.considerTakeover();
    }
    return n;
  }

  private openReader(): boolean {
    try {
      this.reader = new JournalReader({ ringPath: this.journalRing, name: pmJournalReaderName(this.instance), fromSeq: this.state.lastSeq + 1, gating: this.journalGating });
      this.journalStatus = JournalStatusFile.create(statusPathForRing(this.journalRing));
      return true;
    } catch (e) {
      // The sequencer creates the journal ring; until it has, there is nothing to follow.
      if (this.clock[0]! - this.lastJournalWaitLogNs > TAKEOVER_WAIT_LOG_INTERVAL_MS * 1e6) {
        this.lastJournalWaitLogNs = this.clock[0]!;
        this.log({ event: 'waiting-for-journal', instance: this.instance, journalRing: this.journalRing, error: errorMessage(e) });
      }
      return false;
    }
  }

  /** True when every journal entry visible now has been applied. */
  private caughtUp(): boolean {
    this.journalStatus!.readVisible(this.visible);
    return this.reader!.nextSeq > this.visible[0]!;
  }

  // --- journal -----------------------------------------------------------------------------------

  private journalEntry(typeId: number, version: number, buf: RecordBuffer, offset: number, _length: number): void {
    const desc = messageByTypeId(typeId);
    if (desc !== undefined && desc.version !== version) {
      // Reading a layout we do not know would apply garbage to wallets: stop and say why.
      throw new Error(`journal entry seq ${readI64(buf.view, offset + J_SEQ)}: ${desc.name} version ${version}, this build reads ${desc.version}; deploy matching releases`);
    }
    const view = buf.view;
    const entrySource = readU16(view, offset + J_SOURCE_ID);
    if (entrySource === this.sourceId) {
      const sourceSeq = readI64(view, offset + J_SOURCE_SEQ);
      if (sourceSeq > this.lastOwnSourceSeq) this.lastOwnSourceSeq = sourceSeq;
    }
    if (entrySource === this.sourceId || entrySource === this.otherSourceId) {
      const epoch = readU32(view, offset + J_EPOCH);
      if (epoch > this.pairEpochJournaled) this.pairEpochJournaled = epoch;
    }
    const reports = this.state.applyJournalEntry(view, offset, typeId);
    if (reports === 0) return;
    if (this.role === PmRole.HOT) {
      for (let i = 0; i < reports; i++) this.sendReport(i);
    } else {
      for (let i = 0; i < reports; i++) {
        const gatewayId = this.state.reportGatewayId(i);
        if (gatewayId === 0) continue;
        this.state.writeExecutionReport(i, this.history.view, this.history.push(this.state.lastSeq, gatewayId));
      }
    }
  }

  /** Writes report `index` of the last entry to its gateway's ring (uncommitted until the iteration ends). */
  private sendReport(index: number): void {
    const gatewayId = this.state.reportGatewayId(index);
    if (gatewayId === 0) return; // the engine acted on its own for an order without a session
    const at = this.claimReply(gatewayId);
    if (at < 0) return;
    this.state.writeExecutionReport(index, this.replyProducers[gatewayId - 1]!.ring.view, at);
    this.counters.reportsSent++;
    this.countersFile.reportSent();
  }

  /**
   * Claims room for one ExecutionReport on gateway `gatewayId`'s reply ring; -1 when the report
   * must be dropped (no such gateway, or its ring stays full: a gateway that does not read).
   */
  private claimReply(gatewayId: number): number {
    if (gatewayId < 1 || gatewayId > this.gateways) {
      this.counters.reportsDropped++;
      return -1;
    }
    const producer = this.replyProducers[gatewayId - 1]!;
    let at = producer.tryClaim(ExecutionReport.typeId, ExecutionReport.version, REPORT_BYTES);
    if (at === BACK_PRESSURED) {
      // The batch bound (a quarter of the ring) may be what stopped us: publish and retry once.
      producer.commit();
      at = producer.tryClaim(ExecutionReport.typeId, ExecutionReport.version, REPORT_BYTES);
      if (at === BACK_PRESSURED) {
        if (this.counters.reportsDropped++ % 10_000 === 0) {
          this.log({ event: 'alarm', kind: 'report-dropped', instance: this.instance, gatewayId, reportsDropped: this.counters.reportsDropped, why: `ring ${producer.ring.path} stays full: gateway ${gatewayId} is not reading` });
        }
        return -1;
      }
    }
    return at;
  }

  // --- hot ---------------------------------------------------------------------------------------

  private hotWork(): number {
    if (!this.lease.heartbeat(this.epoch)) return this.fenced();
    let work = this.reader!.poll(this.onJournalEntry, HOT_JOURNAL_BATCH);
    work += this.pollGateways();
    // Order-list scans run in bounded steps beside the commands (orders-query.ts).
    work += this.reads.advance();
    this.publish();
    return work;
  }

  private pollGateways(): number {
    const n = this.gateways;
    if (n === 0) return 0;
    let work = 0;
    const first = this.firstGateway;
    this.firstGateway = first + 1 === n ? 0 : first + 1;
    for (let k = 0; k < n; k++) {
      const g = first + k < n ? first + k : first + k - n;
      work += this.gatewayCursors[g]!.read(this.onGatewayRecord, GATEWAY_BATCH);
    }
    return work;
  }

  /**
   * Ends an iteration: gateway positions first, then the forwarded commands and the replies, then
   * reportedSeq (see "What a crash of the hot can lose" at the top).
   */
  private publish(): void {
    for (let g = 0; g < this.gatewayCursors.length; g++) this.gatewayCursors[g]!.commit();
    this.toSequencer!.commit();
    for (let g = 0; g < this.replyProducers.length; g++) this.replyProducers[g]!.commit();
    this.status.setReportedSeq(this.state.lastSeq);
  }

  /** One command from gateway ring `input.index` (gateway id index + 1). */
  private gatewayRecord(input: InputCursor, typeId: number, version: number, payload: number, length: number): number {
    const g = input.index;
    const gatewayId = g + 1;
    if (isReadQuery(typeId)) return this.readQuery(input, typeId, version, payload, length);
    const desc = messageByTypeId(typeId);
    if (desc === undefined || GATEWAY_COMMAND[typeId] === 0 || desc.version !== version || length !== INPUT_HEADER_BYTES + desc.size) {
      return this.invalidRecord(g, `record type ${typeId} version ${version} of ${length} bytes is not a gateway command of this release`);
    }
    const view = input.ring.view;
    if (readU16(view, payload + IN_SOURCE_ID) !== gatewayId) {
      return this.invalidRecord(g, `${desc.name} carries sourceId ${readU16(view, payload + IN_SOURCE_ID)} on the ring of gateway ${gatewayId}`);
    }
    const linkEpoch = readU32(view, payload + IN_EPOCH);
    const linkSeq = readI64(view, payload + IN_SOURCE_SEQ);
    if (linkEpoch === this.linkEpoch[g] && linkSeq <= this.linkSeq[g]!) {
      return this.invalidRecord(g, `${desc.name} repeats sourceSeq ${linkSeq} of epoch ${linkEpoch} (last ${this.linkSeq[g]})`);
    }
    // The body, copied (8-byte aligned words) so the checks can complete it in place.
    const words = desc.size >> 2;
    const from = (payload + INPUT_HEADER_BYTES) >> 2;
    const src = input.ring.i32;
    const scratch = this.scratchI32;
    for (let w = 0; w < words; w++) scratch[w] = src[from + w]!;
    const verdict = typeId <= TypeId.AmendOrder ? this.orderCommand(gatewayId, typeId, desc.size) : this.adminCommand(typeId, desc.size);
    if (verdict === INPUT_TAKEN) {
      this.linkEpoch[g] = linkEpoch;
      this.linkSeq[g] = linkSeq;
    }
    return verdict;
  }

  /**
   * A read (read-queries.ts: wallet, orders, risk rules): answered from the live state on the ring
   * it came from. It is not a command: no sourceSeq of the link is consumed or checked (it carries
   * 0), nothing is forwarded, the state is only read.
   */
  private readQuery(input: InputCursor, typeId: number, version: number, payload: number, length: number): number {
    const g = input.index;
    const view = input.ring.view;
    const invalid = this.reads.invalid(typeId, version, length, view, payload, g + 1);
    if (invalid !== null) return this.invalidRecord(g, invalid);
    return this.reads.take(typeId, view, payload, g + 1, this.replyProducers[g]!, this.clock[1]!) ? INPUT_TAKEN : INPUT_STOP;
  }

  private orderCommand(gatewayId: number, typeId: number, bodyBytes: number): number {
    const body = this.scratch;
    const state = this.state;
    // Replies go back on the ring the command came from, whatever its body claims.
    const gatewayAt = typeId === TypeId.NewOrder ? NewOrder.o.gatewayId : typeId === TypeId.CancelOrder ? CancelOrder.o.gatewayId : AmendOrder.o.gatewayId;
    const requestAt = typeId === TypeId.NewOrder ? NewOrder.o.requestId : typeId === TypeId.CancelOrder ? CancelOrder.o.requestId : AmendOrder.o.requestId;
    const accountAt = typeId === TypeId.NewOrder ? NewOrder.o.accountId : typeId === TypeId.CancelOrder ? CancelOrder.o.accountId : AmendOrder.o.accountId;
    const accountId = readU32(body, accountAt);
    const requestId = readU32(body, requestAt);
    const orderId = typeId === TypeId.NewOrder ? 0 : readI64(body, typeId === TypeId.CancelOrder ? CancelOrder.o.orderId : AmendOrder.o.orderId);
    const productId = readU32(body, typeId === TypeId.NewOrder ? NewOrder.o.productId : typeId === TypeId.CancelOrder ? CancelOrder.o.productId : AmendOrder.o.productId);
    let result: number;
    if (readU16(body, gatewayAt) !== gatewayId) {
      result = RejectReason.INVALID_COMMAND;
    } else if (typeId === TypeId.NewOrder) {
      result = state.checkNewOrderCommand(body, 0);
    } else if (typeId === TypeId.CancelOrder) {
      result = state.checkCancelCommand(body, 0);
    } else {
      result = state.checkAmendCommand(body, 0);
    }
    if (result === CHECK_BACK_PRESSURED) return INPUT_STOP;
    if (result === 0) {
      if (!this.forward(typeId, bodyBytes)) {
        state.abandonNewestInFlight();
        return INPUT_STOP;
      }
      if (typeId === TypeId.NewOrder) this.counters.ordersForwarded++;
      this.countersFile.command(typeId);
      return INPUT_TAKEN;
    }
    const at = this.claimReply(gatewayId);
    if (at < 0) return INPUT_STOP;
    const replyView = this.replyProducers[gatewayId - 1]!.ring.view;
    if (typeId === TypeId.NewOrder && result === CHECK_DUPLICATE) {
      // A resubmitted client order id: the original order's report, nothing created.
      if (state.executionReportFor(accountId, state.lastOrderId, gatewayId, requestId, replyView, at) === 0) {
        this.counters.duplicatesAnswered++;
        this.countersFile.command(typeId);
        this.countersFile.duplicateAnswered();
        return INPUT_TAKEN;
      }
    }
    state.writeRejectionReport(accountId, orderId, productId, result, gatewayId, requestId, replyView, at);
    this.counters.rejected++;
    this.countersFile.command(typeId);
    this.countersFile.rejected(result);
    return INPUT_TAKEN;
  }

  private adminCommand(typeId: number, bodyBytes: number): number {
    const body = this.scratch;
    let result: number;
    if (typeId === TypeId.AccountOpened || typeId === TypeId.AccountSuspended || typeId === TypeId.AccountRoleChanged) {
      // From the accounts outbox: decided by the accounts service (KYC, an administrator), idempotent
      // by account id. accountId is at offset 0 in all three layouts.
      result = readU32(body, AccountOpened.o.accountId) === 0 ? RejectReason.INVALID_COMMAND : 0;
    } else {
      result = this.state.checkAdminCommand(typeId, body, 0);
    }
    if (result === CHECK_BACK_PRESSURED) return INPUT_STOP;
    if (result !== 0) {
      // Admin commands carry no request id (the gateway answered 202 "submitted"): the refusal is
      // logged and counted, and the journal shows the command never happened.
      if (this.counters.adminRejected++ < LOGGED_ADMIN_REJECTS || this.counters.adminRejected % 10_000 === 0) {
        this.log({ event: 'admin-command-rejected', instance: this.instance, command: messageByTypeId(typeId)!.name, reason: result, adminRejected: this.counters.adminRejected });
      }
      this.countersFile.command(typeId);
      return INPUT_TAKEN;
    }
    if (!this.forward(typeId, bodyBytes)) {
      // Only Withdraw and InventoryDispatch hold anything while in flight.
      if (typeId === TypeId.Withdraw || typeId === TypeId.InventoryDispatch) this.state.abandonNewestInFlight();
      return INPUT_STOP;
    }
    this.countersFile.command(typeId);
    return INPUT_TAKEN;
  }

  /** Writes the scratch body as the next input of this instance to the sequencer (unpublished). */
  private forward(typeId: number, bodyBytes: number): boolean {
    const producer = this.toSequencer!;
    const desc = messageByTypeId(typeId)!;
    // No commit-and-retry here: publishing now would publish commands whose gateway positions are
    // not committed yet. The record stays unread and is retried next iteration.
    const at = producer.tryClaim(typeId, desc.version, INPUT_HEADER_BYTES + bodyBytes);
    if (at === BACK_PRESSURED) return false;
    const view = producer.ring.view;
    writeI64(view, at + IN_SOURCE_SEQ, this.sourceSeq + 1);
    writeU16(view, at + IN_SOURCE_ID, this.sourceId);
    writeU16(view, at + InputHeader.o.flags, 0);
    writeU32(view, at + IN_EPOCH, this.epoch);
    const dst = producer.ring.i32;
    const to = (at + INPUT_HEADER_BYTES) >> 2;
    const words = bodyBytes >> 2;
    const scratch = this.scratchI32;
    for (let w = 0; w < words; w++) dst[to + w] = scratch[w]!;
    this.sourceSeq++;
    this.counters.commandsForwarded++;
    return true;
  }

  private invalidRecord(g: number, why: string): number {
    this.counters.invalidRecords++;
    const n = ++this.invalidByGateway[g]!;
    if (n <= LOGGED_INVALID_RECORDS_PER_GATEWAY || n % 10_000 === 0) {
      this.log({ event: 'alarm', kind: 'invalid-gateway-record', instance: this.instance, gatewayId: g + 1, invalidFromGateway: n, why });
    }
    return INPUT_TAKEN;
  }

  /** Someone else holds the lease: publish nothing more, end the process (the supervisor restarts it as a standby). */
  private fenced(): number {
    for (const producer of this.replyProducers) producer.abort();
    this.toSequencer?.abort();
    this.role = PmRole.FENCED;
    this.status.setRole(PmRole.FENCED);
    this.log({ event: 'fenced', instance: this.instance, epoch: this.epoch, leaseEpoch: this.lease.epoch, leaderPid: this.lease.leaderPid });
    this.exitCode = 4;
    return 0;
  }

  // --- takeover ----------------------------------------------------------------------------------

  private considerTakeover(): void {
    // One consistent reading, judged here and claimed as read in takeoverAcquire: if the leader
    // beats or someone else claims in between, the claim fails instead of racing them.
    const looksDead = this.lease.leaderLooksDead(this.leaseTimeoutMs, this.takeoverSeen);
    const seenEpoch = this.takeoverSeen.epoch;
    const oldPid = this.takeoverSeen.leaderPid;
    // A leader killed a moment ago stays a zombie until its parent reaps it, and a zombie still
    // "exists" for leaderLooksDead: once its heartbeat is a little late, look at /proc as well, so a
    // crash is noticed in milliseconds rather than after the whole lease timeout.
    const lateMs = this.takeoverSeen.ageMs;
    const zombie = lateMs >= LATE_HEARTBEAT_MS && oldPid !== 0 && oldPid !== process.pid && !processRunning(oldPid);
    if (!zombie && !looksDead) return;
    if (this.lease.epoch !== seenEpoch) return; // someone moved first: look again next time
    this.role = PmRole.TAKING_OVER;
    this.status.setRole(PmRole.TAKING_OVER);
    this.takeoverStep = TakeoverStep.KILL;
    this.takeoverStartNs = this.clock[0]!;
    this.takeoverSeenEpoch = seenEpoch;
    this.takeoverOldPid = oldPid;
    this.takeoverKilled = false;
    this.takeoverWaitLogNs = this.clock[0]!;
    // Where the old leader's published reports end, read now: its file may be rewritten by a restart.
    this.takeoverOldReportedSeq = this.reportedSeqOf(oldPid);
    this.log({ event: 'takeover-begin', instance: this.instance, seenEpoch, oldLeaderPid: oldPid, heartbeatAgeMs: this.lease.heartbeatAgeMs(), oldReportedSeq: this.takeoverOldReportedSeq, lastSeq: this.state.lastSeq });
  }

  /**
   * The reportedSeq the leader `pid` left in its status file (or in the previous-owner fields of a
   * file its restarted instance took over); NOTHING_TO_RESEND when there never was a leader, and
   * REPORTED_SEQ_UNKNOWN when no file names it.
   */
  private reportedSeqOf(pid: number): number {
    if (pid === 0 || this.lease.epoch === 0) return NOTHING_TO_RESEND;
    for (const instance of [otherInstance(this.instance), this.instance]) {
      const s = readPmInstanceStatus(this.runDir, instance);
      if (s === null) continue;
      if (s.pid === pid) return s.reportedSeq;
      if (s.previousPid === pid) return s.previousReportedSeq;
    }
    return REPORTED_SEQ_UNKNOWN;
  }

  private takeoverWork(): number {
    switch (this.takeoverStep) {
      case TakeoverStep.KILL:
        return this.takeoverKill();
      case TakeoverStep.ACQUIRE:
        return this.takeoverAcquire();
      case TakeoverStep.DRAIN:
        if (!this.lease.heartbeat(this.epoch)) return this.fenced();
        return this.takeoverDrain();
      case TakeoverStep.CATCH_UP:
        if (!this.lease.heartbeat(this.epoch)) return this.fenced();
        return this.takeoverCatchUp();
      default:
        if (!this.lease.heartbeat(this.epoch)) return this.fenced();
        return this.takeoverAttach();
    }
  }

  private takeoverKill(): number {
    const pid = this.takeoverOldPid;
    if (pid !== 0 && pid !== process.pid && processRunning(pid) && isProductManagerProcess(pid)) {
      if (!this.takeoverKilled) {
        this.takeoverKilled = true;
        try {
          process.kill(pid, 'SIGKILL');
          this.log({ event: 'leader-killed', instance: this.instance, pid });
        } catch (e) {
          this.log({ event: 'alarm', kind: 'leader-kill-failed', instance: this.instance, pid, error: errorMessage(e) });
        }
      }
      if (this.lease.epoch === this.takeoverSeenEpoch && !this.lease.leaderLooksDead(this.leaseTimeoutMs)) {
        // It could not be killed (another user's process?) and it is beating again: it leads.
        this.log({ event: 'takeover-abandoned', instance: this.instance, pid, why: 'the leader could not be killed and its heartbeat is fresh again' });
        this.role = PmRole.WARM;
        this.status.setRole(PmRole.WARM);
        return 1;
      }
      if (this.clock[0]! - this.takeoverWaitLogNs > LEADER_EXIT_WAIT_MS * 1e6) {
        this.takeoverWaitLogNs = this.clock[0]!;
        this.log({ event: 'takeover-waiting', instance: this.instance, for: 'the old leader to exit', pid });
      }
      return 0;
    }
    this.takeoverStep = TakeoverStep.ACQUIRE;
    this.takeoverStepNs[TakeoverStep.KILL] = this.clock[0]!;
    return 1;
  }

  private takeoverAcquire(): number {
    const claimed = this.lease.tryAcquire(this.takeoverSeen);
    // A lease file recreated after a reboot starts below the epoch the journal (and so the
    // sequencer's fence) carries: every input of a claim at that epoch would be refused as stale.
    const epoch = claimed < 0 ? claimed : this.lease.raiseEpoch(claimed, this.pairEpochJournaled);
    if (epoch < 0) {
      this.log({ event: 'takeover-lost', instance: this.instance, leaseEpoch: this.lease.epoch, leaderPid: this.lease.leaderPid });
      this.role = PmRole.WARM;
      this.status.setRole(PmRole.WARM);
      return 1;
    }
    this.epoch = epoch;
    // If this instance dies during the takeover, the next one resends from the same place.
    const from = this.takeoverOldReportedSeq;
    this.status.setReportedSeq(from >= 0 && from !== NOTHING_TO_RESEND ? from : this.state.lastSeq);
    this.status.beginWrite();
    this.status.setU32(PmStatusField.EPOCH, epoch);
    this.status.endWrite();
    this.takeoverStep = TakeoverStep.DRAIN;
    this.takeoverStepNs[TakeoverStep.ACQUIRE] = this.clock[0]!;
    this.takeoverWaitLogNs = this.clock[0]!;
    this.log({ event: 'lease-acquired', instance: this.instance, epoch });
    return 1;
  }

  /** Both instances' input rings drained by the sequencer (journaled or refused)? */
  private takeoverDrain(): number {
    if (this.drainRings.length === 0) {
      for (const instance of [this.instance, otherInstance(this.instance)]) {
        const file = pmToSequencerRing(this.runDir, instance);
        if (fs.existsSync(file)) this.drainRings.push(RingFile.open(file)); // a single-instance set-up has no peer ring
      }
    }
    let pending = '';
    for (const ring of this.drainRings) {
      const slot = ring.consumers().find((c) => c.name === SEQUENCER_SLOT);
      if (slot !== undefined && slot.position !== ring.tail()) pending += `${ring.path} (${slot.lag} bytes) `;
    }
    if (pending !== '') {
      if (this.clock[0]! - this.takeoverWaitLogNs > TAKEOVER_WAIT_LOG_INTERVAL_MS * 1e6) {
        this.takeoverWaitLogNs = this.clock[0]!;
        this.log({ event: 'takeover-waiting', instance: this.instance, for: 'the sequencer to drain the product-manager input rings', pending: pending.trim() });
      }
      this.reader?.poll(this.onJournalEntry, WARM_JOURNAL_BATCH);
      return 0;
    }
    if (this.reader === null && !this.openReader()) return 0;
    this.drainRings = [];
    this.journalStatus!.readVisible(this.visible);
    this.catchUpToSeq = this.visible[0]!;
    this.takeoverStep = TakeoverStep.CATCH_UP;
    this.takeoverStepNs[TakeoverStep.DRAIN] = this.clock[0]!;
    return 1;
  }

  private takeoverCatchUp(): number {
    const n = this.reader!.poll(this.onJournalEntry, WARM_JOURNAL_BATCH);
    if (this.reader!.nextSeq > this.catchUpToSeq) {
      this.takeoverStep = TakeoverStep.ATTACH;
      this.takeoverStepNs[TakeoverStep.CATCH_UP] = this.clock[0]!;
    }
    return n + 1;
  }

  private takeoverAttach(): number {
    try {
      this.attachRings();
    } catch (e) {
      // A killed predecessor not yet reaped by its parent still "owns" the rings: try again.
      if (this.clock[0]! - this.takeoverWaitLogNs > TAKEOVER_WAIT_LOG_INTERVAL_MS * 1e6) {
        this.takeoverWaitLogNs = this.clock[0]!;
        this.log({ event: 'takeover-waiting', instance: this.instance, for: 'the rings to be free', error: errorMessage(e) });
      }
      this.detachRings();
      return 0;
    }
    const state = this.state;
    state.sourceId = this.sourceId;
    state.epoch = this.epoch;
    this.sourceSeq = this.lastOwnSourceSeq;
    this.writeFence();
    const resent = this.resendReports();
    this.publish();
    this.role = PmRole.HOT;
    this.now();
    const takeoverMs = (this.clock[0]! - this.takeoverStartNs) / 1e6;
    this.status.beginWrite();
    this.status.setU32(PmStatusField.ROLE, PmRole.HOT);
    this.status.setU32(PmStatusField.TAKEOVERS, ++this.takeovers);
    this.status.setF64(PmStatusField.LAST_TAKEOVER_MS, takeoverMs);
    this.status.setF64(PmStatusField.HOT_SINCE_US, this.clock[1]!);
    this.status.setF64(PmStatusField.DETECTED_AT_NS, this.takeoverStartNs);
    this.status.setF64(PmStatusField.CLAIMED_AT_NS, this.takeoverStepNs[TakeoverStep.ACQUIRE]!);
    this.status.setF64(PmStatusField.HOT_AT_NS, this.clock[0]!);
    this.status.endWrite();
    this.requestHash();
    const ms = (from: number, to: number): number => Math.round((to - from) / 1e3) / 1e3;
    const t = this.takeoverStepNs;
    this.log({
      event: 'pm-hot',
      instance: this.instance,
      epoch: this.epoch,
      lastSeq: state.lastSeq,
      sourceSeq: this.sourceSeq,
      reportsResent: resent,
      takeoverMs: Math.round(takeoverMs * 1000) / 1000,
      stepsMs: {
        kill: ms(this.takeoverStartNs, t[TakeoverStep.KILL]!),
        acquire: ms(t[TakeoverStep.KILL]!, t[TakeoverStep.ACQUIRE]!),
        drain: ms(t[TakeoverStep.ACQUIRE]!, t[TakeoverStep.DRAIN]!),
        catchUp: ms(t[TakeoverStep.DRAIN]!, t[TakeoverStep.CATCH_UP]!),
        attach: ms(t[TakeoverStep.CATCH_UP]!, this.clock[0]!),
      },
    });
    return 1;
  }

  private attachRings(): void {
    // The old leader was killed and no longer runs (a zombie at most): its pid must not keep us out.
    const dead = this.takeoverOldPid !== process.pid && !processRunning(this.takeoverOldPid) ? this.takeoverOldPid : 0;
    const open = (file: string): RingFile => {
      const ring = RingFile.open(file);
      releaseDeadOwner(ring, dead);
      return ring;
    };
    this.toSequencer = new RingProducer(open(pmToSequencerRing(this.runDir, this.instance)));
    for (let g = 1; g <= this.gateways; g++) {
      this.replyProducers.push(new RingProducer(open(pmToGatewayRing(this.runDir, g))));
      releaseDeadOwner(RingFile.open(gatewayToPmRing(this.runDir, g)), dead);
      this.gatewayCursors.push(new InputCursor(gatewayToPmRing(this.runDir, g), GATEWAY_RING_PM_SLOT, g - 1));
    }
  }

  private detachRings(): void {
    this.toSequencer?.close();
    this.toSequencer = null;
    for (const p of this.replyProducers) p.close();
    for (const c of this.gatewayCursors) c.close();
    this.replyProducers.length = 0;
    this.gatewayCursors.length = 0;
  }

  /**
   * The first input of a new leader: a Heartbeat with its epoch. Once journaled, the sequencer
   * refuses every input of the pair with a lower epoch (processes/sequencer/exactly-once.ts).
   */
  private writeFence(): void {
    const producer = this.toSequencer!;
    const at = producer.tryClaim(Heartbeat.typeId, Heartbeat.version, INPUT_HEADER_BYTES + Heartbeat.size);
    if (at === BACK_PRESSURED) {
      // Only a sequencer that stopped reading leaves the ring full after the drain; the fence is a
      // second line of defence (the old leader is dead), so say so and go on.
      this.log({ event: 'alarm', kind: 'fence-not-written', instance: this.instance, why: `ring ${producer.ring.path} is full` });
      return;
    }
    const view = producer.ring.view;
    writeI64(view, at + IN_SOURCE_SEQ, ++this.sourceSeq);
    writeU16(view, at + IN_SOURCE_ID, this.sourceId);
    writeU16(view, at + InputHeader.o.flags, 0);
    writeU32(view, at + IN_EPOCH, this.epoch);
    const b = at + INPUT_HEADER_BYTES;
    for (let i = 0; i < Heartbeat.size; i++) view.setUint8(b + i, 0);
    writeI64(view, b + Heartbeat.o.timestampUs, Math.floor(this.clock[1]!));
    writeI64(view, b + Heartbeat.o.position, this.state.lastSeq);
    writeU32(view, b + Heartbeat.o.epoch, this.epoch);
    writeU16(view, b + Heartbeat.o.sourceId, this.sourceId);
    writeU8(view, b + Heartbeat.o.role, ProcessRole.PRODUCT_MANAGER_HOT);
  }

  /** Resends the remembered reports of entries after the old leader's reportedSeq. */
  private resendReports(): number {
    const history = this.history;
    const from = this.takeoverOldReportedSeq;
    let resent = 0;
    if (from === REPORTED_SEQ_UNKNOWN) {
      this.log({ event: 'alarm', kind: 'takeover-report-position-unknown', instance: this.instance, oldLeaderPid: this.takeoverOldPid, why: 'no status file names the old leader; reports it may not have sent are not resent (their requests time out and clients retry)' });
    } else {
      if (history.forgottenThroughSeq > from) {
        this.log({ event: 'alarm', kind: 'takeover-reports-lost', instance: this.instance, fromSeq: from + 1, throughSeq: history.forgottenThroughSeq, why: `the old leader was more than ${history.capacity} reports behind` });
      }
      for (let i = 0; i < history.size; i++) {
        if (history.seqAt(i) <= from) continue;
        const gatewayId = history.gatewayIdAt(i);
        const at = this.claimReply(gatewayId);
        if (at < 0) continue;
        const producer = this.replyProducers[gatewayId - 1]!;
        const off = history.offsetAt(i);
        const dst = producer.ring.bytes;
        const src = new Uint8Array(history.view.buffer, off, REPORT_BYTES);
        dst.set(src, at);
        resent++;
        this.counters.reportsSent++;
        this.countersFile.reportSent();
      }
    }
    history.clear();
    return resent;
  }

  // --- status and stop -----------------------------------------------------------------------------

  private writeStatus(): void {
    const now = this.clock[0]!;
    const s = this.status;
    const elapsedS = (now - this.lastStatusNs) / 1e9;
    const orders = this.counters.ordersForwarded;
    const c = this.counters;
    let hash: { hi: number; lo: number } | null = null;
    const periodic = this.hashIntervalMs > 0 && now - this.lastHashNs >= this.hashIntervalMs * 1e6 && !(this.role === PmRole.HOT && this.hashTooSlowForHot);
    if (this.hashRequested || periodic) {
      this.lastHashNs = now;
      this.hashRequested = false;
      if (this.role === PmRole.HOT) {
        // The hash walks the whole state while no command is served: the hot renews its lease
        // while it hashes, and once a hash costs more than HOT_HASH_BUDGET_MS it hashes only when
        // asked (SIGUSR2); the standby hashes the same state on the timer.
        const hasher = new LeaseKeepingHasher(this.lease, this.epoch);
        this.state.writeState(hasher);
        if (!hasher.leaseHeld) {
          this.fenced();
          return;
        }
        hash = hasher.digest();
        this.now();
        const tookMs = (this.clock[0]! - now) / 1e6;
        // The first hash runs cold (not yet compiled): judge the cost from the second one on.
        if (this.hotHashes++ > 0 && tookMs > HOT_HASH_BUDGET_MS && !this.hashTooSlowForHot) {
          this.hashTooSlowForHot = true;
          this.log({ event: 'state-hash-on-request', instance: this.instance, tookMs, why: `a state hash took more than ${HOT_HASH_BUDGET_MS} ms: the hot hashes on SIGUSR2 only from now on` });
        }
      } else {
        hash = this.state.stateHash();
      }
    }
    s.beginWrite();
    s.setU32(PmStatusField.ROLE, this.role);
    s.setU32(PmStatusField.EPOCH, this.epoch);
    s.setF64(PmStatusField.LAST_SEQ, this.state.lastSeq);
    if (hash !== null) {
      s.setF64(PmStatusField.HASH_SEQ, this.state.lastSeq);
      s.setU32(PmStatusField.STATE_HASH_HI, hash.hi);
      s.setU32(PmStatusField.STATE_HASH_LO, hash.lo);
    }
    s.setU32(PmStatusField.IN_FLIGHT, this.state.inFlightCount);
    if (this.lastStatusNs !== 0 && elapsedS > 0) s.setF64(PmStatusField.ORDERS_PER_SECOND, Math.round((orders - this.ordersAtLastStatus) / elapsedS));
    s.setF64(PmStatusField.ORDERS_FORWARDED, orders);
    s.setF64(PmStatusField.COMMANDS_FORWARDED, c.commandsForwarded);
    s.setF64(PmStatusField.REJECTED, c.rejected);
    s.setF64(PmStatusField.DUPLICATES_ANSWERED, c.duplicatesAnswered);
    s.setF64(PmStatusField.INVALID_RECORDS, c.invalidRecords);
    s.setF64(PmStatusField.REPORTS_SENT, c.reportsSent);
    s.setF64(PmStatusField.REPORTS_DROPPED, c.reportsDropped);
    s.setF64(PmStatusField.ADMIN_REJECTED, c.adminRejected);
    s.setF64(PmStatusField.SOURCE_SEQ, this.sourceSeq);
    s.setF64(PmStatusField.UPDATED_US, this.clock[1]!);
    s.endWrite();
    this.ordersAtLastStatus = orders;
    this.lastStatusNs = now;
  }

  /** Flushes what this iteration wrote, releases the rings and ends (exitCode 0). */
  private stop(): void {
    const wasHot = this.role === PmRole.HOT;
    this.role = PmRole.STOPPING;
    if (wasHot) this.publish();
    this.requestHash();
    this.writeStatus();
    this.detachRings();
    this.reader?.close();
    this.reader = null;
    this.role = PmRole.STOPPED;
    this.status.setRole(PmRole.STOPPED);
    this.log({ event: 'pm-stopped', instance: this.instance, wasHot, epoch: this.epoch, lastSeq: this.state.lastSeq, sourceSeq: this.sourceSeq });
    this.exitCode = 0;
  }

  private now(): void {
    native.clockInto(this.clock, 0);
  }
}
