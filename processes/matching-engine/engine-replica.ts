// One engine instance's view of the journal, role-free: the Engine, the outputs it computed that
// the journal does not have yet (PendingOutputs), and the check of every engine output the journal
// brings back against what this instance computed. The engine process (main.ts) adds the roles
// (publishing when hot), the lease, snapshots on disk and the status file around it; replay tools
// and tests use it bare.
//
// Per journal entry, in seq order:
//   - an engine command (journal-commands.ts) is applied; its outputs go to the pending ring;
//     every `checkpointEvery` commands an EngineCheckpoint (state hash after that command) follows
//     as the command's last output;
//   - a SnapshotRequest adds a checkpoint after the last command (unless it already has one) and
//     raises `snapshotRequested` for the process;
//   - an engine output (types 50-57, from either instance) is compared with the head of the
//     pending ring: same key -> the bodies must be byte-identical apart from the epoch (for a
//     checkpoint that is the state hash); pending outputs with a smaller key were skipped by the
//     journal; a journaled key we never computed is an output we would not have produced. Each of
//     these is a divergence: logged as one JSON line (and on stderr) and counted, never ignored.
// What this instance knows about the journal (last engine output journaled, highest epoch, the
// engines' last sourceSeqs) comes from the same entries, so it survives restarts through snapshots.

import { type EngineOptions, Engine } from './engine';
import { readI64, readU16, readU32 } from '../../bus/codec';
import { JOURNAL_HEADER_BYTES, JournalHeader, messageByTypeId, TypeId } from '../../bus/schema';
import { SourceId } from '../../bus/source-ids';
import { EngineInvariantError } from './assert';
import {
  bodiesEqualIgnoringEpoch,
  bodyHexIgnoringEpoch,
  CHECKPOINT_TYPE_ID,
  isEngineOutputType,
  OUT_IN_SEQ_OFFSET,
  OUT_INDEX_OFFSET,
  compareKeys,
} from './engine-outputs';
import { applyEngineCommand, isEngineCommand } from './journal-commands';
import { OutputEncoder } from './output-encoder';
import { PendingOutputs } from './pending-outputs';

/** Default commands between two EngineCheckpoint outputs. */
export const DEFAULT_CHECKPOINT_EVERY = 10_000;
/** Default size of the pending-outputs ring: ~600,000 outputs, seconds of the 215,000/s peak. */
export const DEFAULT_PENDING_BYTES = 64 << 20;
/** Divergence lines logged in full before the log thins out to every 1,000th (the count stays exact). */
export const MAX_DIVERGENCES_LOGGED = 100;

export const DivergenceKind = {
  /** Same key, different bytes. */
  OUTPUT_MISMATCH: 'output-mismatch',
  /** An EngineCheckpoint with a different state hash (or resting-order count). */
  STATE_HASH_MISMATCH: 'state-hash-mismatch',
  /** This instance computed an output the journal skipped (a later key was journaled). */
  MISSING_IN_JOURNAL: 'missing-in-journal',
  /** The journal holds an output this instance did not compute. */
  UNEXPECTED_IN_JOURNAL: 'unexpected-in-journal',
} as const;
export type DivergenceKind = (typeof DivergenceKind)[keyof typeof DivergenceKind];

/** Replica state that is not inside the Engine; saved in every snapshot with the engine's bytes. */
export interface ReplicaMeta {
  /** Last journal seq handled (the snapshot's tag: replay resumes at journalSeq + 1). */
  journalSeq: number;
  commandsApplied: number;
  /** inSeq of the last EngineCheckpoint computed (0 = none). */
  lastCheckpointInSeq: number;
  /** Next free outIndex of the last command applied (its outputs so far, checkpoint included). */
  lastCommandOutputs: number;
  /** Key of the last engine output seen journaled (0, 0 = none yet). */
  lastJournaledInSeq: number;
  lastJournaledOutIndex: number;
  maxEpochSeen: number;
  lastSourceSeqA: number;
  lastSourceSeqB: number;
  /** Key of the newest output evicted from a full pending ring (0, 0 = none). */
  evictedInSeq: number;
  evictedOutIndex: number;
}

