// The read queries a gateway may put on its command ring, and who answers each: one entry point
// for the hot loop (product-manager-process.ts), one answerer module per kind.
//
//   WalletQuery     -> wallet-query.ts      (GET /v1/wallet)
//   OrdersQuery     -> orders-query.ts      (GET /v1/transact, GET /v1/transact/{id})
//   RiskRulesQuery  -> risk-rules-query.ts  (GET /v1/admin/risk-rules)
//
// Every read sits behind an InputHeader with sourceSeq 0: it takes no number from the gateway's
// command sequence, so the link's (epoch, sourceSeq) repeat check never sees it; it is never
// forwarded, never journaled, and reads the state only. Only the hot instance reads gateway rings,
// so only the hot answers, on the reply ring of the gateway it came from.

import { readU16 } from '../../bus/codec';
import type { RingProducer } from '../../bus/ring';
import { INPUT_HEADER_BYTES, InputHeader, OrdersQuery, RiskRulesQuery, WalletQuery, type MessageDescriptor } from '../../bus/schema';
import { READ_BACK_PRESSURED } from './answer-records';
import { OrdersAnswerer } from './orders-query';
import type { ProductManagerState } from './product-manager-state';
import { RiskRulesAnswerer } from './risk-rules-query';
import { WalletAnswerer } from './wallet-query';

export { READ_BACK_PRESSURED };

/** Indexed by type id: the read queries. */
const READ_QUERY: readonly (MessageDescriptor | undefined)[] = (() => {
  const table: (MessageDescriptor | undefined)[] = [];
  for (const d of [WalletQuery, OrdersQuery, RiskRulesQuery]) table[d.typeId] = d;
  return table;
})();

export function isReadQuery(typeId: number): boolean {
  return typeId < READ_QUERY.length && READ_QUERY[typeId] !== undefined;
}

export class ReadQueries {
  readonly wallets: WalletAnswerer;
  readonly orders: OrdersAnswerer;
  readonly rules: RiskRulesAnswerer;

  constructor(state: ProductManagerState) {
    this.wallets = new WalletAnswerer(state);
    this.orders = new OrdersAnswerer(state);
    this.rules = new RiskRulesAnswerer(state);
  }

  /**
   * Why the record at `payload` (InputHeader + body) is not a read query gateway `gatewayId` may
   * send, or null when it is (right version and size, its own gateway id in header and body).
   */
  invalid(typeId: number, version: number, length: number, view: DataView, payload: number, gatewayId: number): string | null {
    const desc = READ_QUERY[typeId]!;
    if (version !== desc.version || length !== INPUT_HEADER_BYTES + desc.size) return `${desc.name} version ${version} of ${length} bytes is not of this release`;
    const sourceId = readU16(view, payload + InputHeader.o.sourceId);
    const named = readU16(view, payload + INPUT_HEADER_BYTES + (desc.o as { gatewayId: number }).gatewayId);
    if (sourceId !== gatewayId || named !== gatewayId) return `${desc.name} names gateway ${named} (sourceId ${sourceId}) on the ring of gateway ${gatewayId}`;
    return null;
  }

  /**
   * Answers (or, for an order list, queues) a valid query on `producer`, the reply ring of its
   * gateway. False when it must stay unread and be retried: the reply ring is full, or the order
   * scans are all busy.
   */
  take(typeId: number, view: DataView, payload: number, gatewayId: number, producer: RingProducer, timeUs: number): boolean {
    const body = payload + INPUT_HEADER_BYTES;
    let written: number;
    if (typeId === WalletQuery.typeId) {
      written = this.wallets.answer(producer, WalletAnswerer.accountIdOf(view, body), WalletAnswerer.requestIdOf(view, body), gatewayId, timeUs);
    } else if (typeId === OrdersQuery.typeId) {
      written = this.orders.take(producer, view, body, gatewayId);
    } else {
      written = this.rules.take(producer, view, body, gatewayId);
    }
    return written !== READ_BACK_PRESSURED;
  }

  /** Work on reads spread over iterations (order scans); returns the work done. */
  advance(): number {
    return this.orders.pendingScans === 0 ? 0 : this.orders.advance();
  }
}
