// Invariant assertions for the market-data library. A broken invariant is a bug: the publisher
// throws, dies loudly, and is restarted and rebuilds its state by replaying the journal. Expected
// conditions (an unknown side in a record, a query for a time no longer kept) are return codes.
//
// Callers on the hot path pass a constant string so nothing is built while the condition holds.

export class MarketDataInvariantError extends Error {
  override readonly name = 'MarketDataInvariantError';
}

export function assert(condition: boolean, message: string): asserts condition {
  if (!condition) throw new MarketDataInvariantError(`market-data invariant broken: ${message}`);
}
