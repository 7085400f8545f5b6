// Exactly-once between processes: which inputs the sequencer takes.
//
// Commands, admin commands and heartbeats: every producer (sourceId) numbers its inputs 1, 2, 3...
// (sourceSeq). The sequencer takes an input only when its sourceSeq is above the last one it took
// from that source; anything at or below is a duplicate (a producer that restarted and resent, or
// the sequencer re-reading inputs it journaled but had not yet acknowledged when it died) and is
// skipped and counted. A jump (sourceSeq > last + 1) means inputs were lost between the producer
// and us: it is an ALARM (logged, counted per source, shown by `ims status`) but the input is
// ACCEPTED. Refusing it would not bring the missing inputs back and would stop that producer for
// good (every later input is also "after a gap"); the producer's own recovery (the product manager
// rebuilds from the journal and resends what is missing) is what closes a gap.
//
// Engine outputs (OrderAccepted .. EngineCheckpoint): the hot engine and its warm standby compute
// the same outputs; each carries the engine's epoch and (inSeq, outIndex), which names it exactly
// once. The sequencer keeps the highest epoch it has seen and rejects outputs of a lower one (a
// stalled old hot that wakes up is fenced), and takes an output only when (inSeq, outIndex) is
// after the last engine output journaled, so a warm taking over mid-command publishes precisely
// the outputs the hot did not: no gap, no duplicate. The epoch is raised as soon as a higher one
// is seen, even on an output that is then skipped as a duplicate: the new hot has spoken.
//
// Fenced source groups (the product-manager pair, PRODUCT_MANAGER_A and _B): the two instances
// write under different source ids, each numbering its own inputs, but only the leader of the pair
// may be sequenced. Every input from a group member carries the writer's epoch (from the shared
// leader lease, bus/leader-lease.ts); the highest epoch seen from ANY member of the group fences
// lower ones from every member (`stale-epoch-rejected`), exactly as for engine outputs: a paused old
// leader that wakes up after its standby took over cannot get a command journaled. The epoch is
// raised as soon as it is seen, before the per-source sourceSeq check.
//
// The state is rebuilt from the journal at start (replay() each entry), so a restart of the
// sequencer changes nothing — with one bound: the segment header has a field for the engine epoch
// only, so a group's epoch is rebuilt from the frames of the newest segment, and is 0 after a
// restart until the group's next input when that segment holds none of the group's entries. The
// product manager does not rely on the fence alone: a standby taking over kills the old leader
// (single machine) and waits until the sequencer has drained both instances' input rings before it
// writes anything (processes/product-manager/README.md). Nothing here allocates per input.

import { MAX_SOURCES } from '../../bus/journal-format';
import { MESSAGES } from '../../bus/schema';
import { SourceId } from '../../bus/source-ids';

export const Verdict = { ACCEPT: 0, DUPLICATE: 1, STALE_EPOCH: 2, INVALID: 3 } as const;
export type Verdict = (typeof Verdict)[keyof typeof Verdict];

const SOURCE_IDS = 0x10000;
const TYPE_IDS = 0x10000;

/** Body offsets of inSeq and outIndex per type id; -1 for messages that are not engine outputs. */
export const ENGINE_OUT_IN_SEQ_OFFSET = new Int32Array(TYPE_IDS).fill(-1);
export const ENGINE_OUT_INDEX_OFFSET = new Int32Array(TYPE_IDS).fill(-1);
for (const m of MESSAGES) {
  const o = m.o as Readonly<Record<string, number>>;
  if (o['inSeq'] !== undefined && o['outIndex'] !== undefined && o['epoch'] !== undefined) {
    ENGINE_OUT_IN_SEQ_OFFSET[m.typeId] = o['inSeq'];
    ENGINE_OUT_INDEX_OFFSET[m.typeId] = o['outIndex'];
  }
}

export function isEngineOutput(typeId: number): boolean {
  return ENGINE_OUT_IN_SEQ_OFFSET[typeId]! >= 0;
}

/** Source ids whose members fence each other by epoch: a hot/warm pair that writes commands. */
export const FENCED_SOURCE_GROUPS: ReadonlyArray<readonly number[]> = [[SourceId.PRODUCT_MANAGER_A, SourceId.PRODUCT_MANAGER_B]];
/** Bound on fenced groups (each is one epoch word). */
export const MAX_FENCED_GROUPS = 8;
const NO_GROUP = -1;

