// (account, client order id) → the order slot that carries it: the idempotency index. A client
// order id is the 24-byte char field of NewOrder, compared byte for byte (padding included); the
// table stores its account row and a 32-bit hash, and confirms a hit against the bytes kept in the
// order table, so two ids with the same hash are still told apart. Open addressing with linear
// probing in typed arrays; allocation-free; doubles past half full up to a stated maximum.
//
// Which orders are indexed (the window) is decided by the product-manager state: every order that
// is in flight, open, or finished and still remembered (see pm-limits.ts).

import { assert } from './assert';
import { CLIENT_ORDER_ID_BYTES, NO_SLOT, type OrderTable } from './order-table';

const EMPTY = -1;

/** FNV-1a over the 24 bytes of a client order id read from a DataView. */
export function hashClientOrderId(view: DataView, offset: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < CLIENT_ORDER_ID_BYTES; i++) h = Math.imul(h ^ view.getUint8(offset + i), 0x01000193);
  return h ^ (h >>> 16);
}

/** The same hash over bytes already in a Uint8Array. */
export function hashClientOrderIdBytes(bytes: Uint8Array, offset: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < CLIENT_ORDER_ID_BYTES; i++) h = Math.imul(h ^ bytes[offset + i], 0x01000193);
  return h ^ (h >>> 16);
}

/** True when the field is empty (first byte NUL): such an order opts out of idempotency. */
export function isEmptyClientOrderId(view: DataView, offset: number): boolean {
  return view.getUint8(offset) === 0;
}

export class ClientOrderIdIndex {
  private accounts: Int32Array;
  private hashes: Int32Array;
  private slots: Int32Array;
  private mask: number;
  size = 0;

  constructor(
    private readonly orders: OrderTable,
    initialCapacity: number,
    private readonly maxCapacity: number,
  ) {
    assert(initialCapacity >= 2 && (initialCapacity & (initialCapacity - 1)) === 0, 'client order id index capacity must be a power of two');
    this.accounts = new Int32Array(initialCapacity);
    this.hashes = new Int32Array(initialCapacity);
    this.slots = new Int32Array(initialCapacity).fill(EMPTY);
    this.mask = initialCapacity - 1;
  }

  /** The order slot of (accountRow, the id at view/offset), or NO_SLOT. */
  find(accountRow: number, hash: number, view: DataView, offset: number): number {
    const mask = this.mask;
    let i = (hash ^ Math.imul(accountRow, 0x9e3779b1)) & mask;
    for (;;) {
      const slot = this.slots[i];
      if (slot === EMPTY) return NO_SLOT;
      if (this.accounts[i] === accountRow && this.hashes[i] === hash && this.sameBytes(slot, view, offset)) return slot;
      i = (i + 1) & mask;
    }
  }

  /** Indexes an order slot whose coid bytes and hash are already stored in the order table. */
  insert(slot: number): void {
    if ((this.size + 1) * 2 > this.mask + 1) this.grow();
    this.place(this.orders.accountRow[slot], this.orders.coidHash[slot], slot);
    this.size++;
  }

  /** Removes the entry of an order slot; false when it was not indexed. */
  remove(slot: number): boolean {
    const accountRow = this.orders.accountRow[slot];
    const hash = this.orders.coidHash[slot];
    const mask = this.mask;
    let i = (hash ^ Math.imul(accountRow, 0x9e3779b1)) & mask;
    for (;;) {
      const s = this.slots[i];
      if (s === EMPTY) return false;
      if (s === slot) break;
      i = (i + 1) & mask;
    }
    let hole = i;
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      if (this.slots[j] === EMPTY) break;
      const home = (this.hashes[j] ^ Math.imul(this.accounts[j], 0x9e3779b1)) & mask;
      const inRange = hole <= j ? hole < home && home <= j : hole < home || home <= j;
      if (!inRange) {
        this.accounts[hole] = this.accounts[j];
        this.hashes[hole] = this.hashes[j];
        this.slots[hole] = this.slots[j];
        hole = j;
      }
    }
    this.slots[hole] = EMPTY;
    this.size--;
    return true;
  }

  private sameBytes(slot: number, view: DataView, offset: number): boolean {
    const bytes = this.orders.coid;
    const base = slot * CLIENT_ORDER_ID_BYTES;
    for (let k = 0; k < CLIENT_ORDER_ID_BYTES; k++) if (bytes[base + k] !== view.getUint8(offset + k)) return false;
    return true;
  }

  private place(accountRow: number, hash: number, slot: number): void {
    const mask = this.mask;
    let i = (hash ^ Math.imul(accountRow, 0x9e3779b1)) & mask;
    while (this.slots[i] !== EMPTY) i = (i + 1) & mask;
    this.accounts[i] = accountRow;
    this.hashes[i] = hash;
    this.slots[i] = slot;
  }

  private grow(): void {
    const capacity = (this.mask + 1) * 2;
    if (capacity > this.maxCapacity) {
      throw new Error(`product-manager: the client order id index is full (${this.mask + 1} slots, maximum ${this.maxCapacity})`);
    }
    const oldAccounts = this.accounts;
    const oldHashes = this.hashes;
    const oldSlots = this.slots;
    this.accounts = new Int32Array(capacity);
    this.hashes = new Int32Array(capacity);
    this.slots = new Int32Array(capacity).fill(EMPTY);
    this.mask = capacity - 1;
    for (let j = 0; j < oldSlots.length; j++) if (oldSlots[j] !== EMPTY) this.place(oldAccounts[j], oldHashes[j], oldSlots[j]);
  }
}
