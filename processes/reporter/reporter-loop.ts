// The reporter's work loop, shared by the process (main.ts, reading a JournalReader) and the
// benchmark (reading the disk segments directly): read journal entries into the model, cut a
// batch when it holds batchEntries entries or has been open batchMs, and write it while the next
// one is built.
//
// Overlap: up to MAX_BATCHES_IN_FLIGHT batches are handed to the store while the next is built. A
// SQLite write is synchronous, so there it simply alternates; a PostgreSQL write is one round trip
// that the server works through on its own core while this process applies the next batch, and
// a second batch handed over meanwhile has its SQL built at once and waits its turn, so building
// it is off the critical path too. Answers are only noticed when the event loop runs, so while a
// write is in flight the loop yields after every poll (POLL_ENTRIES entries, about a millisecond).

import { setImmediate as yieldToEventLoop, setTimeout as sleep } from 'node:timers/promises';
import type { RecordBuffer, RecordHandler } from '../../bus/ring';
import type { ReportBatch, ReportModel } from './report-model';
import { WriteResult, type ReportStore } from './report-store';
import { LOOP_SLICE_MS, MAX_BATCHES_IN_FLIGHT, POLL_ENTRIES } from './reporter-limits';

/** Where entries come from: a JournalReader, or a disk reader in the benchmark and tools. */
export interface JournalSource {
  /** Hands up to `limit` entries in seq order to `handler`; returns how many. */
  poll(handler: RecordHandler, limit: number): number;
}

export interface LoopOptions {
  readonly batchEntries: number;
  readonly batchMs: number;
  /** Called with each poll's work; with 0 when nothing came and no batch is open (the process parks on the ring here). */
  readonly idle?: (workCount: number) => void;
  /** True when the loop should stop (it then writes what was applied and returns). */
  readonly stopWhen: () => boolean;
  /** Every batch committed (for progress lines, the counters file and the benchmark); writeMs from hand-over to commit. */
  readonly onCommitted?: (batch: ReportBatch, result: WriteResult, writeMs: number) => void;
}

export class ReporterLoop {
  /** The last seq the database holds (as far as this loop knows). */
  committedSeq: number;
  batchesWritten = 0;
  /** Batches the database already held (a replay after a crash). */
  replayedBatches = 0;
  /** Writes handed to the store and not finished, oldest first (at most MAX_BATCHES_IN_FLIGHT). */
  private readonly inFlight: Array<Promise<void>> = [];
  private writeError: Error | null = null;
  private readonly handler: RecordHandler;

  constructor(
    readonly store: ReportStore,
    readonly model: ReportModel,
    readonly source: JournalSource,
  ) {
    this.committedSeq = model.lastSeq;
    this.handler = (typeId: number, version: number, buf: RecordBuffer, offset: number): void => {
      model.apply(buf.view, offset, typeId, version);
    };
  }

  /** Runs until stopWhen() says so, then writes the open batch and waits for every write. */
  async run(options: LoopOptions): Promise<void> {
    const model = this.model;
    let batchStartMs = 0;
    while (!options.stopWhen()) {
      const sliceEndMs = Date.now() + LOOP_SLICE_MS;
      let waitForWrite = false;
      for (;;) {
        this.throwIfWriteFailed();
        const room = options.batchEntries - model.pendingEntries;
        const n = room > 0 ? this.source.poll(this.handler, Math.min(POLL_ENTRIES, room)) : 0;
        const nowMs = Date.now();
        if (n > 0) {
          if (batchStartMs === 0) batchStartMs = nowMs;
          options.idle?.(n);
        }
        const pending = model.pendingEntries;
        const due = pending >= options.batchEntries || (pending > 0 && nowMs - batchStartMs >= options.batchMs);
        if (due) {
          if (this.inFlight.length >= MAX_BATCHES_IN_FLIGHT) {
            waitForWrite = true;
            break;
          }
          this.write(model.takeBatch(), options);
          batchStartMs = 0;
          break; // let the write's query go out
        } else if (n === 0) {
          if (pending === 0 && this.inFlight.length === 0) options.idle?.(0);
          break;
        }
        if (this.inFlight.length > 0 || nowMs >= sliceEndMs || options.stopWhen()) break;
      }
      if (waitForWrite) await this.inFlight[0];
      else if (this.inFlight.length > 0) await yieldToEventLoop();
      else if (model.pendingEntries > 0) await sleep(1);
      else await yieldToEventLoop();
    }
    await this.flush(options);
  }

  /** Writes what was applied and waits for every write (the stop path). */
  async flush(options: Pick<LoopOptions, 'onCommitted'> = {}): Promise<void> {
    if (this.model.pendingEntries > 0) {
      while (this.inFlight.length >= MAX_BATCHES_IN_FLIGHT) await this.inFlight[0];
      this.throwIfWriteFailed();
      this.write(this.model.takeBatch(), options);
    }
    while (this.inFlight.length > 0) await this.inFlight[0];
    this.throwIfWriteFailed();
  }

  private write(batch: ReportBatch, options: Pick<LoopOptions, 'onCommitted'>): void {
    // Stores commit batches in the order they are handed over (the PostgreSQL store chains them),
    // so completions arrive oldest first.
    const handedOverMs = performance.now();
    const done = this.store.writeBatch(batch).then(
      (result) => {
        if (result === WriteResult.ALREADY_WRITTEN) this.replayedBatches++;
        this.committedSeq = batch.lastSeq;
        this.batchesWritten++;
        options.onCommitted?.(batch, result, performance.now() - handedOverMs);
      },
      (e: Error) => {
        this.writeError ??= e;
      },
    );
    const settled = done.then(() => {
      this.inFlight.splice(this.inFlight.indexOf(settled), 1);
    });
    this.inFlight.push(settled);
  }

  private throwIfWriteFailed(): void {
    if (this.writeError !== null) throw this.writeError;
  }
}
