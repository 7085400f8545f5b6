// The control process's logic: it is the exchange's clock and its bridge from the accounts store.
//
// 1. Relays the accounts outbox (AccountOpened / AccountSuspended / AccountRoleChanged) into the
//    journal, on its own input ring with sourceId ACCOUNTS and sourceSeq = the outbox id, so a
//    retransmission after a crash is dropped by the sequencer. An event is marked delivered only
//    once the journal has it (seen by following the journal), never merely because it was
//    written to a ring on /dev/shm that a stop or reboot can wipe.
// 2. Opens and closes trading days by the calendar (TradingDayOpen / TradingDayClose, sourceId
//    CONTROL): the demo profile is open around the clock, one session per UTC day; production
//    follows the New York session.
// 3. In the demo profile, lists the demo products and funds the demo colleagues (cash and stock)
//    once, as a deterministic plan numbered 1..K on the CONTROL source: after a crash half-way,
//    the plan is written again from where the journal stopped.
//
// It learns what the journal holds by following it (a non-gating reader: it never holds the
// exchange back), so every decision is made against what was really sequenced.

import { encode } from '../../bus/codec';
import { BACK_PRESSURED, type RecordBuffer } from '../../bus/ring';
import { InputPublisher } from '../../bus/input-publisher';
import {
  AccountOpened,
  Deposit,
  InventoryReceipt,
  JournalHeader,
  ListProduct,
  TradingDayClose,
  TradingDayOpen,
  TypeId,
  type AnyMessage,
} from '../../bus/schema';
import { SourceId } from '../../bus/source-ids';
import { outboxMessageOf, type OutboxEvent } from '../accounts/account-outbox';
import { isTradingTime, tradingDayAt, type TradingCalendar } from '../product-manager/trading-calendar';
import { DEMO_CASH_CENTS, DEMO_PRODUCTS, DEMO_UNITS_PER_PRODUCT } from './demo-products';

/** One command of the control plan or the calendar. */
export interface ControlCommand {
  desc: AnyMessage;
  value: Record<string, number | string>;
}

/** Outbox events relayed per tick (bounds one tick's database work). */
export const OUTBOX_BATCH = 256;

export interface AccountsOutbox {
  readOutbox(limit?: number): Promise<readonly OutboxEvent[]>;
  markOutboxDelivered(outboxId: number): Promise<boolean>;
}

/**
 * The demo plan: listings first, then each demo colleague's cash and stock. Deterministic for a
 * given set of colleague account ids (the accounts store keeps them across restarts).
 */
export function demoPlan(colleagueAccountIds: readonly number[]): ControlCommand[] {
  const plan: ControlCommand[] = [];
  for (const p of DEMO_PRODUCTS) {
    plan.push({
      desc: ListProduct,
      value: { tickSize: p.tickSize, lotSize: p.lotSize, referencePrice: p.referencePrice, productId: p.productId, brandId: p.brandId, selfTradePolicy: 0, symbol: p.symbol, brand: p.brand },
    });
  }
  for (const accountId of colleagueAccountIds) {
    plan.push({ desc: Deposit, value: { amount: DEMO_CASH_CENTS, reference: accountId, accountId } });
    for (const p of DEMO_PRODUCTS) {
      plan.push({ desc: InventoryReceipt, value: { quantity: DEMO_UNITS_PER_PRODUCT, reference: accountId * 1000 + p.productId, accountId, productId: p.productId } });
    }
  }
  return plan;
}

/** What the journal says, as far as the control process cares. */
export class JournalView {
  lastControlSourceSeq = 0;
  lastAccountsSourceSeq = 0;
  lastSeq = 0;
  /** yyyymmdd of the last TradingDayOpen, and whether a TradingDayClose followed it. */
  openDay = 0;
  dayClosed = true;
  readonly openedAccounts = new Set<number>();

  readonly handler = (typeId: number, _version: number, buf: RecordBuffer, offset: number): void => {
    const view = buf.view;
    this.lastSeq = view.getUint32(offset + JournalHeader.o.seq, true) + view.getInt32(offset + JournalHeader.o.seq + 4, true) * 0x100000000;
    const sourceId = view.getUint16(offset + JournalHeader.o.sourceId, true);
    const sourceSeq = view.getUint32(offset + JournalHeader.o.sourceSeq, true) + view.getInt32(offset + JournalHeader.o.sourceSeq + 4, true) * 0x100000000;
    if (sourceId === SourceId.CONTROL && sourceSeq > this.lastControlSourceSeq) this.lastControlSourceSeq = sourceSeq;
    if (sourceId === SourceId.ACCOUNTS && sourceSeq > this.lastAccountsSourceSeq) this.lastAccountsSourceSeq = sourceSeq;
    const body = offset + 32;
    switch (typeId) {
      case TypeId.TradingDayOpen:
        this.openDay = view.getUint32(body + TradingDayOpen.o.tradingDay, true);
        this.dayClosed = false;
        break;
      case TypeId.TradingDayClose:
        if (view.getUint32(body + TradingDayClose.o.tradingDay, true) === this.openDay) this.dayClosed = true;
        break;
      case TypeId.AccountOpened:
        this.openedAccounts.add(view.getUint32(body + AccountOpened.o.accountId, true));
        break;
      default:
        break;
    }
  };
}

