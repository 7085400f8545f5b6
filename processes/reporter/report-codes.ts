// The words the report database uses for the bus's numeric codes (order status, side, time in
// force, reasons, roles). Reports are read by people and by SQL written by people, so the database
// stores `partially_filled`, not 2. The codes themselves come from bus/enums.ts and bus/schema.ts.

import { AccountRole, CANCEL_REASON_NAMES, REJECT_REASON_NAMES, Side, TimeInForce } from '../../bus/enums';
import { OrderStatus } from '../../bus/schema';

function invert(names: Readonly<Record<number, string>>): ReadonlyMap<string, number> {
  return new Map(Object.entries(names).map(([code, name]) => [name, Number(code)]));
}

export const ORDER_STATUS_NAMES: Readonly<Record<number, string>> = Object.freeze({
  [OrderStatus.NEW]: 'new',
  [OrderStatus.PARTIALLY_FILLED]: 'partially_filled',
  [OrderStatus.FILLED]: 'filled',
  [OrderStatus.CANCELED]: 'canceled',
  [OrderStatus.REPLACED]: 'replaced',
  [OrderStatus.REJECTED]: 'rejected',
  [OrderStatus.EXPIRED]: 'expired',
});
export const ORDER_STATUS_CODES = invert(ORDER_STATUS_NAMES);

/** Statuses of an order that can still trade (the model keeps these in memory). */
export const OPEN_STATUS_NAMES: readonly string[] = Object.freeze(['new', 'partially_filled', 'replaced']);

export function isOpenStatus(status: number): boolean {
  return status === OrderStatus.NEW || status === OrderStatus.PARTIALLY_FILLED || status === OrderStatus.REPLACED;
}

export const SIDE_NAMES: Readonly<Record<number, string>> = Object.freeze({ [Side.INFLOW]: 'inflow', [Side.OUTFLOW]: 'outflow' });
export const SIDE_CODES = invert(SIDE_NAMES);

export const TIME_IN_FORCE_NAMES: Readonly<Record<number, string>> = Object.freeze({
  [TimeInForce.GTC]: 'GTC',
  [TimeInForce.DAY]: 'DAY',
  [TimeInForce.IOC]: 'IOC',
  [TimeInForce.FOK]: 'FOK',
});

export const TIME_IN_FORCE_CODES = invert(TIME_IN_FORCE_NAMES);

export const ROLE_NAMES: Readonly<Record<number, string>> = Object.freeze({
  [AccountRole.COLLEAGUE]: 'colleague',
  [AccountRole.RISK_ADMIN]: 'risk_admin',
  [AccountRole.ADMIN]: 'admin',
  [AccountRole.ANALYST]: 'analyst',
  [AccountRole.OPERATOR]: 'operator',
});

/** A name for a code that has none (a newer release's code): never fails, never loses the number. */
export function nameOr(names: Readonly<Record<number, string>>, code: number): string {
  return names[code] ?? `code_${code}`;
}

export function rejectReasonName(code: number): string {
  return nameOr(REJECT_REASON_NAMES, code);
}

export function cancelReasonName(code: number): string {
  return nameOr(CANCEL_REASON_NAMES, code);
}

export const CashMovementKind = { DEPOSIT: 'deposit', WITHDRAWAL: 'withdrawal' } as const;
export const InventoryMovementKind = { RECEIPT: 'receipt', DISPATCH: 'dispatch' } as const;
export const ProductState = { LISTED: 'listed', HALTED: 'halted', DELISTED: 'delisted' } as const;
export const AccountState = { ACTIVE: 'active', SUSPENDED: 'suspended' } as const;
