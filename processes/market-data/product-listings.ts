// The products the journal has listed and their trading state, kept by the market-data publisher
// so it can tell the gateways (ProductStatus records on marketdata.ring, and a product snapshot on
// request). It applies ListProduct, HaltProduct, ResumeProduct and DelistProduct with the rules
// the product manager and the engine apply to the same entries, so a gateway's catalog ends up
// with exactly the products they trade:
//   - a ListProduct with product id 0, a tick or lot size that is not a positive safe integer, or a
//     negative reference price lists nothing;
//   - a ListProduct of a product already listed (and not delisted) changes nothing (the first
//     listing stands); after a DelistProduct the same id may be listed afresh;
//   - HaltProduct, ResumeProduct and DelistProduct of a product not listed change nothing.
//
// Everything is allocated at start-up for MAX_LISTED_PRODUCTS rows (symbol and brand as the raw
// char[16] bytes of the journal entry), so applying an entry allocates nothing but, once per new
// product, the id -> row map entry. Deterministic: the state is a function of the journal.

import { copyChars, readI64, readU32 } from '../../bus/codec';
import { DelistProduct, HaltProduct, JOURNAL_HEADER_BYTES, JournalHeader, ListProduct, ProductState, ResumeProduct, ProductStatus, ProductStatusCause, TypeId, type AnyLayout } from '../../bus/schema';
import { MAX_PRODUCTS as PM_MAX_PRODUCTS } from '../product-manager/pm-limits';
import { assert } from './market-data-assert';

/** Products the table holds: as many as the product manager can ever list. */
export const MAX_LISTED_PRODUCTS = PM_MAX_PRODUCTS;

function charFieldBytes(layout: AnyLayout, name: string): number {
  const field = layout.fields.find((f) => f.name === name);
  assert(field !== undefined && field.type === 'char', `${layout.name}.${name} is not a char field`);
  return field.size;
}

/** Bytes of a symbol and of a brand, as ListProduct carries them. */
export const SYMBOL_BYTES = charFieldBytes(ListProduct, 'symbol');
export const BRAND_BYTES = charFieldBytes(ListProduct, 'brand');
assert(HaltProduct.o.productId === ResumeProduct.o.productId && HaltProduct.o.productId === DelistProduct.o.productId, 'the product-only commands must share their layout');
assert(SYMBOL_BYTES === charFieldBytes(ProductStatus, 'symbol') && BRAND_BYTES === charFieldBytes(ProductStatus, 'brand'), 'ProductStatus must carry ListProduct\'s symbol and brand unchanged');

/** What `apply` did; negative results changed nothing. */
export const ListingResult = {
  /** Not a product command. */
  IGNORED: 0,
  /** A product was listed or changed state: `changedRow` and `changedCause` say which and why. */
  CHANGED: 1,
  UNSUPPORTED_VERSION: -1,
  INVALID: -2,
  ALREADY_LISTED: -3,
  UNKNOWN_PRODUCT: -4,
  /** MAX_LISTED_PRODUCTS rows are taken. */
  FULL: -5,
} as const;
export type ListingResult = (typeof ListingResult)[keyof typeof ListingResult];

export class ProductListings {
  readonly capacity: number;
  readonly productId: Uint32Array;
  readonly brandId: Uint32Array;
  readonly tickSize: Float64Array;
  readonly lotSize: Float64Array;
  readonly referencePrice: Float64Array;
  /** Journal seq of the entry that last changed the row. */
  readonly seq: Float64Array;
  /** ProductState. */
  readonly state: Uint8Array;
  /** Row r's symbol is at r * SYMBOL_BYTES, zero-padded; its brand at r * BRAND_BYTES. */
  readonly symbols: DataView;
  readonly brands: DataView;
  /** Rows in use, in the order products were first listed. */
  rows = 0;
  /** Set by `apply` when it returns CHANGED. */
  changedRow = -1;
  changedCause: ProductStatusCause = ProductStatusCause.LISTED;
  /** Entries that changed nothing (a negative ListingResult). */
  refused = 0;

  private readonly rowOf = new Map<number, number>();

