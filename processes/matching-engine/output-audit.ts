// The exactly-once audit of the engine output stream: reads the journal from disk, replays its
// commands through a fresh engine, and checks that the engine outputs the journal recorded are
// exactly the outputs the replay emits, in the same order, byte for byte (the epoch aside) — no
// gap, no duplicate, no output that should not exist — and that every recorded EngineCheckpoint
// carries the replay's state hash right after its command, as that command's last output. Epochs
// never go down along the stream.
//
// The failover drill runs it after killing the hot; tests run it after every kill. Unlike the
// warm's own check (engine-replica.ts), nothing here depends on what a live instance remembered:
// the reference is a fresh engine fed only the journal's commands.

import { JournalDiskReader, TO_DISK_END } from '../../bus/journal-disk-reader';
import { readI64, readU16, readU32 } from '../../bus/codec';
import { JOURNAL_HEADER_BYTES, JournalHeader, EngineCheckpoint, messageByTypeId } from '../../bus/schema';
import type { RecordBuffer } from '../../bus/ring';
import { Engine, type EngineOptions } from './engine';
import { bodiesEqualIgnoringEpoch, CHECKPOINT_TYPE_ID, compareKeys, isEngineOutputType, OUT_IN_SEQ_OFFSET, OUT_INDEX_OFFSET } from './engine-outputs';
import { applyEngineCommand, isEngineCommand } from './journal-commands';
import { OutputEncoder } from './output-encoder';
import { PendingOutputs } from './pending-outputs';

/** Problems described in full in a report (every count stays exact). */
export const MAX_PROBLEMS_LISTED = 20;
/** The reference's queue of outputs not yet matched: the journal may lag the replay by this much. */
export const AUDIT_QUEUE_BYTES = 64 << 20;
const READ_BATCH = 8192;

export interface OutputAuditOptions {
  /** The journal's segment directory (<dataDir>/journal). */
  journalDir: string;
  archiveDir?: string;
  /** Audit entries 1..toSeq (default: everything on disk). */
  toSeq?: number;
  /** Must match the live engines' options (the default self-trade policy, ...). */
  engine?: EngineOptions;
}

export interface OutputAuditReport {
  ok: boolean;
  /** The last seq audited. */
  toSeq: number;
  entries: number;
  commands: number;
  /** Engine outputs in the journal (checkpoints excluded). */
  outputsJournaled: number;
  /** Outputs the replay emitted. */
  outputsReplayed: number;
  matched: number;
  /** Same key, different bytes (or type). */
  mismatches: number;
  /** Replayed outputs the journal skipped (a later key was journaled). */
  gaps: number;
  /** Journaled outputs whose key was already journaled. */
  duplicates: number;
  /** Journaled outputs the replay never emitted. */
  unexpected: number;
  checkpoints: number;
  checkpointMismatches: number;
  /** Journaled outputs whose epoch is lower than an earlier one's. */
  epochRegressions: number;
  /**
   * Journaled outputs whose sourceSeq is not above the last one journaled from the same engine
   * instance (each instance numbers its outputs on, across restarts). Reported, not a failure: the
   * sequencer identifies engine outputs by (epoch, inSeq, outIndex), not by sourceSeq.
   */
  sourceSeqRegressions: number;
  /** Replayed outputs after the last journaled one: computed, not yet published (fine mid-run). */
  pendingTail: number;
  /** The epochs along the stream, in order, with how many outputs each published. */
  epochs: Array<{ epoch: number; outputs: number; firstSeq: number }>;
  problems: string[];
}

