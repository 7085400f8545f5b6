// How every downstream process (engine hot and warm, product manager, market data, reporter) reads
// the journal: by seq, never by ring position. The consumer keeps its own last handled seq (in its
// own durable state) and opens a JournalReader at the seq after it; the reader serves entries
// from the journal ring while the ring holds them, and from the disk segments when the consumer is
// behind what the ring holds (a restart, a lapped non-gating reader, a ring recreated after a
// reboot), then switches back to the ring without a gap or a duplicate.
//
// Why switching is gap-free: the sequencer sets `visibleSeq` in the status file BEFORE it
// publishes a batch on the ring. In disk mode the reader first moves its ring position to the
// ring's tail T, then reads visibleSeq V: every record before T has seq <= V. It reads the disk up
// to V and resumes the ring at T, whose first record has seq <= V + 1; records it already handled
// (seq < next) are skipped. The same argument covers re-anchoring on every disk poll, which keeps a
// gating reader that is catching up from holding the sequencer back.
//
// In fsync mode visibleSeq never exceeds the durable seq, so no consumer ever acts on an entry
// that is not on disk; in async mode it is the written seq (see processes/sequencer/README.md).

import * as fs from 'node:fs';
import { native } from '../native/addon';
import { getI64, ENTRY_SEQ } from './journal-format';
import { JournalDiskReader } from './journal-disk-reader';
import { JournalStatusFile, ReaderMode, statusPathForRing } from './journal-status';
import { LAPPED, RingConsumer, RingFile, type RecordBuffer, type RecordHandler } from './ring';
import type { Parker } from './idle-strategy';

export interface JournalReaderOptions {
  /** The journal ring (e.g. /dev/shm/ims-<instance>/journal.ring). */
  ringPath: string;
  /** This consumer's name: its slot in the journal ring and in the status file. */
  name: string;
  /** The first seq this consumer still needs: its last handled seq + 1 (1 for everything). */
  fromSeq: number;
  /** Gating readers hold the sequencer back instead of being lapped. Default true. */
  gating?: boolean;
  /** Default: beside the ring (statusPathForRing). */
  statusPath?: string;
  /** Default: the directories the sequencer wrote into the status file. */
  dataDir?: string;
  archiveDir?: string;
}

/** How long the ring may stay empty while the status says there is more before the reader goes to disk. */
export const RING_STALL_BEFORE_DISK_NS = 2_000_000;
/** How often an idle reader checks that its ring and status files were not replaced (a reboot, a clean restart). */
export const REPLACED_CHECK_INTERVAL_NS = 1_000_000_000;

export class JournalReader implements Parker {
  readonly name: string;
  readonly ringPath: string;
  readonly statusPath: string;
  readonly gating: boolean;
  private ring: RingFile;
  private consumer: RingConsumer;
  private status: JournalStatusFile;
  private statusSlot: number;
  private disk: JournalDiskReader | null = null;
  private readonly dataDirOverride: string | undefined;
  private readonly archiveDirOverride: string | undefined;
  private next: number;
  private inDisk = false;
  private catchUps = 0;
  private generation = -1;
  private ringInode: number;
  private statusInode: number;
  private lastReplacedCheckNs = 0;
  private stallSinceNs = 0;
  // Per-poll state, kept in fields so the ring handler is one bound function, not a closure per call.
  private handler: RecordHandler | null = null;
  private delivered = 0;
  private gapSeen = false;
  private readonly onRingRecord: RecordHandler;
  private readonly visible = new Float64Array(3);
  private readonly clock = new Float64Array(2);

  constructor(options: JournalReaderOptions) {
    if (!(Number.isSafeInteger(options.fromSeq) && options.fromSeq >= 1)) throw new RangeError(`journal reader '${options.name}': fromSeq must be a positive integer, got ${options.fromSeq}`);
    this.name = options.name;
    this.ringPath = options.ringPath;
    this.statusPath = options.statusPath ?? statusPathForRing(options.ringPath);
    this.gating = options.gating ?? true;
    this.dataDirOverride = options.dataDir;
    this.archiveDirOverride = options.archiveDir;
    this.next = options.fromSeq;
    this.ring = RingFile.open(this.ringPath);
    this.consumer = new RingConsumer(this.ring, this.name, { gating: this.gating });
    this.status = JournalStatusFile.create(this.statusPath);
    this.statusSlot = this.status.joinConsumer(this.name);
    this.ringInode = fs.statSync(this.ringPath).ino;
    this.statusInode = fs.statSync(this.statusPath).ino;
    this.onRingRecord = (typeId, version, buf, offset, length) => this.ringRecord(typeId, version, buf, offset, length);
    this.publishProgress();
  }

  /** The next seq poll() delivers (the last delivered + 1). */
  get nextSeq(): number {
    return this.next;
  }

  get mode(): 'ring' | 'disk' {
    return this.inDisk ? 'disk' : 'ring';
  }

  /** Times the reader went to disk to catch up. */
  get diskCatchUps(): number {
    return this.catchUps;
  }

  /**
   * Hands up to `limit` entries, in seq order and each once, to `handler`: offset is the start of
   * the journal header (seq at +0, the body at +JOURNAL_HEADER_BYTES). Returns how many.
   */
  poll(handler: RecordHandler, limit: number): number {
    const n = this.inDisk ? this.pollDisk(handler, limit) : this.pollRing(handler, limit);
    if (n > 0) this.publishProgress();
    return n;
  }

