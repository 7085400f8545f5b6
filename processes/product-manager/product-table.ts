// Listed products and their brands, from the journal (ListProduct, HaltProduct, ResumeProduct,
// DelistProduct) and from fills (the last trade price, the price collar's reference). One row per
// product id ever listed, allocated at start-up; a delisted product keeps its row (wallets still
// hold its units) and a relisting reuses it. Brands get a dense row too (the brand day counters
// and brand-scoped risk rules are keyed by brand row).

import { assert } from './assert';
import { NOT_FOUND, PairIndex } from './pair-index';

export class ProductTable {
  readonly productId: Uint32Array;
  readonly brandRow: Int32Array;
  readonly tickSize: Float64Array;
  readonly lotSize: Float64Array;
  readonly referencePrice: Float64Array;
  /** Price of the product's last fill, 0 before the first. */
  readonly lastTradePrice: Float64Array;
  readonly halted: Uint8Array;
  readonly delisted: Uint8Array;
  private readonly index: PairIndex;
  rows = 0;

  readonly brandId: Uint32Array;
  private readonly brandIndex: PairIndex;
  brandRows = 0;

  constructor(
    readonly maxRows: number,
    readonly maxBrands: number,
  ) {
    this.productId = new Uint32Array(maxRows);
    this.brandRow = new Int32Array(maxRows);
    this.tickSize = new Float64Array(maxRows);
    this.lotSize = new Float64Array(maxRows);
    this.referencePrice = new Float64Array(maxRows);
    this.lastTradePrice = new Float64Array(maxRows);
    this.halted = new Uint8Array(maxRows);
    this.delisted = new Uint8Array(maxRows);
    this.index = new PairIndex('product', capacityFor(maxRows), capacityFor(maxRows));
    this.brandId = new Uint32Array(maxBrands);
    this.brandIndex = new PairIndex('brand', capacityFor(maxBrands), capacityFor(maxBrands));
  }

  find(productId: number): number {
    return this.index.get(0, productId);
  }

  /** A new row for an unknown product id, or NOT_FOUND when the table is full. */
  add(productId: number): number {
    assert(this.find(productId) === NOT_FOUND, 'a product is added twice');
    if (this.rows === this.maxRows) return NOT_FOUND;
    const row = this.rows++;
    this.productId[row] = productId;
    this.index.set(0, productId, row);
    return row;
  }

  findBrand(brandId: number): number {
    return this.brandIndex.get(0, brandId);
  }

  /** The row of a brand id, added when new; NOT_FOUND when the brand table is full. */
  brandRowOf(brandId: number): number {
    const row = this.brandIndex.get(0, brandId);
    if (row !== NOT_FOUND) return row;
    if (this.brandRows === this.maxBrands) return NOT_FOUND;
    const fresh = this.brandRows++;
    this.brandId[fresh] = brandId;
    this.brandIndex.set(0, brandId, fresh);
    return fresh;
  }

  /** Listed, not delisted. */
  isTradable(row: number): boolean {
    return this.delisted[row] === 0;
  }
}

function capacityFor(rows: number): number {
  let capacity = 2;
  while (capacity < rows * 2) capacity *= 2;
  return capacity;
}