/** Audits the journal on disk (see the top of this file). Synchronous; reads the journal twice. */
export function auditEngineOutputs(options: OutputAuditOptions): OutputAuditReport {
  const toSeq = options.toSeq ?? TO_DISK_END;
  // Pass 1: which commands have a recorded checkpoint (the hash must be taken right after them).
  const checkpointInSeqs = new Set<number>();
  let lastSeq = 0;
  readAll(options, toSeq, (typeId, view, offset) => {
    lastSeq = readI64(view, offset + JournalHeader.o.seq);
    if (typeId === CHECKPOINT_TYPE_ID) checkpointInSeqs.add(readI64(view, offset + JOURNAL_HEADER_BYTES + EngineCheckpoint.o.inSeq));
  });

  const report: OutputAuditReport = {
    ok: false,
    toSeq: lastSeq,
    entries: 0,
    commands: 0,
    outputsJournaled: 0,
    outputsReplayed: 0,
    matched: 0,
    mismatches: 0,
    gaps: 0,
    duplicates: 0,
    unexpected: 0,
    checkpoints: 0,
    checkpointMismatches: 0,
    epochRegressions: 0,
    sourceSeqRegressions: 0,
    pendingTail: 0,
    epochs: [],
    problems: [],
  };
  const problem = (text: string): void => {
    if (report.problems.length < MAX_PROBLEMS_LISTED) report.problems.push(text);
  };
  const queue = new PendingOutputs(AUDIT_QUEUE_BYTES);
  const encoder = new OutputEncoder(queue, () => {
    throw new Error(`output audit: more than ${AUDIT_QUEUE_BYTES} bytes of replayed outputs are not in the journal yet`);
  });
  const engine = new Engine(encoder, options.engine ?? {});
  /** inSeq -> state hash and output count right after that command. */
  const hashes = new Map<number, { hi: number; lo: number; resting: number; outputs: number }>();
  let lastInSeq = 0;
  let lastOutIndex = -1;
  let lastEpoch = 0;
  const lastSourceSeq = new Map<number, number>();

  readAll(options, lastSeq, (typeId, view, offset) => {
    report.entries++;
    const seq = readI64(view, offset + JournalHeader.o.seq);
    if (isEngineCommand(typeId)) {
      encoder.beginCommand();
      applyEngineCommand(engine, typeId, view, offset, encoder.command);
      report.commands++;
      if (checkpointInSeqs.has(seq)) {
        const h = engine.stateHash();
        hashes.set(seq, { hi: h.hi, lo: h.lo, resting: engine.restingOrderCount, outputs: encoder.commandOutputs });
      }
      return;
    }
    if (!isEngineOutputType(typeId)) return;
    const body = offset + JOURNAL_HEADER_BYTES;
    const inSeq = readI64(view, body + OUT_IN_SEQ_OFFSET[typeId]!);
    const outIndex = readU32(view, body + OUT_INDEX_OFFSET[typeId]!);
    const epoch = readU32(view, offset + JournalHeader.o.epoch);
    const name = messageByTypeId(typeId)?.name ?? String(typeId);
    const sourceId = readU16(view, offset + JournalHeader.o.sourceId);
    const sourceSeq = readI64(view, offset + JournalHeader.o.sourceSeq);
    if (sourceSeq <= (lastSourceSeq.get(sourceId) ?? 0)) {
      report.sourceSeqRegressions++;
      problem(`seq ${seq}: ${name} (${inSeq}, ${outIndex}) from source ${sourceId} has sourceSeq ${sourceSeq}, after ${lastSourceSeq.get(sourceId)} was journaled`);
    }
    lastSourceSeq.set(sourceId, sourceSeq);
    if (epoch < lastEpoch) {
      report.epochRegressions++;
      problem(`seq ${seq}: ${name} (${inSeq}, ${outIndex}) has epoch ${epoch} after epoch ${lastEpoch} was journaled`);
    }
    const last = report.epochs[report.epochs.length - 1];
    if (last === undefined || last.epoch !== epoch) report.epochs.push({ epoch, outputs: 1, firstSeq: seq });
    else last.outputs++;
    if (epoch > lastEpoch) lastEpoch = epoch;
    if (compareKeys(inSeq, outIndex, lastInSeq, lastOutIndex) <= 0) {
      report.duplicates++;
      problem(`seq ${seq}: ${name} (${inSeq}, ${outIndex}) is journaled again (the last one journaled was (${lastInSeq}, ${lastOutIndex}))`);
      return;
    }
    lastInSeq = inSeq;
    lastOutIndex = outIndex;

    if (typeId === CHECKPOINT_TYPE_ID) {
      report.checkpoints++;
      const h = hashes.get(inSeq);
      const hi = readU32(view, body + EngineCheckpoint.o.stateHashHi);
      const lo = readU32(view, body + EngineCheckpoint.o.stateHashLo);
      const resting = readU32(view, body + EngineCheckpoint.o.ordersResting);
      if (h === undefined || h.hi !== hi || h.lo !== lo || h.resting !== resting || h.outputs !== outIndex) {
        report.checkpointMismatches++;
        problem(
          `seq ${seq}: EngineCheckpoint (${inSeq}, ${outIndex}) records hash ${hex(hi, lo)} with ${resting} resting; the replay has ` +
            (h === undefined ? 'no command there' : `${hex(h.hi, h.lo)} with ${h.resting} resting after ${h.outputs} outputs`),
        );
      }
      return;
    }

    report.outputsJournaled++;
    // Replayed outputs before this key were skipped by the journal.
    let head = queue.head();
    while (head >= 0 && queue.compareAt(head, inSeq, outIndex) < 0) {
      report.gaps++;
      problem(`seq ${seq}: ${messageByTypeId(queue.typeIdAt(head))?.name} (${queue.inSeqAt(head)}, ${queue.outIndexAt(head)}) was never journaled; the journal went on with (${inSeq}, ${outIndex})`);
      queue.dropHead();
      head = queue.head();
    }
    if (head < 0 || queue.compareAt(head, inSeq, outIndex) > 0) {
      report.unexpected++;
      problem(`seq ${seq}: ${name} (${inSeq}, ${outIndex}) is journaled, the replay emitted nothing there`);
      return;
    }
    if (queue.typeIdAt(head) !== typeId || !bodiesEqualIgnoringEpoch(typeId, queue.view, queue.bodyAt(head), view, body)) {
      report.mismatches++;
      problem(`seq ${seq}: ${name} (${inSeq}, ${outIndex}) differs from the replay's ${messageByTypeId(queue.typeIdAt(head))?.name}`);
    } else {
      report.matched++;
    }
    queue.dropHead();
  });
  report.outputsReplayed = encoder.encoded;
  // What is left was computed for commands whose outputs the journal does not have yet; anything
  // at or before the last journaled key would be a gap (it cannot be journaled any more).
  for (let head = queue.head(); head >= 0; head = queue.head()) {
    if (queue.compareAt(head, lastInSeq, lastOutIndex) < 0) {
      report.gaps++;
      problem(`${messageByTypeId(queue.typeIdAt(head))?.name} (${queue.inSeqAt(head)}, ${queue.outIndexAt(head)}) was never journaled, (${lastInSeq}, ${lastOutIndex}) was`);
    } else {
      report.pendingTail++;
    }
    queue.dropHead();
  }
  report.ok = report.mismatches + report.gaps + report.duplicates + report.unexpected + report.checkpointMismatches + report.epochRegressions === 0;
  return report;
}

