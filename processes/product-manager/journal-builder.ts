// An in-memory journal: entries laid out exactly as the sequencer journals them (JournalHeader,
// then the body), built from plain values with bus/codec.ts `encode`. For tests, replay tools and
// demo seeding, where allocating per entry is fine; the product manager reads these entries with
// the same applyJournalEntry(view, entryOffset, typeId) as the journal ring's.

import { encode, writeI64, writeU16, writeU32, writeChars } from '../../bus/codec';
import { AccountRole, SelfTradePolicy } from '../../bus/enums';
import {
  AccountOpened,
  AccountSuspended,
  DelistProduct,
  Deposit,
  HaltProduct,
  InventoryReceipt,
  JOURNAL_HEADER_BYTES,
  JournalHeader,
  ListProduct,
  ResumeProduct,
  SetRiskRule,
  TradingDayClose,
  TradingDayOpen,
  type AnyMessage,
  type ValueOf,
} from '../../bus/schema';
import { CLIENT_ORDER_ID_BYTES } from './order-table';

export interface EntryHeader {
  /** InputHeader.sourceId of the writer (default 0: an admin or system source). */
  readonly sourceId?: number;
  readonly epoch?: number;
  readonly sourceSeq?: number;
  readonly flags?: number;
  /** Default: the previous entry's timestamp + 1 µs (from timestampUs of the builder). */
  readonly timestampUs?: number;
}

export interface JournalEntryRef {
  readonly index: number;
  readonly seq: number;
  readonly typeId: number;
  readonly offset: number;
  readonly desc: AnyMessage;
}

/** Anything with applyJournalEntry, e.g. a ProductManagerState. */
export interface JournalApplier {
  applyJournalEntry(view: DataView, entryOffset: number, typeId: number): number;
}

const INITIAL_BYTES = 1 << 16;

/** InputHeader.sourceId of the administrative commands appended by the helpers below. */
export const ADMIN_SOURCE_ID = 800;

export class JournalBuilder {
  private bytes: ArrayBuffer;
  view: DataView;
  private used = 0;
  readonly entries: JournalEntryRef[] = [];
  /** Seq of the last entry (the next gets lastSeq + 1). */
  lastSeq = 0;
  timestampUs: number;

  constructor(startTimestampUs = 1_700_000_000_000_000) {
    this.bytes = new ArrayBuffer(INITIAL_BYTES);
    this.view = new DataView(this.bytes);
    this.timestampUs = startTimestampUs;
  }

  get length(): number {
    return this.entries.length;
  }

  /** Appends one entry, as the sequencer would: the next seq, a timestamp, the input header, the body. */
  append<M extends AnyMessage>(desc: M, value: ValueOf<M>, header: EntryHeader = {}): JournalEntryRef {
    const size = JOURNAL_HEADER_BYTES + desc.size;
    if (this.used + size > this.bytes.byteLength) {
      let n = this.bytes.byteLength * 2;
      while (this.used + size > n) n *= 2;
      const grown = new ArrayBuffer(n);
      new Uint8Array(grown).set(new Uint8Array(this.bytes, 0, this.used));
      this.bytes = grown;
      this.view = new DataView(grown);
    }
    const offset = this.used;
    const seq = ++this.lastSeq;
    this.timestampUs = header.timestampUs ?? this.timestampUs + 1;
    const h = JournalHeader.o;
    writeI64(this.view, offset + h.seq, seq);
    writeI64(this.view, offset + h.timestampUs, this.timestampUs);
    writeI64(this.view, offset + h.sourceSeq, header.sourceSeq ?? 0);
    writeU16(this.view, offset + h.sourceId, header.sourceId ?? 0);
    writeU16(this.view, offset + h.flags, header.flags ?? 0);
    writeU32(this.view, offset + h.epoch, header.epoch ?? 0);
    encode(desc, value, this.view, offset + JOURNAL_HEADER_BYTES);
    this.used += size;
    const ref = { index: this.entries.length, seq, typeId: desc.typeId, offset, desc };
    this.entries.push(ref);
    return ref;
  }

  // --- administrative commands, as an operator or the accounts service would sequence them

  private adminReference = 0;
  private adminSourceSeq = 0;

  private admin<M extends AnyMessage>(desc: M, value: ValueOf<M>): JournalEntryRef {
    return this.append(desc, value, { sourceId: ADMIN_SOURCE_ID, sourceSeq: ++this.adminSourceSeq });
  }

  listProduct(productId: number, brandId: number, tickSize: number, lotSize: number, referencePrice: number, symbol = `P${productId}`, selfTradePolicy: number = SelfTradePolicy.CANCEL_NEWEST): JournalEntryRef {
    return this.admin(ListProduct, { tickSize, lotSize, referencePrice, productId, brandId, selfTradePolicy, symbol, brand: `B${brandId}` });
  }

  haltProduct(productId: number): JournalEntryRef {
    return this.admin(HaltProduct, { productId });
  }

  resumeProduct(productId: number): JournalEntryRef {
    return this.admin(ResumeProduct, { productId });
  }

  delistProduct(productId: number): JournalEntryRef {
    return this.admin(DelistProduct, { productId });
  }

  openTradingDay(tradingDay: number): JournalEntryRef {
    return this.admin(TradingDayOpen, { tradingDay });
  }

  closeTradingDay(tradingDay: number): JournalEntryRef {
    return this.admin(TradingDayClose, { tradingDay });
  }

  openAccount(accountId: number, outletId = accountId, role: number = AccountRole.COLLEAGUE): JournalEntryRef {
    return this.admin(AccountOpened, { accountId, outletId, role });
  }

  suspendAccount(accountId: number): JournalEntryRef {
    return this.admin(AccountSuspended, { accountId });
  }

  deposit(accountId: number, amount: number): JournalEntryRef {
    return this.admin(Deposit, { amount, reference: ++this.adminReference, accountId });
  }

  receiveInventory(accountId: number, productId: number, quantity: number): JournalEntryRef {
    return this.admin(InventoryReceipt, { quantity, reference: ++this.adminReference, accountId, productId });
  }

  /** accountId 0 = every account, brandId 0 = every brand; a negative limit removes the rule. */
  setRiskRule(ruleKind: number, limit: number, accountId = 0, brandId = 0): JournalEntryRef {
    return this.admin(SetRiskRule, { limit, accountId, brandId, ruleKind });
  }

  /** Applies entries [from, to) to `target` in order; returns the execution reports they produced. */
  replayInto(target: JournalApplier, from = 0, to = this.entries.length): number {
    let reports = 0;
    for (let i = from; i < to; i++) {
      const e = this.entries[i];
      reports += target.applyJournalEntry(this.view, e.offset, e.typeId);
    }
    return reports;
  }
}

/** A client order id as a standalone 24-byte char field (offset 0), for the check API in tests and tools. */
export function clientOrderIdField(text: string): DataView {
  const view = new DataView(new ArrayBuffer(CLIENT_ORDER_ID_BYTES));
  writeChars(view, 0, CLIENT_ORDER_ID_BYTES, text);
  return view;
}