  /** Sleeps until the ring may have data (never in disk mode: there is work). */
  park(timeoutNs: number): void {
    if (this.inDisk) return;
    this.consumer.park(timeoutNs);
    native.clockInto(this.clock, 0);
    if (this.clock[0]! - this.lastReplacedCheckNs > REPLACED_CHECK_INTERVAL_NS) {
      this.lastReplacedCheckNs = this.clock[0]!;
      this.reopenIfReplaced();
    }
  }

  /** Detaches, keeping the ring slot (a restart resumes; the ring keeps what it has not read). */
  close(): void {
    this.consumer.close();
    this.disk?.close();
  }

  /** Gives the ring slot up for good (the sequencer stops waiting for this consumer). */
  leave(): void {
    this.consumer.leave();
    this.disk?.close();
  }

  private pollRing(handler: RecordHandler, limit: number): number {
    this.handler = handler;
    this.delivered = 0;
    this.gapSeen = false;
    const n = this.consumer.poll(this.onRingRecord, limit);
    this.handler = null;
    if (n === LAPPED || this.gapSeen) {
      this.enterDisk();
      return this.delivered;
    }
    if (n === 0) {
      // Nothing on the ring. If the status says entries we have not seen exist, they were
      // published before our ring position (a new slot, a recreated ring): fetch them from disk.
      this.status.readVisible(this.visible);
      if (this.next <= this.visible[0]!) {
        native.clockInto(this.clock, 0);
        if (this.stallSinceNs === 0) this.stallSinceNs = this.clock[0]!;
        else if (this.clock[0]! - this.stallSinceNs > RING_STALL_BEFORE_DISK_NS) this.enterDisk();
      } else {
        this.stallSinceNs = 0;
      }
    } else {
      this.stallSinceNs = 0;
    }
    return this.delivered;
  }

  private ringRecord(typeId: number, version: number, buf: RecordBuffer, offset: number, length: number): void {
    if (this.gapSeen) return;
    const seq = getI64(buf.view, offset + ENTRY_SEQ);
    if (seq < this.next) return; // handled already (from disk, or before a restart)
    if (seq > this.next) {
      // The ring skipped ahead of us; the disk has what is missing. The ring position moves past
      // this batch, which is fine: everything before the new anchor is read from disk.
      this.gapSeen = true;
      return;
    }
    this.handler!(typeId, version, buf, offset, length);
    this.next++;
    this.delivered++;
  }

  private enterDisk(): void {
    this.inDisk = true;
    this.catchUps++;
    this.stallSinceNs = 0;
    if (this.disk === null || this.disk.nextSeq !== this.next) {
      this.disk?.close();
      const snapshotDirs = this.status.snapshot();
      const dataDir = this.dataDirOverride ?? snapshotDirs.dataDir;
      const archiveDir = this.archiveDirOverride ?? (snapshotDirs.archiveDir === '' ? undefined : snapshotDirs.archiveDir);
      if (dataDir === '') {
        // No sequencer has run with this status file yet: nothing to catch up from.
        this.inDisk = false;
        return;
      }
      this.disk = new JournalDiskReader({ dataDir, archiveDir, fromSeq: this.next });
    }
  }

  private pollDisk(handler: RecordHandler, limit: number): number {
    // Anchor the ring at its tail first, then read how far the journal is visible (order matters).
    this.consumer.commitPosition(this.ring.tail(), 0);
    this.status.readVisible(this.visible);
    const visibleSeq = this.visible[0]!;
    const generation = this.visible[1]!;
    if (generation !== this.generation) {
      // The sequencer restarted: bytes read ahead past the visible position may have been rewritten.
      if (this.generation !== -1) this.disk!.forgetReadAhead();
      this.generation = generation;
    }
    const n = this.disk!.read(handler, limit, visibleSeq);
    this.next = this.disk!.nextSeq;
    if (this.next > visibleSeq) {
      this.disk!.forgetReadAhead();
      this.inDisk = false;
    }
    return n;
  }

  private publishProgress(): void {
    native.clockInto(this.clock, 0);
    this.status.updateConsumer(this.statusSlot, this.next - 1, this.clock[1]!, this.inDisk ? ReaderMode.DISK : ReaderMode.RING, this.catchUps);
  }

  /**
   * A ring or status file replaced under us (the bus was recreated after a reboot or a clean
   * restart) would leave us reading a dead mapping forever: map the new ones and continue by seq.
   */
  private reopenIfReplaced(): void {
    const ringStat = fs.statSync(this.ringPath, { throwIfNoEntry: false });
    const statusStat = fs.statSync(this.statusPath, { throwIfNoEntry: false });
    if (ringStat === undefined || statusStat === undefined) return;
    if (ringStat.ino === this.ringInode && statusStat.ino === this.statusInode) return;
    this.consumer.close();
    this.ring = RingFile.open(this.ringPath);
    this.consumer = new RingConsumer(this.ring, this.name, { gating: this.gating });
    this.status = JournalStatusFile.create(this.statusPath);
    this.statusSlot = this.status.joinConsumer(this.name);
    this.ringInode = ringStat.ino;
    this.statusInode = statusStat.ino;
    this.generation = -1;
    this.disk?.close();
    this.disk = null;
    this.publishProgress();
  }
}