export class ExactlyOnce {
  /** Last sourceSeq taken per source id (0 = none yet). */
  private readonly last = new Float64Array(SOURCE_IDS);
  /** The source's row in `ids` and the per-source counters, or -1. */
  private readonly slotOf = new Int32Array(SOURCE_IDS).fill(-1);
  /** Fenced group of each source id (NO_GROUP for most), and the highest epoch seen per group. */
  private readonly groupOf = new Int8Array(SOURCE_IDS).fill(NO_GROUP);
  private readonly groupEpochs = new Float64Array(MAX_FENCED_GROUPS);
  /** Source ids in the order first seen; bounded by MAX_SOURCES (what a segment header holds). */
  readonly ids: number[] = [];
  readonly duplicatesBySlot = new Float64Array(MAX_SOURCES);
  readonly gapsBySlot = new Float64Array(MAX_SOURCES);
  readonly staleBySlot = new Float64Array(MAX_SOURCES);
  /** Slots changed since takeDirty() (for the status file), as a bounded list plus flags. */
  private readonly dirtyFlag = new Uint8Array(MAX_SOURCES);
  private readonly dirtyList = new Int32Array(MAX_SOURCES);
  private dirtyCount = 0;

  engineEpoch = 0;
  lastOutInSeq = 0;
  lastOutIndex = 0;
  duplicates = 0;
  staleEpoch = 0;
  gapAlarms = 0;
  invalid = 0;
  /** Set by check() when it accepted an input after a gap: what was expected. */
  gapExpected = 0;
  lastCheckWasGap = false;

  constructor(fencedGroups: ReadonlyArray<readonly number[]> = FENCED_SOURCE_GROUPS) {
    if (fencedGroups.length > MAX_FENCED_GROUPS) throw new RangeError(`at most ${MAX_FENCED_GROUPS} fenced source groups, got ${fencedGroups.length}`);
    fencedGroups.forEach((members, group) => {
      for (const sourceId of members) {
        if (!(Number.isInteger(sourceId) && sourceId >= 0 && sourceId < SOURCE_IDS) || this.groupOf[sourceId] !== NO_GROUP) {
          throw new RangeError(`fenced source groups: source id ${sourceId} is out of range or in two groups`);
        }
        this.groupOf[sourceId] = group;
      }
    });
  }

  /** The highest epoch seen from the fenced group `sourceId` belongs to (0: none, or not fenced). */
  groupEpoch(sourceId: number): number {
    const group = this.groupOf[sourceId]!;
    return group === NO_GROUP ? 0 : this.groupEpochs[group]!;
  }

  /** Starts from a segment header's snapshot (the state before that segment). */
  restore(snapshot: { engineEpoch: number; lastOutInSeq: number; lastOutIndex: number; sources: ReadonlyArray<{ sourceId: number; lastSourceSeq: number }> }): void {
    this.engineEpoch = snapshot.engineEpoch;
    this.lastOutInSeq = snapshot.lastOutInSeq;
    this.lastOutIndex = snapshot.lastOutIndex;
    for (const s of snapshot.sources) {
      if (this.slot(s.sourceId) < 0) throw new Error(`journal snapshot lists more than ${MAX_SOURCES} sources`);
      this.last[s.sourceId] = Math.max(this.last[s.sourceId]!, s.lastSourceSeq);
    }
  }

  lastSourceSeq(sourceId: number): number {
    return this.last[sourceId]!;
  }