export interface ReplicaOptions {
  engine?: EngineOptions;
  checkpointEvery?: number;
  pendingBytes?: number;
  /** Divergence events and other notable events, one JSON-able object each. */
  log?: (event: Record<string, unknown>) => void;
  /** Called with the bytes needed when the pending ring is full (the process publishes or evicts). */
  makeRoom?: (bodyBytes: number) => void;
  /** Added to every logged event (instance name, ...). */
  labels?: Record<string, unknown>;
  /** Told of every checkpoint this replica computes (for the status file). */
  onCheckpoint?: (inSeq: number, hashHi: number, hashLo: number) => void;
}

export class EngineReplica {
  engine: Engine;
  readonly pending: PendingOutputs;
  readonly encoder: OutputEncoder;
  readonly checkpointEvery: number;
  readonly meta: ReplicaMeta = {
    journalSeq: 0,
    commandsApplied: 0,
    lastCheckpointInSeq: 0,
    lastCommandOutputs: 0,
    lastJournaledInSeq: 0,
    lastJournaledOutIndex: 0,
    maxEpochSeen: 0,
    lastSourceSeqA: 0,
    lastSourceSeqB: 0,
    evictedInSeq: 0,
    evictedOutIndex: 0,
  };
  divergences = 0;
  /** Journaled outputs from before what this instance holds (evicted), not comparable. */
  uncompared = 0;
  /** Journaled outputs compared equal. */
  matched = 0;
  /** Journaled checkpoints compared with this instance's own (equal or not). */
  checkpointsCompared = 0;
  evicted = 0;
  /** Set by a SnapshotRequest entry; the process writes a snapshot and clears it. */
  snapshotRequested = false;
  /** State hash of the last checkpoint computed (hi, lo) and its inSeq. */
  lastHashHi = 0;
  lastHashLo = 0;
  private readonly log: (event: Record<string, unknown>) => void;
  private readonly labels: Record<string, unknown>;
  private readonly engineOptions: EngineOptions;
  private readonly onCheckpoint: ((inSeq: number, hashHi: number, hashLo: number) => void) | undefined;

  constructor(options: ReplicaOptions = {}) {
    this.checkpointEvery = options.checkpointEvery ?? DEFAULT_CHECKPOINT_EVERY;
    if (!(Number.isSafeInteger(this.checkpointEvery) && this.checkpointEvery >= 1)) {
      throw new RangeError(`engine replica: checkpointEvery must be a positive integer, got ${this.checkpointEvery}`);
    }
    this.pending = new PendingOutputs(options.pendingBytes ?? DEFAULT_PENDING_BYTES);
    const makeRoom = options.makeRoom ?? ((bytes: number) => this.evictFor(bytes));
    this.encoder = new OutputEncoder(this.pending, makeRoom);
    this.engineOptions = options.engine ?? {};
    this.engine = new Engine(this.encoder, this.engineOptions);
    this.log = options.log ?? ((event) => process.stdout.write(JSON.stringify(event) + '\n'));
    this.labels = options.labels ?? {};
    this.onCheckpoint = options.onCheckpoint;
  }

  /**
   * Replaces the engine and the replica state with a snapshot's (see engine-snapshot-file.ts).
   * Only on a fresh replica (nothing applied yet).
   */
  restore(meta: ReplicaMeta, pendingRecords: Uint8Array, engineBytes: Uint8Array): void {
    if (this.meta.journalSeq !== 0 || this.pending.records !== 0) throw new Error('engine replica: restore needs a fresh replica');
    this.engine = Engine.restore(engineBytes, this.encoder, this.engineOptions);
    Object.assign(this.meta, meta);
    this.pending.appendCompact(pendingRecords, 0, pendingRecords.length);
    this.encoder.commandOutputs = meta.lastCommandOutputs;
  }

  /** The journal seq the next entry must carry. */
  get nextSeq(): number {
    return this.meta.journalSeq + 1;
  }

