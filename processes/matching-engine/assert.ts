// Invariant assertions for the matching engine. A broken invariant is a bug, never an expected
// condition: the engine throws, the process dies loudly, and it recovers by snapshot + replay.
// Expected conditions (bad prices, unknown orders, halted products) are reject codes instead.
//
// Callers on the hot path pass a constant string: a template literal would be built on every call
// even when the condition holds, and that is an allocation per order.

export class EngineInvariantError extends Error {
  override readonly name = 'EngineInvariantError';
}

export function assert(condition: boolean, message: string): asserts condition {
  if (!condition) throw new EngineInvariantError(`matching-engine invariant broken: ${message}`);
}
