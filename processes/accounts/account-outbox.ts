// The outbox of account events for the journal. Approving an account (or suspending one, or
// changing its role) writes its event in the same transaction as the decision, so no approval is lost if the process dies
// before forwarding it; a forwarder reads the undelivered events in order, hands each to the bus
// (as a sequenced AccountOpened / AccountSuspended / AccountRoleChanged command) and marks it delivered.
//
// Delivery guarantees. outbox_id is gap-free from 1 and in commit order (see the migration), so it
// can serve as the forwarder's InputHeader.sourceSeq: if the forwarder dies after sending an event
// but before marking it, it sends the same event with the same outbox_id again, and the sequencer,
// which drops every sourceSeq at or below the last it took, applies it once. Several gateway
// processes may share the store; a lease lets exactly one of them forward at a time.

import { AccountOpened, AccountRoleChanged, AccountSuspended } from '../../bus/schema';
import { DEFAULT_OUTBOX_LEASE_MS, MAX_ACCOUNT_ID, MAX_OUTBOX_BATCH } from './account-limits';
import type { AccountStore, SqlExecutor } from './sql-store';

export type OutboxEventKind = 'account_opened' | 'account_suspended' | 'account_role_changed';

export interface OutboxEvent {
  /** Gap-free from 1, in commit order; usable as the forwarder's sourceSeq. */
  readonly outboxId: number;
  readonly kind: OutboxEventKind;
  readonly accountId: number;
  readonly outletId: number;
  /** AccountRole code. */
  readonly role: number;
  readonly createdAtMs: number;
}

/** The bus message an outbox event becomes (encode it with bus/codec's encode). */
export type OutboxMessage =
  | { readonly desc: typeof AccountOpened; readonly value: { accountId: number; outletId: number; role: number } }
  | { readonly desc: typeof AccountSuspended; readonly value: { accountId: number } }
  | { readonly desc: typeof AccountRoleChanged; readonly value: { accountId: number; outletId: number; role: number } };

export function outboxMessageOf(e: OutboxEvent): OutboxMessage {
  if (e.kind === 'account_opened') return { desc: AccountOpened, value: { accountId: e.accountId, outletId: e.outletId, role: e.role } };
  if (e.kind === 'account_role_changed') return { desc: AccountRoleChanged, value: { accountId: e.accountId, outletId: e.outletId, role: e.role } };
  return { desc: AccountSuspended, value: { accountId: e.accountId } };
}

interface OutboxRow {
  outbox_id: number;
  kind: OutboxEventKind;
  account_id: number;
  outlet_id: number;
  role: number;
  created_at_ms: number;
}

function eventOf(r: OutboxRow): OutboxEvent {
  return { outboxId: Number(r.outbox_id), kind: r.kind, accountId: Number(r.account_id), outletId: Number(r.outlet_id), role: Number(r.role), createdAtMs: Number(r.created_at_ms) };
}

/**
 * Takes the next value of a named counter inside a transaction. The UPDATE holds the counter row's
 * lock until commit, which serialises writers (PostgreSQL) exactly like SQLite's single writer.
 */
export async function nextCounterValue(tx: SqlExecutor, name: 'account_id' | 'outbox_id'): Promise<number> {
  const row = await tx.get<{ value: number }>('UPDATE id_counters SET next_value = next_value + 1 WHERE name = ? RETURNING next_value - 1 AS value', [name]);
  if (row === undefined) throw new Error(`id counter '${name}' is missing; the account store schema is damaged`);
  return Number(row.value);
}

/** Allocates the next account id (u32, from 1; 0 means "every account" on the bus). */
export async function nextAccountId(tx: SqlExecutor): Promise<number> {
  const id = await nextCounterValue(tx, 'account_id');
  if (id < 1 || id > MAX_ACCOUNT_ID) throw new RangeError(`account id ${id} is outside the u32 range the bus carries`);
  return id;
}

/** Writes an event inside the caller's transaction. */
export async function appendOutboxEvent(tx: SqlExecutor, e: Omit<OutboxEvent, 'outboxId'>): Promise<OutboxEvent> {
  const outboxId = await nextCounterValue(tx, 'outbox_id');
  await tx.run('INSERT INTO account_outbox (outbox_id, kind, account_id, outlet_id, role, created_at_ms) VALUES (?, ?, ?, ?, ?, ?)', [
    outboxId,
    e.kind,
    e.accountId,
    e.outletId,
    e.role,
    e.createdAtMs,
  ]);
  return { outboxId, ...e };
}

/** Undelivered events, oldest first. */
export async function readUndelivered(store: AccountStore, limit = MAX_OUTBOX_BATCH): Promise<OutboxEvent[]> {
  const n = Math.max(1, Math.min(MAX_OUTBOX_BATCH, Math.floor(limit)));
  const rows = await store.all<OutboxRow>(
    'SELECT outbox_id, kind, account_id, outlet_id, role, created_at_ms FROM account_outbox WHERE delivered_at_ms IS NULL ORDER BY outbox_id LIMIT ?',
    [n],
  );
  return rows.map(eventOf);
}

/** Marks one event delivered; false when it already was. */
export async function markDelivered(store: AccountStore, outboxId: number, nowMs: number): Promise<boolean> {
  return (await store.run('UPDATE account_outbox SET delivered_at_ms = ? WHERE outbox_id = ? AND delivered_at_ms IS NULL', [nowMs, outboxId])) === 1;
}

/**
 * Takes or renews the forwarding lease for `holder` (a process identity such as `gateway-2:pid`).
 * True when `holder` holds it until nowMs + leaseMs.
 */
export async function acquireForwarderLease(store: AccountStore, holder: string, nowMs: number, leaseMs = DEFAULT_OUTBOX_LEASE_MS): Promise<boolean> {
  const changed = await store.run(
    `INSERT INTO outbox_lease (name, holder, expires_at_ms) VALUES ('forwarder', ?, ?)
     ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at_ms = excluded.expires_at_ms
     WHERE outbox_lease.holder = excluded.holder OR outbox_lease.expires_at_ms <= ?`,
    [holder, nowMs + leaseMs, nowMs],
  );
  return changed === 1;
}

/** Gives the lease up at once (a clean shutdown), so another process need not wait for it to lapse. */
export async function releaseForwarderLease(store: AccountStore, holder: string): Promise<void> {
  await store.run("DELETE FROM outbox_lease WHERE name = 'forwarder' AND holder = ?", [holder]);
}

/**
 * Where a forwarded event goes. Resolve true once the event is on the bus (or handed to something
 * that will not lose it); false when the bus is back-pressured, which stops this round so order is
 * kept and the same event is tried first next time.
 */
export type OutboxSink = (event: OutboxEvent) => boolean | Promise<boolean>;

export interface ForwardResult {
  readonly forwarded: number;
  /** False when another process holds the lease (nothing was read). */
  readonly leaseHeld: boolean;
}
