// JSON order requests (already schema-valid) -> the integer fields of a bus command, exactly:
// symbol to productId (any letter case), side aliases to Side, decimal price to integer minor units
// by digit arithmetic, tick and lot checks against the product, and the time-in-force and post-only
// combination the engine accepts. What leaves this module is a command the engine would not reject
// as malformed.

import { OrderFlags, Side, TimeInForce } from '../../bus/enums';
import { ApiFailure, failure } from './api-failure';
import type { AmendOrderBody, PlaceOrderBody } from './api-schemas';
import { formatDecimalPrice, parseDecimalPrice, PRICE_MALFORMED, PRICE_TOO_LARGE, PRICE_TOO_PRECISE } from './decimal-price';
import type { Product, ProductCatalog } from './product-catalog';

/** A new order, normalized. */
export interface PlaceCommand {
  productId: number;
  side: number;
  price: number;
  quantity: number;
  timeInForce: number;
  flags: number;
  clientOrderId: string;
}

/** An amend, normalized. 0 in newPrice / newQuantity: not given (order-entry.ts fills it in when it can). */
export interface AmendCommand {
  newPrice: number;
  newQuantity: number;
}

const SIDE_BY_TEXT: Readonly<Record<string, number>> = { inflow: Side.INFLOW, buy: Side.INFLOW, outflow: Side.OUTFLOW, sell: Side.OUTFLOW };
const TIF_BY_TEXT: Readonly<Record<string, number>> = { GTC: TimeInForce.GTC, DAY: TimeInForce.DAY, IOC: TimeInForce.IOC, FOK: TimeInForce.FOK };

export function normalizePlace(body: PlaceOrderBody, catalog: ProductCatalog): PlaceCommand | ApiFailure {
  const product = catalog.bySymbolAnyCase(body.symbol);
  if (product === undefined) return failure(400, 'unknown_symbol', `symbol '${body.symbol}' is not listed; GET /v1/products lists the products`);
  const side = SIDE_BY_TEXT[body.side];
  if (side === undefined) return failure(400, 'invalid_side', 'side must be one of inflow, outflow, buy, sell');
  const price = normalizePrice(body.price, product, catalog.priceDecimals);
  if (price instanceof ApiFailure) return price;
  const quantity = checkLot(body.quantity, product);
  if (quantity instanceof ApiFailure) return quantity;
  if (price * quantity > Number.MAX_SAFE_INTEGER) {
    return failure(400, 'notional_out_of_range', `price × quantity is too large to settle exactly; lower the price or the quantity`);
  }
  const timeInForce = TIF_BY_TEXT[body.timeInForce ?? 'GTC'] ?? TimeInForce.GTC;
  const postOnly = body.postOnly === true;
  if (postOnly && (timeInForce === TimeInForce.IOC || timeInForce === TimeInForce.FOK)) {
    return failure(400, 'post_only_with_ioc_or_fok', 'postOnly means "never take" and IOC/FOK mean "never rest": use postOnly with GTC or DAY');
  }
  return { productId: product.productId, side, price, quantity, timeInForce, flags: postOnly ? OrderFlags.POST_ONLY : 0, clientOrderId: body.clientOrderId ?? '' };
}

/**
 * Normalizes an amend. `product` is the order's product when this gateway knows the order; without
 * it the tick and lot checks are left to the product manager, which holds every order's product.
 */
export function normalizeAmend(body: AmendOrderBody, product: Product | undefined, priceDecimals: number): AmendCommand | ApiFailure {
  let newPrice = 0;
  let newQuantity = 0;
  if (body.price !== undefined) {
    const price = product === undefined ? parsePositivePrice(body.price, priceDecimals, 'price') : normalizePrice(body.price, product, priceDecimals);
    if (price instanceof ApiFailure) return price;
    newPrice = price;
  }
  if (body.quantity !== undefined) {
    if (product !== undefined) {
      const q = checkLot(body.quantity, product);
      if (q instanceof ApiFailure) return q;
    }
    newQuantity = body.quantity;
  }
  if (newPrice !== 0 && newQuantity !== 0 && newPrice * newQuantity > Number.MAX_SAFE_INTEGER) {
    return failure(400, 'notional_out_of_range', `price × quantity is too large to settle exactly; lower the price or the quantity`);
  }
  return { newPrice, newQuantity };
}

/** A decimal price on the product's tick, in minor units. */
export function normalizePrice(text: string, product: Product, decimals: number): number | ApiFailure {
  const minor = parseDecimalPrice(text, decimals);
  if (minor === PRICE_TOO_PRECISE || (minor > 0 && minor % product.tickSize !== 0)) {
    return failure(400, 'price_not_on_tick', `price ${text} is not a multiple of tick ${formatDecimalPrice(product.tickSize, decimals)} for ${product.symbol}`);
  }
  return checkedPrice(minor, text, 'price');
}

/** A positive decimal amount in minor units (no tick: deposits, limits, or an order of unknown product). */
export function parsePositivePrice(text: string, decimals: number, field: string): number | ApiFailure {
  const minor = parseDecimalPrice(text, decimals);
  if (minor === PRICE_TOO_PRECISE) {
    return failure(400, field === 'price' ? 'price_not_on_tick' : `invalid_${field}`, `${field} ${text} has more than ${decimals} decimals`);
  }
  return checkedPrice(minor, text, field);
}

function checkedPrice(minor: number, text: string, field: string): number | ApiFailure {
  if (minor === PRICE_MALFORMED) return failure(400, `invalid_${field}`, `${field} must be a decimal string such as "10.05" (no sign, no exponent)`);
  if (minor === PRICE_TOO_LARGE) return failure(400, `${field}_out_of_range`, `${field} ${text} is too large`);
  if (minor <= 0) return failure(400, `${field}_out_of_range`, `${field} must be greater than zero`);
  return minor;
}

function checkLot(quantity: number, product: Product): number | ApiFailure {
  if (quantity % product.lotSize !== 0) {
    return failure(400, 'quantity_not_on_lot', `quantity ${quantity} is not a multiple of lot ${product.lotSize} for ${product.symbol}`);
  }
  return quantity;
}
