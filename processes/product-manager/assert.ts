// Invariant assertions for the product-manager state. A broken invariant (available cash below
// zero, a reservation that does not add up, an engine output that disagrees with the order it
// names) is a bug, never an expected condition: the process dies loudly and recovers by replay.
// Expected conditions (insufficient funds, a halted product, a foreign order) are reason codes.
//
// Hot-path callers pass a constant string so a passing assertion allocates nothing.

export class ProductManagerInvariantError extends Error {
  override readonly name = 'ProductManagerInvariantError';
}

export function assert(condition: boolean, message: string): asserts condition {
  if (!condition) throw new ProductManagerInvariantError(`product-manager invariant broken: ${message}`);
}
