// Who wrote an input: the sourceId in every InputHeader. One table, so no two producers ever share
// an id (the sequencer's exactly-once check is per source: a shared id would drop real inputs as
// duplicates). Each producer numbers its inputs 1, 2, 3, ... and rebuilds its counter from the
// journal (last sourceSeq journaled for its id, plus one) when it restarts.

export const SourceId = {
  /** The control process: trading-day open/close, demo listings and funding, operator commands. */
  CONTROL: 2,
  /** The control process relaying the accounts outbox; sourceSeq = the outbox id. */
  ACCOUNTS: 3,
  PRODUCT_MANAGER_A: 10,
  PRODUCT_MANAGER_B: 11,
  ENGINE_A: 20,
  ENGINE_B: 21,
  /** Gateway n (1-based) writes with GATEWAY_BASE + n. */
  GATEWAY_BASE: 100,
  GATEWAY_MAX: 999,
} as const;

export function gatewaySourceId(gatewayNumber: number): number {
  const id = SourceId.GATEWAY_BASE + gatewayNumber;
  if (!Number.isInteger(gatewayNumber) || gatewayNumber < 1 || id > SourceId.GATEWAY_MAX) {
    throw new RangeError(`gateway number must be 1..${SourceId.GATEWAY_MAX - SourceId.GATEWAY_BASE}, got ${gatewayNumber}`);
  }
  return id;
}
