// Risk limits set by sequenced SetRiskRule commands, and how a limit is resolved for one order.
//
// A rule has a kind (RiskRuleKind), a scope and a limit. The scope is an account id (0 = every
// account) and a brand id (0 = every brand). For one (account, brand) the most specific rule wins:
//
//   (account, brand)  →  (account, every brand)  →  (every account, brand)  →  (every, every)  →  default
//
// BRAND_DAILY_UNITS, MAX_ORDER_QUANTITY and PRICE_COLLAR_BPS may name a brand; NOTIONAL_DAILY and
// MAX_OPEN_ORDERS count across brands, so a rule of those kinds that names a brand is refused.
// A negative limit (RISK_RULE_REMOVE) removes the rule at that scope.

import { RiskRuleKind } from '../../bus/enums';
import { assert } from './assert';
import { growFloat64, growInt32, growUint32, growUint8 } from './columns';
import { NOT_FOUND, PairIndex } from './pair-index';
import {
  DEFAULT_BRAND_DAILY_UNITS,
  DEFAULT_MAX_OPEN_ORDERS,
  DEFAULT_MAX_ORDER_QUANTITY,
  DEFAULT_NOTIONAL_DAILY_MINOR,
  DEFAULT_PRICE_COLLAR_BPS,
  INITIAL_RISK_RULE_SLOTS,
  MAX_SPARSE_TABLE_SLOTS,
} from './pm-limits';

const KIND_COUNT = 8; // kinds are 1..5; the key packs brand row and kind as brandRow * KIND_COUNT + kind
const NO_ROW = -1;
/** find(): no rule applies, the built-in default does. */
export const NO_RULE = -1;

/** The built-in default of each kind (index = RiskRuleKind). */
export const DEFAULT_RISK_LIMITS: readonly number[] = Object.freeze([
  0,
  DEFAULT_BRAND_DAILY_UNITS,
  DEFAULT_NOTIONAL_DAILY_MINOR,
  DEFAULT_MAX_ORDER_QUANTITY,
  DEFAULT_PRICE_COLLAR_BPS,
  DEFAULT_MAX_OPEN_ORDERS,
]);

export function isRiskRuleKind(kind: number): boolean {
  return kind >= RiskRuleKind.BRAND_DAILY_UNITS && kind <= RiskRuleKind.MAX_OPEN_ORDERS;
}

/** True for the kinds that count across brands (a brand-scoped rule of these kinds is refused). */
export function isAccountWideKind(kind: number): boolean {
  return kind === RiskRuleKind.NOTIONAL_DAILY || kind === RiskRuleKind.MAX_OPEN_ORDERS;
}

/** One rule, for inspection and the canonical state encoding. */
export interface RiskRuleView {
  readonly kind: number;
  readonly accountId: number;
  readonly brandId: number;
  readonly limit: number;
}

export class RiskRules {
  /** (accountId, brandKey) → row; brandKey = (brandRow + 1) * KIND_COUNT + kind, brandRow + 1 = 0 for every brand. */
  private readonly index = new PairIndex('risk rule', INITIAL_RISK_RULE_SLOTS * 2, MAX_SPARSE_TABLE_SLOTS);
  private kind: Uint8Array = new Uint8Array(INITIAL_RISK_RULE_SLOTS);
  private accountId: Uint32Array = new Uint32Array(INITIAL_RISK_RULE_SLOTS);
  private brandRow: Int32Array = new Int32Array(INITIAL_RISK_RULE_SLOTS);
  private limit: Float64Array = new Float64Array(INITIAL_RISK_RULE_SLOTS);
  private rows = 0;
  private freeRow = NO_ROW;
  private freeNext: Int32Array = new Int32Array(INITIAL_RISK_RULE_SLOTS);
  /** Rules in force; 0 lets resolve() skip every lookup. */
  count = 0;

