// The product table the gateway validates and normalizes against: symbol <-> productId, brand,
// tick size and lot size. Build a catalog from a list (`ProductCatalog.fromList`), for example the
// products file `ims start` writes, or load one through a ProductSource: that is the seed.
//
// The journal is the source of truth (the product manager and the engine list, halt and resume
// products from its ListProduct / HaltProduct / ResumeProduct / DelistProduct entries). The
// market-data publisher follows the journal and tells every gateway (ProductStatus records and a
// product snapshot on request; market-data-feed.ts); `applyJournalListing` applies them here at
// run time: a new product is added, a halt or resume changes `halted`, a delisting removes the
// product, and where the journal and the seed file disagree about a product the journal wins. A
// seed product the journal never mentions stays (the product manager refuses orders on it).
// Each Product remembers the journal seq that last changed it (0 = the seed), so an older record —
// a publisher replaying after its restart — changes nothing. `setHalted` (the admin route's
// immediate, advisory change) leaves the seq alone: the journal's record of the command, or the
// next product snapshot if the command never reached the journal, settles the flag.
//
// Lookups (bySymbolAnyCase with an upper-case symbol, byProductId) allocate nothing.
//
// Units: tickSize and every price are integer minor units of the currency, 10^-priceDecimals
// (priceDecimals 2: tickSize 5 means 0.05); lotSize and quantities are integer units.

import { MAX_PRODUCTS as PM_MAX_PRODUCTS } from '../product-manager/pm-limits';
import { MAX_PRICE_DECIMALS } from './decimal-price';

/** One listed product, as the shared product list describes it. */
export interface ProductListing {
  readonly productId: number;
  /** Upper-case ASCII, 1..16 chars (ListProduct.symbol is char[16]). */
  readonly symbol: string;
  readonly brand: string;
  /** 0 or absent when the list has no brand ids; the catalog then numbers brands itself. */
  readonly brandId?: number;
  readonly tickSize: number;
  readonly lotSize: number;
  readonly halted?: boolean;
}

export interface ProductCatalogInput {
  /** Decimals of the currency's minor unit (2 for cents). Default 2. */
  readonly priceDecimals?: number;
  readonly products: readonly ProductListing[];
}

/** Where a gateway gets its product list (a file today; the product-manager's listing later). */
export interface ProductSource {
  load(): Promise<ProductCatalogInput>;
}

export interface Product {
  readonly productId: number;
  readonly symbol: string;
  readonly brand: string;
  readonly brandId: number;
  readonly tickSize: number;
  readonly lotSize: number;
  halted: boolean;
  /** Journal seq of the entry that last changed this product here; 0 = from the seed file only. */
  journalSeq: number;
}

/** A product's listing and state as the journal left it (a ProductStatus record, decoded). */
export interface JournalListing {
  readonly productId: number;
  readonly symbol: string;
  readonly brand: string;
  readonly brandId: number;
  readonly tickSize: number;
  readonly lotSize: number;
  readonly halted: boolean;
  readonly delisted: boolean;
  /** The journal seq of the entry that last changed the product (> 0). */
  readonly seq: number;
}

/** What applyJournalListing did; negative results changed nothing. */
export const CatalogChange = {
  /** Not newer than what the catalog holds (or a delisting of a product it does not have). */
  STALE: 0,
  /** Same listing; halted (and the seq) brought up to date. */
  STATE: 1,
  ADDED: 2,
  /** The journal's listing differs from the catalog's (the seed file's): replaced. */
  REPLACED: 3,
  REMOVED: 4,
  /** The listing cannot be served (symbol, brand, tick or lot outside what the gateway accepts). */
  INVALID: -1,
  /** Another product the journal listed holds the symbol: the first listing keeps it. */
  SYMBOL_TAKEN: -2,
  /** MAX_PRODUCTS are listed. */
  FULL: -3,
} as const;
export type CatalogChange = (typeof CatalogChange)[keyof typeof CatalogChange];

export const DEFAULT_PRICE_DECIMALS = 2;
/** Products one catalog holds: as many as the product manager can ever list. */
export const MAX_PRODUCTS = PM_MAX_PRODUCTS;
const SYMBOL_RE = /^[A-Z0-9][A-Z0-9.-]{0,15}$/;
const BRAND_RE = /^[\x20-\x7e]{1,16}$/;

export class ProductCatalog {
  readonly priceDecimals: number;
  private readonly bySymbol = new Map<string, Product>();
  private readonly byId = new Map<number, Product>();

  private constructor(priceDecimals: number) {
    this.priceDecimals = priceDecimals;
  }