export interface ControlOptions {
  demo: boolean;
  calendar: TradingCalendar;
  colleagueAccountIds: readonly number[];
  control: InputPublisher;
  accountsRelay: InputPublisher;
  outbox: AccountsOutbox;
  journal: JournalView;
  nowMs?: () => number;
  log?: (event: Record<string, unknown>) => void;
}

export class Control {
  private readonly o: ControlOptions;
  private readonly plan: ControlCommand[];
  /** Highest control sourceSeq written to the ring; decisions wait until the journal has it. */
  private writtenControl = 0;
  private writtenAccounts = 0;
  private readonly nowMs: () => number;
  private readonly log: (event: Record<string, unknown>) => void;

  constructor(options: ControlOptions) {
    this.o = options;
    this.plan = options.demo ? demoPlan(options.colleagueAccountIds) : [];
    this.nowMs = options.nowMs ?? Date.now;
    this.log = options.log ?? (() => undefined);
  }

  get planLength(): number {
    return this.plan.length;
  }

  /** True once the demo plan (if any) is in the journal. */
  get seeded(): boolean {
    return this.o.journal.lastControlSourceSeq >= this.plan.length;
  }

  /** Relays the outbox; call with the journal followed up to date. */
  async relayAccounts(): Promise<number> {
    const journal = this.o.journal;
    const events = await this.o.outbox.readOutbox(OUTBOX_BATCH);
    let written = 0;
    for (const e of events) {
      if (e.outboxId <= journal.lastAccountsSourceSeq) {
        await this.o.outbox.markOutboxDelivered(e.outboxId);
        continue;
      }
      if (e.outboxId <= this.writtenAccounts) continue;
      const relay = this.o.accountsRelay;
      relay.setNextSourceSeq(e.outboxId);
      const message: ControlCommand = outboxMessageOf(e);
      if (!this.write(relay, message.desc, message.value)) break;
      this.writtenAccounts = e.outboxId;
      written++;
    }
    this.o.accountsRelay.commit();
    return written;
  }

  /** Writes the next part of the demo plan and the calendar's day events. Returns commands written. */
  tick(): number {
    const journal = this.o.journal;
    // Wait for the journal to catch up with what we wrote before deciding anything new.
    if (journal.lastControlSourceSeq < this.writtenControl) return 0;
    let written = 0;
    const control = this.o.control;
    if (!this.seeded) {
      const listings = this.plan.filter((c) => c.desc === ListProduct).length;
      const fundingNeedsAccounts = journal.lastControlSourceSeq >= listings;
      if (fundingNeedsAccounts && !this.o.colleagueAccountIds.every((id) => journal.openedAccounts.has(id))) return 0;
      control.setNextSourceSeq(journal.lastControlSourceSeq + 1);
      const end = fundingNeedsAccounts ? this.plan.length : listings;
      for (let i = journal.lastControlSourceSeq; i < end; i++) {
        const c = this.plan[i]!;
        if (!this.write(control, c.desc, c.value)) break;
        this.writtenControl = i + 1;
        written++;
      }
      control.commit();
      if (written > 0) this.log({ event: 'demo-plan', written, through: this.writtenControl, of: this.plan.length });
      return written;
    }
    control.setNextSourceSeq(journal.lastControlSourceSeq + 1);
    const now = this.nowMs();
    const open = isTradingTime(now, this.o.calendar);
    const today = tradingDayAt(now, this.o.calendar);
    if (!journal.dayClosed && (!open || journal.openDay !== today)) {
      if (!this.write(control, TradingDayClose, { tradingDay: journal.openDay })) return 0;
      this.writtenControl = control.sourceSeq - 1;
      this.log({ event: 'trading-day-close', tradingDay: journal.openDay });
      written++;
    } else if (open && journal.openDay !== today) {
      if (!this.write(control, TradingDayOpen, { tradingDay: today })) return 0;
      this.writtenControl = control.sourceSeq - 1;
      this.log({ event: 'trading-day-open', tradingDay: today });
      written++;
    }
    control.commit();
    return written;
  }

  private write(publisher: InputPublisher, desc: AnyMessage, value: Record<string, number | string>): boolean {
    const at = publisher.claim(desc);
    if (at === BACK_PRESSURED) return false;
    encode(desc, value as never, publisher.producer.ring.view, at);
    return true;
  }
}