  /**
   * Handles one journal entry (the RecordHandler of a JournalReader): `offset` is the journal
   * header. Returns nothing; outputs land in `pending`, divergences in the counters and the log.
   */
  onEntry(typeId: number, version: number, view: DataView, offset: number): void {
    const seq = readI64(view, offset + JournalHeader.o.seq);
    const meta = this.meta;
    if (seq !== meta.journalSeq + 1) {
      throw new EngineInvariantError(`matching-engine invariant broken: journal entry seq ${seq} handed to a replica at seq ${meta.journalSeq} (a gap or a repeat)`);
    }
    if (isEngineCommand(typeId)) {
      this.checkVersion(typeId, version, seq);
      this.encoder.beginCommand();
      applyEngineCommand(this.engine, typeId, view, offset, this.encoder.command);
      meta.commandsApplied++;
      meta.lastCommandOutputs = this.encoder.commandOutputs;
      if (meta.commandsApplied % this.checkpointEvery === 0) this.checkpoint();
    } else if (isEngineOutputType(typeId)) {
      this.onJournaledOutput(typeId, view, offset, seq);
    } else if (typeId === TypeId.SnapshotRequest) {
      this.checkVersion(typeId, version, seq);
      if (this.engine.lastInSeq > 0 && meta.lastCheckpointInSeq !== this.engine.lastInSeq) this.checkpoint();
      this.snapshotRequested = true;
    }
    meta.journalSeq = seq;
  }

  /** True when every output not yet journaled is in the pending ring (nothing needed was evicted). */
  holdsEverythingUnjournaled(): boolean {
    const m = this.meta;
    return compareKeys(m.evictedInSeq, m.evictedOutIndex, m.lastJournaledInSeq, m.lastJournaledOutIndex) <= 0;
  }

  /**
   * Default makeRoom (a warm, a replay): drops the oldest pending outputs. What is dropped can no
   * longer be published on a takeover, so it is an alarm (holdsEverythingUnjournaled() tells).
   */
  evictFor(bodyBytes: number): void {
    const pending = this.pending;
    const target = Math.min(pending.capacityBytes, bodyBytes + pending.capacityBytes / 8);
    let dropped = 0;
    while (pending.records > 0 && pending.capacityBytes - pending.bytesUsed < target) {
      const head = pending.head();
      this.meta.evictedInSeq = pending.inSeqAt(head);
      this.meta.evictedOutIndex = pending.outIndexAt(head);
      pending.dropHead();
      dropped++;
    }
    this.evicted += dropped;
    this.log({
      event: 'engine-pending-overflow',
      ...this.labels,
      dropped,
      evictedThrough: { inSeq: this.meta.evictedInSeq, outIndex: this.meta.evictedOutIndex },
      lastJournaled: { inSeq: this.meta.lastJournaledInSeq, outIndex: this.meta.lastJournaledOutIndex },
      detail: 'the journal lags this instance by more than the pending ring holds; a takeover before the journal catches up would leave a gap (raise --max-pending-bytes)',
    });
  }

  private checkpoint(): void {
    const engine = this.engine;
    const hash = engine.stateHash();
    const inSeq = engine.lastInSeq;
    this.encoder.appendCheckpoint(inSeq, this.encoder.commandOutputs, hash.hi, hash.lo, engine.restingOrderCount);
    this.meta.lastCheckpointInSeq = inSeq;
    this.meta.lastCommandOutputs = this.encoder.commandOutputs;
    this.lastHashHi = hash.hi;
    this.lastHashLo = hash.lo;
    this.onCheckpoint?.(inSeq, hash.hi, hash.lo);
  }