/** One line per report, for drills and tests. */
export function formatOutputAudit(r: OutputAuditReport): string {
  return (
    `${r.ok ? 'OK' : 'FAILED'}: journal 1..${r.toSeq}, ${r.commands} commands, ${r.outputsJournaled} outputs journaled = ${r.matched} matched the replay ` +
    `(${r.mismatches} mismatched, ${r.gaps} gaps, ${r.duplicates} duplicates, ${r.unexpected} unexpected), ${r.checkpoints} checkpoints (${r.checkpointMismatches} wrong), ` +
    `${r.pendingTail} replayed outputs not journaled yet, epochs ${r.epochs.map((e) => `${e.epoch}x${e.outputs}`).join(' ')}`
  );
}

function readAll(options: OutputAuditOptions, toSeq: number, visit: (typeId: number, view: DataView, offset: number) => void): void {
  const reader = new JournalDiskReader({ dataDir: options.journalDir, archiveDir: options.archiveDir, fromSeq: 1 });
  const handler = (typeId: number, _version: number, buf: RecordBuffer, offset: number): void => visit(typeId, buf.view, offset);
  try {
    while (reader.read(handler, READ_BATCH, toSeq) > 0) {
      /* read() hands every entry to the handler */
    }
  } finally {
    reader.close();
  }
}

function hex(hi: number, lo: number): string {
  return hi.toString(16).padStart(8, '0') + lo.toString(16).padStart(8, '0');
}