  /**
   * Decides on one input. Does not change the accepted state (commit() does, once the entry is in
   * the journal); rejections are counted here. `headSeq` bounds the inSeq an output may name.
   */
  check(typeId: number, sourceId: number, sourceSeq: number, epoch: number, inSeq: number, outIndex: number, headSeq: number): Verdict {
    this.lastCheckWasGap = false;
    if (!(sourceSeq >= 1 && Number.isSafeInteger(sourceSeq))) return this.reject(Verdict.INVALID, -1);
    let slot = this.slotOf[sourceId]!;
    if (slot < 0) {
      if (this.ids.length >= MAX_SOURCES) return this.reject(Verdict.INVALID, -1);
      slot = this.slot(sourceId);
    }
    if (ENGINE_OUT_IN_SEQ_OFFSET[typeId]! >= 0) {
      if (epoch < this.engineEpoch) return this.reject(Verdict.STALE_EPOCH, slot);
      // A higher epoch fences the old hot from now on, whatever happens to this output.
      if (epoch > this.engineEpoch) this.engineEpoch = epoch;
      if (!(inSeq >= 1 && inSeq <= headSeq && Number.isSafeInteger(inSeq))) return this.reject(Verdict.INVALID, slot);
      const lastIn = this.lastOutInSeq;
      if (lastIn > 0 && (inSeq < lastIn || (inSeq === lastIn && outIndex <= this.lastOutIndex))) return this.reject(Verdict.DUPLICATE, slot);
      if (lastIn > 0 && ((inSeq === lastIn && outIndex > this.lastOutIndex + 1) || (inSeq > lastIn && outIndex !== 0))) {
        this.lastCheckWasGap = true;
        this.gapExpected = inSeq === lastIn ? this.lastOutIndex + 1 : 0;
      }
      return Verdict.ACCEPT;
    }
    const group = this.groupOf[sourceId]!;
    if (group !== NO_GROUP) {
      const fence = this.groupEpochs[group]!;
      if (epoch < fence) return this.reject(Verdict.STALE_EPOCH, slot);
      // A higher epoch fences the group's old leader from now on, whatever happens to this input.
      if (epoch > fence) this.groupEpochs[group] = epoch;
    }
    const last = this.last[sourceId]!;
    if (sourceSeq <= last) return this.reject(Verdict.DUPLICATE, slot);
    if (sourceSeq > last + 1) {
      this.lastCheckWasGap = true;
      this.gapExpected = last + 1;
    }
    return Verdict.ACCEPT;
  }

  /** Records an input that is now in the journal (after check() accepted it). */
  commit(typeId: number, sourceId: number, sourceSeq: number, epoch: number, inSeq: number, outIndex: number): void {
    const slot = this.slot(sourceId);
    if (this.lastCheckWasGap) {
      this.gapAlarms++;
      this.gapsBySlot[slot]!++;
    }
    this.replay(typeId, sourceId, sourceSeq, epoch, inSeq, outIndex);
    this.markDirty(slot);
  }

  /** Applies one journaled entry while rebuilding state (the journal is the truth). */
  replay(typeId: number, sourceId: number, sourceSeq: number, epoch: number, inSeq: number, outIndex: number): void {
    if (this.slot(sourceId) < 0) throw new Error(`journal names more than ${MAX_SOURCES} sources; raise MAX_SOURCES with a new segment format`);
    if (sourceSeq > this.last[sourceId]!) this.last[sourceId] = sourceSeq;
    if (ENGINE_OUT_IN_SEQ_OFFSET[typeId]! >= 0) {
      if (epoch > this.engineEpoch) this.engineEpoch = epoch;
      this.lastOutInSeq = inSeq;
      this.lastOutIndex = outIndex;
      return;
    }
    const group = this.groupOf[sourceId]!;
    if (group !== NO_GROUP && epoch > this.groupEpochs[group]!) this.groupEpochs[group] = epoch;
  }

  sources(): Array<{ sourceId: number; lastSourceSeq: number }> {
    return this.ids.map((sourceId) => ({ sourceId, lastSourceSeq: this.last[sourceId]! }));
  }

  /** Calls fn for each source changed since the last call, then forgets them. */
  takeDirty(fn: (slot: number, sourceId: number, lastSourceSeq: number) => void): void {
    for (let i = 0; i < this.dirtyCount; i++) {
      const slot = this.dirtyList[i]!;
      this.dirtyFlag[slot] = 0;
      const id = this.ids[slot]!;
      fn(slot, id, this.last[id]!);
    }
    this.dirtyCount = 0;
  }

  markAllDirty(): void {
    for (let s = 0; s < this.ids.length; s++) this.markDirty(s);
  }

  private reject(verdict: Verdict, slot: number): Verdict {
    switch (verdict) {
      case Verdict.DUPLICATE:
        this.duplicates++;
        this.duplicatesBySlot[slot]!++;
        break;
      case Verdict.STALE_EPOCH:
        this.staleEpoch++;
        this.staleBySlot[slot]!++;
        break;
      default:
        this.invalid++;
    }
    if (slot >= 0) this.markDirty(slot);
    return verdict;
  }

  private slot(sourceId: number): number {
    let slot = this.slotOf[sourceId]!;
    if (slot >= 0) return slot;
    if (this.ids.length >= MAX_SOURCES) return -1;
    slot = this.ids.length;
    this.ids.push(sourceId);
    this.slotOf[sourceId] = slot;
    return slot;
  }

  private markDirty(slot: number): void {
    if (this.dirtyFlag[slot] !== 0) return;
    this.dirtyFlag[slot] = 1;
    this.dirtyList[this.dirtyCount++] = slot;
  }
}