  private onJournaledOutput(typeId: number, view: DataView, offset: number, seq: number): void {
    const meta = this.meta;
    const body = offset + JOURNAL_HEADER_BYTES;
    const inSeq = readI64(view, body + OUT_IN_SEQ_OFFSET[typeId]!);
    const outIndex = readU32(view, body + OUT_INDEX_OFFSET[typeId]!);
    const epoch = readU32(view, offset + JournalHeader.o.epoch);
    const sourceId = readU16(view, offset + JournalHeader.o.sourceId);
    const sourceSeq = readI64(view, offset + JournalHeader.o.sourceSeq);
    if (epoch > meta.maxEpochSeen) meta.maxEpochSeen = epoch;
    if (sourceId === SourceId.ENGINE_A && sourceSeq > meta.lastSourceSeqA) meta.lastSourceSeqA = sourceSeq;
    else if (sourceId === SourceId.ENGINE_B && sourceSeq > meta.lastSourceSeqB) meta.lastSourceSeqB = sourceSeq;
    meta.lastJournaledInSeq = inSeq;
    meta.lastJournaledOutIndex = outIndex;

    const pending = this.pending;
    for (;;) {
      const head = pending.head();
      const order = head < 0 ? 1 : pending.compareAt(head, inSeq, outIndex);
      if (order < 0) {
        // We computed it, the journal went past it: it will never be journaled.
        this.divergence(DivergenceKind.MISSING_IN_JOURNAL, seq, pending.typeIdAt(head), pending.inSeqAt(head), pending.outIndexAt(head), pending.view, pending.bodyAt(head), null, 0);
        pending.dropHead();
        continue;
      }
      if (order === 0) {
        const pendingType = pending.typeIdAt(head);
        if (typeId === CHECKPOINT_TYPE_ID) this.checkpointsCompared++;
        if (pendingType !== typeId || !bodiesEqualIgnoringEpoch(typeId, pending.view, pending.bodyAt(head), view, body)) {
          const kind = typeId === CHECKPOINT_TYPE_ID && pendingType === CHECKPOINT_TYPE_ID ? DivergenceKind.STATE_HASH_MISMATCH : DivergenceKind.OUTPUT_MISMATCH;
          this.divergence(kind, seq, pendingType, inSeq, outIndex, pending.view, pending.bodyAt(head), view, body, typeId);
        } else {
          this.matched++;
        }
        pending.dropHead();
        return;
      }
      break;
    }
    // Nothing of ours has this key.
    if (compareKeys(inSeq, outIndex, meta.evictedInSeq, meta.evictedOutIndex) <= 0) {
      this.uncompared++;
      return;
    }
    this.divergence(DivergenceKind.UNEXPECTED_IN_JOURNAL, seq, 0, inSeq, outIndex, null, 0, view, body, typeId);
  }

  private divergence(
    kind: DivergenceKind,
    seq: number,
    computedType: number,
    inSeq: number,
    outIndex: number,
    computedView: DataView | null,
    computedBody: number,
    journaledView: DataView | null,
    journaledBody: number,
    journaledType = 0,
  ): void {
    this.divergences++;
    const n = this.divergences;
    if (n > MAX_DIVERGENCES_LOGGED && n % 1000 !== 0) return;
    const event = {
      event: 'engine-divergence',
      ...this.labels,
      kind,
      count: n,
      journalSeq: seq,
      inSeq,
      outIndex,
      computed: computedView === null ? null : { type: messageByTypeId(computedType)?.name ?? computedType, body: bodyHexIgnoringEpoch(computedType, computedView, computedBody) },
      journaled: journaledView === null ? null : { type: messageByTypeId(journaledType)?.name ?? journaledType, body: bodyHexIgnoringEpoch(journaledType, journaledView, journaledBody) },
    };
    this.log(event);
    process.stderr.write(`matching-engine DIVERGENCE (${kind}) at journal seq ${seq}, output (inSeq ${inSeq}, outIndex ${outIndex}); ${n} so far\n`);
  }

  private checkVersion(typeId: number, version: number, seq: number): void {
    const desc = messageByTypeId(typeId)!;
    if (version !== desc.version) {
      // Applying a layout we do not know would corrupt every book silently: stop, loudly.
      throw new EngineInvariantError(`matching-engine invariant broken: journal seq ${seq} is ${desc.name} version ${version}, this engine reads version ${desc.version}; run the release that wrote it`);
    }
  }
}
