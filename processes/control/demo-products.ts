// The demo profile's product list: 100 products across 10 brands, each with a tick size (in
// cents), a lot size (in units) and a reference price (in cents) around which the price collar
// and the demo flow sit. Deterministic: the same list on every start, so the listing commands it
// becomes are recognised as duplicates by the sequencer after a restart.

import type { ProductListing } from '../gateway/product-catalog';

export interface DemoProduct extends ProductListing {
  readonly brandId: number;
  readonly referencePrice: number;
}

const BRANDS: ReadonlyArray<{ brand: string; code: string; base: number }> = [
  { brand: 'Apple', code: 'APPL', base: 79_900 },
  { brand: 'Samsung', code: 'SMSG', base: 64_900 },
  { brand: 'Sony', code: 'SONY', base: 39_900 },
  { brand: 'LG', code: 'LGEL', base: 29_900 },
  { brand: 'Dell', code: 'DELL', base: 89_900 },
  { brand: 'HP', code: 'HPIN', base: 54_900 },
  { brand: 'Lenovo', code: 'LNVO', base: 69_900 },
  { brand: 'Asus', code: 'ASUS', base: 49_900 },
  { brand: 'Bose', code: 'BOSE', base: 24_900 },
  { brand: 'Canon', code: 'CANO', base: 44_900 },
];

/** Model suffixes: storage sizes and editions, so symbols read like "APPL-128". */
const MODELS = ['64', '128', '256', '512', '1TB', 'MINI', 'PLUS', 'PRO', 'MAX', 'ULTRA'] as const;

function build(): readonly DemoProduct[] {
  const out: DemoProduct[] = [];
  BRANDS.forEach((b, bi) => {
    MODELS.forEach((m, mi) => {
      const productId = bi * MODELS.length + mi + 1;
      // Dearer models get a coarser tick (5 cents above 1,000.00), and bulkier ones a lot of 1.
      const referencePrice = b.base + mi * 10_000;
      out.push({
        productId,
        symbol: `${b.code}-${m}`,
        brand: b.brand,
        brandId: bi + 1,
        tickSize: referencePrice >= 100_000 ? 5 : 1,
        lotSize: 1,
        referencePrice,
      });
    });
  });
  return Object.freeze(out);
}

export const DEMO_PRODUCTS: readonly DemoProduct[] = build();

/** Cash each demo colleague starts with: 10,000,000.00 in cents. */
export const DEMO_CASH_CENTS = 1_000_000_000;
/** Units of every product each demo colleague starts with, so anyone can post outflows. */
export const DEMO_UNITS_PER_PRODUCT = 1_000;
