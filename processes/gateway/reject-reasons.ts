// What the API answers when the product manager (or the engine behind it) rejects a command: the
// HTTP status, the machine code (the RejectReason's own name, one vocabulary from bus/enums.ts to
// the client) and a sentence saying what to do. NOT_OWNER is answered exactly like UNKNOWN_ORDER,
// so nobody learns that another outlet's order id exists.

import { REJECT_REASON_NAMES, RejectReason } from '../../bus/enums';
import { ApiFailure, failure, type FailureStatus } from './api-failure';

interface Rule {
  readonly status: FailureStatus;
  readonly detail: string;
}

const RULES: Readonly<Record<number, Rule>> = {
  [RejectReason.UNKNOWN_PRODUCT]: { status: 400, detail: 'the product is not listed (any more); GET /v1/products lists the products' },
  [RejectReason.PRODUCT_HALTED]: { status: 409, detail: 'trading in this product is halted; try again when it resumes' },
  [RejectReason.UNKNOWN_ORDER]: { status: 404, detail: 'no order with this id belongs to your account' },
  [RejectReason.ALREADY_FILLED]: { status: 409, detail: 'the order is already filled; nothing is left to update or remove' },
  [RejectReason.ALREADY_CANCELED]: { status: 409, detail: 'the order was already removed' },
  [RejectReason.DUPLICATE_ORDER_ID]: { status: 409, detail: 'an order with this id already exists' },
  [RejectReason.INVALID_PRICE]: { status: 400, detail: 'the price is not valid for this product (check its tick)' },
  [RejectReason.INVALID_QUANTITY]: { status: 400, detail: 'the quantity is not valid for this order (check the lot, and that it stays above what is already filled)' },
  [RejectReason.POST_ONLY_WOULD_TAKE]: { status: 409, detail: 'a post-only order at this price would take liquidity; choose a price that rests' },
  [RejectReason.FOK_NOT_FILLABLE]: { status: 409, detail: 'the fill-or-kill order could not be filled completely at once; nothing was executed' },
  [RejectReason.PRODUCT_ALREADY_LISTED]: { status: 409, detail: 'a product with this symbol or id is already listed' },
  [RejectReason.INSUFFICIENT_FUNDS]: { status: 409, detail: 'available cash does not cover price × quantity; deposit or lower the order' },
  [RejectReason.INSUFFICIENT_INVENTORY]: { status: 409, detail: 'available inventory does not cover the quantity; receive stock or lower the order' },
  [RejectReason.RISK_BRAND_DAILY_LIMIT]: { status: 409, detail: 'the order would exceed your daily unit limit for this brand' },
  [RejectReason.RISK_NOTIONAL_DAILY_LIMIT]: { status: 409, detail: 'the order would exceed your daily notional limit' },
  [RejectReason.RISK_MAX_ORDER_QUANTITY]: { status: 409, detail: 'the quantity exceeds the maximum order quantity' },
  [RejectReason.RISK_PRICE_COLLAR]: { status: 409, detail: 'the price is too far from the last trade or the reference price' },
  [RejectReason.RISK_MAX_OPEN_ORDERS]: { status: 409, detail: 'you have the maximum number of open orders; remove some first' },
  [RejectReason.MARKET_CLOSED]: { status: 409, detail: 'the trading session is closed' },
  [RejectReason.ACCOUNT_NOT_ACTIVE]: { status: 403, detail: 'your account may not trade (not yet opened, or suspended)' },
  [RejectReason.AMEND_NO_CHANGE]: { status: 400, detail: 'the update changes neither price nor quantity' },
  [RejectReason.ALREADY_EXPIRED]: { status: 409, detail: 'the order has already expired' },
  [RejectReason.INVALID_COMMAND]: { status: 400, detail: 'the command was refused as malformed' },
};

export function rejectFailure(reason: number): ApiFailure {
  const effective = reason === RejectReason.NOT_OWNER ? RejectReason.UNKNOWN_ORDER : reason;
  const rule = RULES[effective];
  if (rule === undefined) return failure(409, 'rejected', `the order was rejected (reason code ${reason})`);
  return failure(rule.status, REJECT_REASON_NAMES[effective]!, rule.detail);
}
