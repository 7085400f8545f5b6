// The rings between the market-data publisher and the gateways, declared once (names, paths,
// geometry, consumer names) so both sides open exactly the same files:
//
//   market-data publisher ──marketdata.ring (broadcast)──► gateway-1, gateway-2, ... (non-gating)
//        ▲   BookDelta, BookSnapshot (+ levels), TradeTick, Candle (closed), CandleUpdate (open),
//        │   ProductStatus (a listing, halt, resume or delisting; or one product of a snapshot),
//        │   MarketDataReply (addressed by gatewayId + requestId; other gateways skip it)
//        │
//        └──gateway-<n>-to-marketdata.ring── gateway n   MarketDataQuery (consumer 'market-data', gating)
//
// Records carry bare bodies after the ring record header (bus/schema.ts); a BookSnapshot is
// followed by its levels, a MarketDataReply by its JSON. The broadcast ring never holds the
// publisher back: a gateway that falls a whole ring behind is lapped, notices it (LAPPED or a
// sequence gap), and resynchronises its books from fresh snapshots (it asks for them with a
// SNAPSHOT query) and its product catalog from a product snapshot (a PRODUCTS query; a gateway also
// asks for one when it starts). Either side may create a ring first; both create it with this geometry.

import * as path from 'node:path';
import { registerConsumer, RingFile } from '../../bus/ring';
import { maxPayloadBytes } from '../../bus/ring-layout';
import { BookSnapshot, BookSnapshotLevel } from '../../bus/schema';

/** The broadcast ring: 16 MiB ≈ 350,000 deltas of slack before a stalled gateway is lapped. */
export const MARKET_DATA_RING_BYTES = 1 << 24;
/** Gateways (one consumer slot each) plus tools. */
export const MARKET_DATA_RING_CONSUMERS = 32;
/** A gateway's query ring: 1 MiB ≈ 13,000 queries in flight, far above the gateway's own bound. */
export const QUERY_RING_BYTES = 1 << 20;
export const QUERY_RING_CONSUMERS = 2;

/** The publisher's consumer slot in every query ring. */
export const PUBLISHER_QUERY_CONSUMER = 'market-data';
/** The publisher's consumer slot in the journal ring. */
export const PUBLISHER_JOURNAL_CONSUMER = 'market-data';

/** MarketDataQuery.kind. */
export const MarketDataQueryKind = {
  /** Publish a BookSnapshot of productId on the broadcast ring now (a gateway's mirror resyncs). */
  SNAPSHOT: 1,
  /** The book of productId at timeUs, best `depth` levels: a JSON reply. */
  BOOK_AT: 2,
  /** Candles of productId at resolutionS with bucket start in [startUs, endUs): a JSON reply. */
  CANDLES: 3,
  /** Publish every listed product's ProductStatus on the broadcast ring now (a gateway starts or resyncs its catalog). */
  PRODUCTS: 4,
} as const;

export function marketDataRingPath(runDir: string): string {
  return path.join(runDir, 'marketdata.ring');
}

export function queryRingPath(runDir: string, gatewayId: number): string {
  return path.join(runDir, `gateway-${gatewayId}-to-marketdata.ring`);
}

/** The consumer slot of gateway n on the broadcast ring. */
export function gatewayFeedConsumer(gatewayId: number): string {
  return `gateway-${gatewayId}`;
}

/** Levels one BookSnapshot record can carry on a ring of `capacityBytes` (both sides together). */
export function maxSnapshotLevels(capacityBytes: number): number {
  return Math.floor((maxPayloadBytes(capacityBytes) - BookSnapshot.size) / BookSnapshotLevel.size);
}

/** Registers `name` unless a slot of that name exists (registering over a live owner would steal it). */
export function ensureConsumer(ring: RingFile, name: string, gating: boolean): void {
  if (ring.consumers().some((c) => c.name === name)) return;
  registerConsumer(ring, name, { gating });
}

/** Opens (creating if missing) the broadcast ring and registers the first `gateways` gateway slots. */
export function openMarketDataRing(file: string, gateways: number, capacityBytes = MARKET_DATA_RING_BYTES): RingFile {
  const ring = RingFile.create(file, { capacityBytes, maxConsumers: MARKET_DATA_RING_CONSUMERS });
  for (let n = 1; n <= gateways; n++) ensureConsumer(ring, gatewayFeedConsumer(n), false);
  return ring;
}

/** Opens (creating if missing) gateway n's query ring with the publisher's slot registered. */
export function openQueryRing(file: string): RingFile {
  const ring = RingFile.create(file, { capacityBytes: QUERY_RING_BYTES, maxConsumers: QUERY_RING_CONSUMERS });
  ensureConsumer(ring, PUBLISHER_QUERY_CONSUMER, true);
  return ring;
}
