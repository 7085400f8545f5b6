// The product table the gateway validates and normalizes against: symbol <-> productId, brand,
// tick size and lot size. The product manager uses the same listing (one source feeds both); the
// gateway only reads it. Build a catalog from a list (`ProductCatalog.fromList`), for example the
// demo products of the start-up profile, or load one through a ProductSource.
//
// Units: tickSize and every price are integer minor units of the currency, 10^-priceDecimals
// (priceDecimals 2: tickSize 5 means 0.05); lotSize and quantities are integer units.

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
}

export const DEFAULT_PRICE_DECIMALS = 2;
export const MAX_PRODUCTS = 100_000;
const SYMBOL_RE = /^[A-Z0-9][A-Z0-9.-]{0,15}$/;

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
      if (typeof p.brand !== 'string' || p.brand.length === 0 || p.brand.length > 16 || !/^[\x20-\x7e]+$/.test(p.brand)) {
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
      const product: Product = { productId: p.productId, symbol: p.symbol, brand: p.brand, brandId, tickSize: p.tickSize, lotSize: p.lotSize, halted: p.halted === true };
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

  /** Looks a symbol up case-insensitively ("appl-128" finds "APPL-128"). */
  bySymbolAnyCase(symbol: string): Product | undefined {
    return this.bySymbol.get(symbol.toUpperCase());
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
}