  /** Sets (limit ≥ 0) or removes (limit < 0) the rule of `kind` at a scope. brandRow −1 = every brand. */
  set(kind: number, accountId: number, brandRow: number, limit: number): void {
    assert(isRiskRuleKind(kind), 'risk rule kind validated by the caller');
    const key = (brandRow + 1) * KIND_COUNT + kind;
    const row = this.index.get(accountId, key);
    if (limit < 0) {
      if (row === NOT_FOUND) return;
      this.index.delete(accountId, key);
      this.freeNext[row] = this.freeRow;
      this.freeRow = row;
      this.kind[row] = 0;
      this.count--;
      return;
    }
    if (row !== NOT_FOUND) {
      this.limit[row] = limit;
      return;
    }
    const fresh = this.allocRow();
    this.kind[fresh] = kind;
    this.accountId[fresh] = accountId;
    this.brandRow[fresh] = brandRow;
    this.limit[fresh] = limit;
    this.index.set(accountId, key, fresh);
    this.count++;
  }

  /**
   * The row of the rule that applies to `kind` for an account (id) trading a brand (row; −1 when
   * the kind is account-wide), or NO_RULE when the default applies. Callers compare against
   * `limits[row]` in place: returning the limit itself would box numbers above 2^30 per call.
   */
  find(kind: number, accountId: number, brandRow: number): number {
    if (this.count === 0) return NO_RULE;
    const index = this.index;
    if (brandRow >= 0) {
      const brandKey = (brandRow + 1) * KIND_COUNT + kind;
      let row = index.get(accountId, brandKey);
      if (row !== NOT_FOUND) return row;
      row = index.get(accountId, kind);
      if (row !== NOT_FOUND) return row;
      row = index.get(0, brandKey);
      if (row !== NOT_FOUND) return row;
    } else {
      const row = index.get(accountId, kind);
      if (row !== NOT_FOUND) return row;
    }
    const row = index.get(0, kind);
    return row !== NOT_FOUND ? row : NO_RULE;
  }

  /** True when `value` is above the limit of `kind` for (accountId, brandRow). */
  exceeds(kind: number, accountId: number, brandRow: number, value: number): boolean {
    const row = this.find(kind, accountId, brandRow);
    return value > (row === NO_RULE ? DEFAULT_RISK_LIMITS[kind] : this.limit[row]);
  }

  /** The limit itself (inspection and tools; the hot path uses exceeds / find). */
  resolve(kind: number, accountId: number, brandRow: number): number {
    const row = this.find(kind, accountId, brandRow);
    return row === NO_RULE ? DEFAULT_RISK_LIMITS[kind] : this.limit[row];
  }

  /** Limit of a row returned by find. */
  limitAt(row: number): number {
    return this.limit[row];
  }

  /** Every rule in force (allocates; hash, snapshot, tools). brandRow is returned as is; the caller maps it. */
  list(): { kind: number; accountId: number; brandRow: number; limit: number }[] {
    const out: { kind: number; accountId: number; brandRow: number; limit: number }[] = [];
    for (let row = 0; row < this.rows; row++) {
      if (this.kind[row] === 0) continue;
      out.push({ kind: this.kind[row], accountId: this.accountId[row], brandRow: this.brandRow[row], limit: this.limit[row] });
    }
    return out;
  }

  private allocRow(): number {
    if (this.freeRow !== NO_ROW) {
      const row = this.freeRow;
      this.freeRow = this.freeNext[row];
      return row;
    }
    if (this.rows === this.kind.length) {
      const n = this.rows * 2;
      assert(n <= MAX_SPARSE_TABLE_SLOTS, 'risk rule table full');
      this.kind = growUint8(this.kind, n);
      this.accountId = growUint32(this.accountId, n);
      this.brandRow = growInt32(this.brandRow, n);
      this.limit = growFloat64(this.limit, n);
      this.freeNext = growInt32(this.freeNext, n);
    }
    return this.rows++;
  }
}
