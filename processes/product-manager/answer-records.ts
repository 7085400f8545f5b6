// What every read answer (wallet-query.ts, orders-query.ts, risk-rules-query.ts) shares: how one
// answer record is claimed on a gateway's reply ring.
//
// Answers are bare bodies on the PM -> gateway ring, like ExecutionReports, left uncommitted: the
// hot loop publishes them with the iteration (product-manager-process.ts `publish`).

import { BACK_PRESSURED, type RingProducer } from '../../bus/ring';
import type { MessageDescriptor } from '../../bus/schema';

/** An answer could not even start (the reply ring is full: the gateway is not reading): retry later. */
export const READ_BACK_PRESSURED = -1;

/**
 * Room for one answer record of `desc`; publishes what is pending and retries once when the
 * batch bound (a quarter of the ring) is what stopped it. BACK_PRESSURED when the ring stays full.
 */
export function claimAnswerRecord(producer: RingProducer, desc: MessageDescriptor): number {
  let at = producer.tryClaim(desc.typeId, desc.version, desc.size);
  if (at === BACK_PRESSURED) {
    producer.commit();
    at = producer.tryClaim(desc.typeId, desc.version, desc.size);
  }
  return at;
}