  /** Validates the whole list (throws naming the bad entry): a bad product table is a deployment bug. */
  static fromList(input: ProductCatalogInput): ProductCatalog {
    const decimals = input.priceDecimals ?? DEFAULT_PRICE_DECIMALS;
    if (!(Number.isInteger(decimals) && decimals >= 0 && decimals <= MAX_PRICE_DECIMALS)) {
      throw new RangeError(`product list: priceDecimals must be an integer in [0, ${MAX_PRICE_DECIMALS}], got ${decimals}`);
    }
    if (!Array.isArray(input.products) || input.products.length > MAX_PRODUCTS) {
      throw new RangeError(`product list: products must be an array of at most ${MAX_PRODUCTS} listings`);
    }
    const catalog = new ProductCatalog(decimals);
    const brandIds = new Map<string, number>();
    for (const p of input.products) {
      const where = `product list entry ${JSON.stringify(p)}`;
      if (!(Number.isInteger(p.productId) && p.productId > 0 && p.productId <= 0xffffffff)) throw new RangeError(`${where}: productId must be a u32 > 0`);
      if (typeof p.symbol !== 'string' || !SYMBOL_RE.test(p.symbol)) throw new RangeError(`${where}: symbol must match ${SYMBOL_RE}`);
      if (typeof p.brand !== 'string' || !BRAND_RE.test(p.brand)) {
        throw new RangeError(`${where}: brand must be 1..16 printable ASCII chars`);
      }
      if (!(Number.isSafeInteger(p.tickSize) && p.tickSize > 0)) throw new RangeError(`${where}: tickSize must be a positive integer (minor units)`);
      if (!(Number.isSafeInteger(p.lotSize) && p.lotSize > 0)) throw new RangeError(`${where}: lotSize must be a positive integer (units)`);
      if (catalog.byId.has(p.productId)) throw new RangeError(`${where}: productId ${p.productId} is listed twice`);
      if (catalog.bySymbol.has(p.symbol)) throw new RangeError(`${where}: symbol ${p.symbol} is listed twice`);
      let brandId = p.brandId ?? 0;
      if (brandId === 0) {
        brandId = brandIds.get(p.brand) ?? brandIds.size + 1;
        brandIds.set(p.brand, brandId);
      }
      const product: Product = { productId: p.productId, symbol: p.symbol, brand: p.brand, brandId, tickSize: p.tickSize, lotSize: p.lotSize, halted: p.halted === true, journalSeq: 0 };
      catalog.byId.set(product.productId, product);
      catalog.bySymbol.set(product.symbol, product);
    }
    return catalog;
  }

  static async load(source: ProductSource): Promise<ProductCatalog> {
    return ProductCatalog.fromList(await source.load());
  }

  get size(): number {
    return this.byId.size;
  }

  /** Looks a symbol up case-insensitively ("appl-128" finds "APPL-128"); an upper-case symbol allocates nothing. */
  bySymbolAnyCase(symbol: string): Product | undefined {
    return this.bySymbol.get(symbol) ?? this.bySymbol.get(symbol.toUpperCase());
  }

  byProductId(productId: number): Product | undefined {
    return this.byId.get(productId);
  }

  /** The brand id of a listed brand (case-insensitive), or 0. */
  brandIdOf(brand: string): number {
    const wanted = brand.toLowerCase();
    for (const p of this.byId.values()) if (p.brand.toLowerCase() === wanted) return p.brandId;
    return 0;
  }

  /** Every product in productId order (for GET /v1/products). */
  list(): Product[] {
    return [...this.byId.values()].sort((a, b) => a.productId - b.productId);
  }

  /**
   * Marks a product halted or trading in this gateway's copy. Advisory only: the product manager
   * and the engine hold the authoritative halt state (a halt sent through another gateway is
   * enforced there even before this copy learns of it).
   */
  setHalted(productId: number, halted: boolean): boolean {
    const p = this.byId.get(productId);
    if (p === undefined) return false;
    p.halted = halted;
    return true;
  }

  /**
   * Applies a product's listing and state as the journal left it (see the top of this file).
   * Called for every ProductStatus record; a record that is not newer returns STALE at once.
   */
  applyJournalListing(l: JournalListing): CatalogChange {
    const known = this.byId.get(l.productId);
    // The same seq is the same journal entry: it changes nothing unless `halted` differs, which is
    // this gateway's own advisory flag (setHalted) for a command the journal has not confirmed.
    if (known !== undefined && (l.seq < known.journalSeq || (l.seq === known.journalSeq && l.halted === known.halted && !l.delisted))) return CatalogChange.STALE;
    if (l.delisted) {
      if (known === undefined) return CatalogChange.STALE;
      this.remove(known);
      return CatalogChange.REMOVED;
    }
    if (
      !(Number.isInteger(l.productId) && l.productId > 0 && l.productId <= 0xffffffff) ||
      !SYMBOL_RE.test(l.symbol) ||
      !BRAND_RE.test(l.brand) ||
      !(Number.isSafeInteger(l.tickSize) && l.tickSize > 0) ||
      !(Number.isSafeInteger(l.lotSize) && l.lotSize > 0)
    ) {
      return CatalogChange.INVALID;
    }
    if (known !== undefined && known.symbol === l.symbol && known.brand === l.brand && known.brandId === l.brandId && known.tickSize === l.tickSize && known.lotSize === l.lotSize) {
      known.halted = l.halted;
      known.journalSeq = l.seq;
      return CatalogChange.STATE;
    }
    const holder = this.bySymbol.get(l.symbol);
    if (holder !== undefined && holder !== known) {
      // A product the journal listed keeps its symbol; a seed product the journal contradicts goes.
      if (holder.journalSeq > 0) return CatalogChange.SYMBOL_TAKEN;
      this.remove(holder);
    }
    if (known === undefined && this.byId.size >= MAX_PRODUCTS) return CatalogChange.FULL;
    if (known !== undefined) this.remove(known);
    const product: Product = { productId: l.productId, symbol: l.symbol, brand: l.brand, brandId: l.brandId, tickSize: l.tickSize, lotSize: l.lotSize, halted: l.halted, journalSeq: l.seq };
    this.byId.set(product.productId, product);
    this.bySymbol.set(product.symbol, product);
    return known === undefined ? CatalogChange.ADDED : CatalogChange.REPLACED;
  }

  private remove(p: Product): void {
    if (this.byId.get(p.productId) === p) this.byId.delete(p.productId);
    if (this.bySymbol.get(p.symbol) === p) this.bySymbol.delete(p.symbol);
  }
}
