// State shared by the engine and all of its books: the pools every order and level lives in, the
// order-id index, the memory of finished orders, the sink, and the per-command output cursor.
// One instance per engine; books hold a reference instead of copies so there is one truth.

import type { EngineSink } from './engine-sink';
import type { LevelPool } from './level-pool';
import type { OrderIdIndex } from './order-id-index';
import type { OrderPool } from './order-pool';
import type { TerminalOrderMemory } from './terminal-order-memory';

export class EngineContext {
  /** Journal sequence of the command being applied; every output carries it. */
  inSeq = -1;
  /** Index of the next output of the current command (reset to 0 per command). */
  outIndex = 0;
  /** Execution id of the next match; one per Fill, engine-wide, deterministic. */
  nextExecId = 1;

  constructor(
    readonly pool: OrderPool,
    readonly levels: LevelPool,
    /** Resting orders only: id → pool slot. */
    readonly index: OrderIdIndex,
    readonly terminal: TerminalOrderMemory,
    readonly sink: EngineSink,
  ) {}

  reject(orderId: number, accountId: number, productId: number, reason: number): void {
    this.sink.onRejected(this.inSeq, this.outIndex++, orderId, accountId, productId, reason);
  }
}