  constructor(capacity: number = MAX_LISTED_PRODUCTS) {
    assert(Number.isInteger(capacity) && capacity >= 1, 'ProductListings capacity must be a positive integer');
    this.capacity = capacity;
    this.productId = new Uint32Array(capacity);
    this.brandId = new Uint32Array(capacity);
    this.tickSize = new Float64Array(capacity);
    this.lotSize = new Float64Array(capacity);
    this.referencePrice = new Float64Array(capacity);
    this.seq = new Float64Array(capacity);
    this.state = new Uint8Array(capacity);
    this.symbols = new DataView(new ArrayBuffer(capacity * SYMBOL_BYTES));
    this.brands = new DataView(new ArrayBuffer(capacity * BRAND_BYTES));
  }

  /** The row of a product ever listed, or -1. */
  rowOfProduct(productId: number): number {
    return this.rowOf.get(productId) ?? -1;
  }

  /**
   * Applies one journal entry (`payloadOffset` = where its JournalHeader starts, as the ring's
   * RecordHandler hands it). Allocation-free except the first listing of a product id.
   */
  apply(typeId: number, version: number, view: DataView, payloadOffset: number): ListingResult {
    if (typeId !== TypeId.ListProduct && typeId !== TypeId.HaltProduct && typeId !== TypeId.ResumeProduct && typeId !== TypeId.DelistProduct) return ListingResult.IGNORED;
    const known = typeId === TypeId.ListProduct ? ListProduct.version : typeId === TypeId.HaltProduct ? HaltProduct.version : typeId === TypeId.ResumeProduct ? ResumeProduct.version : DelistProduct.version;
    if (version !== known) return this.refuse(ListingResult.UNSUPPORTED_VERSION);
    const seq = readI64(view, payloadOffset + JournalHeader.o.seq);
    const body = payloadOffset + JOURNAL_HEADER_BYTES;
    if (typeId === TypeId.ListProduct) return this.list(seq, view, body);
    const row = this.rowOfProduct(readU32(view, body + HaltProduct.o.productId));
    if (row < 0 || this.state[row] === ProductState.DELISTED) return this.refuse(ListingResult.UNKNOWN_PRODUCT);
    if (typeId === TypeId.HaltProduct) return this.change(row, seq, ProductState.HALTED, ProductStatusCause.HALTED);
    if (typeId === TypeId.ResumeProduct) return this.change(row, seq, ProductState.TRADING, ProductStatusCause.RESUMED);
    return this.change(row, seq, ProductState.DELISTED, ProductStatusCause.DELISTED);
  }

  private list(seq: number, view: DataView, body: number): ListingResult {
    const o = ListProduct.o;
    const productId = readU32(view, body + o.productId);
    const tickSize = readI64(view, body + o.tickSize);
    const lotSize = readI64(view, body + o.lotSize);
    const referencePrice = readI64(view, body + o.referencePrice);
    if (productId === 0 || !isPositiveSafeInteger(tickSize) || !isPositiveSafeInteger(lotSize) || !(referencePrice >= 0)) return this.refuse(ListingResult.INVALID);
    let row = this.rowOfProduct(productId);
    if (row >= 0 && this.state[row] !== ProductState.DELISTED) return this.refuse(ListingResult.ALREADY_LISTED);
    if (row < 0) {
      if (this.rows >= this.capacity) return this.refuse(ListingResult.FULL);
      row = this.rows++;
      this.rowOf.set(productId, row);
    }
    this.productId[row] = productId;
    this.brandId[row] = readU32(view, body + o.brandId);
    this.tickSize[row] = tickSize;
    this.lotSize[row] = lotSize;
    this.referencePrice[row] = referencePrice;
    copyChars(view, body + o.symbol, this.symbols, row * SYMBOL_BYTES, SYMBOL_BYTES);
    copyChars(view, body + o.brand, this.brands, row * BRAND_BYTES, BRAND_BYTES);
    return this.change(row, seq, ProductState.TRADING, ProductStatusCause.LISTED);
  }

  private change(row: number, seq: number, state: ProductState, cause: ProductStatusCause): ListingResult {
    this.state[row] = state;
    this.seq[row] = seq;
    this.changedRow = row;
    this.changedCause = cause;
    return ListingResult.CHANGED;
  }

  private refuse(result: ListingResult): ListingResult {
    this.refused++;
    return result;
  }
}

function isPositiveSafeInteger(value: number): boolean {
  return Number.isSafeInteger(value) && value > 0;
}
