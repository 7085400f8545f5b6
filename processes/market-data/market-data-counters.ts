// What the market-data publisher counts into its counters file (<runDir>/market-data.counters; the
// names and help texts are in processes/operations/process-counters.ts). The publisher and its
// parts already keep these counts as plain numbers (MarketData, FeedWriter, the query loop); main.ts
// copies them into the file after each unit of work — a handful of stores, no allocation — so the
// file is never more than one unit of work behind.
//
//   ims_market_data_entries_total            journal entries applied
//   ims_market_data_trades_total             trades applied and published
//   ims_market_data_book_deltas_total        L2 changes applied and published
//   ims_market_data_messages_total           records written on marketdata.ring
//   ims_market_data_snapshots_total          book snapshots published
//   ims_market_data_queries_total{outcome}   gateway queries answered / refused
//   ims_last_seq                             the last journal seq applied
//
// Subscribers are not the publisher's to drop: it broadcasts on a non-gating ring and each gateway
// closes its own slow WebSocket clients; a gateway that falls behind the ring shows as
// ims_ring_consumer_lapped_total{ring="marketdata"}.

import type { CountersWriter } from '../../bus/counters';

/** What the counters are copied from (MarketDataPublisher satisfies it). */
export interface MarketDataCounts {
  readonly entriesApplied: number;
  readonly md: { readonly lastJournalSeq: number; readonly trades: number; readonly bookDeltas: number };
  readonly writer: { readonly records: number; readonly snapshots: number };
  readonly queriesAnswered: number;
  readonly queriesRefused: number;
}

export class MarketDataCounters {
  private readonly values: Float64Array;
  private readonly entries: number;
  private readonly trades: number;
  private readonly bookDeltas: number;
  private readonly messages: number;
  private readonly snapshots: number;
  private readonly answered: number;
  private readonly refused: number;
  private readonly lastSeq: number;

  constructor(readonly writer: CountersWriter) {
    this.values = writer.values;
    this.entries = writer.counter('ims_market_data_entries_total');
    this.trades = writer.counter('ims_market_data_trades_total');
    this.bookDeltas = writer.counter('ims_market_data_book_deltas_total');
    this.messages = writer.counter('ims_market_data_messages_total');
    this.snapshots = writer.counter('ims_market_data_snapshots_total');
    this.answered = writer.counter('ims_market_data_queries_total', 'outcome=answered');
    this.refused = writer.counter('ims_market_data_queries_total', 'outcome=refused');
    this.lastSeq = writer.gauge('ims_last_seq');
  }

  /** Copies the publisher's counts into the file. */
  copy(p: MarketDataCounts): void {
    const v = this.values;
    v[this.entries] = p.entriesApplied;
    v[this.trades] = p.md.trades;
    v[this.bookDeltas] = p.md.bookDeltas;
    v[this.messages] = p.writer.records;
    v[this.snapshots] = p.writer.snapshots;
    v[this.answered] = p.queriesAnswered;
    v[this.refused] = p.queriesRefused;
    v[this.lastSeq] = p.md.lastJournalSeq;
  }
}
