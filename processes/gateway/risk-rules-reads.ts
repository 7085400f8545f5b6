// The risk rules in force, from the product manager (GET /v1/admin/risk-rules): a RiskRulesQuery
// answered by RiskRuleRecords (processes/product-manager/risk-rules-query.ts), turned into the JSON
// PUT /v1/admin/risk-rules speaks — kind names, limits as PUT takes them (whole numbers; a decimal
// currency amount for notional_daily), brands by name — plus the built-in defaults, marked.

import type { Static } from '@sinclair/typebox';
import { RiskRuleKind } from '../../bus/enums';
import { ReadStatus, RiskRuleRecord } from '../../bus/schema';
import type { ApiFailure } from './api-failure';
import type { RiskRuleInForce, RiskRuleList } from './api-schemas';
import { formatDecimalPrice } from './decimal-price';
import type { GatewayServices } from './gateway-services';
import type { AnswerRecordValue, RiskRuleRecordValue } from './pm-link';
import { ReadRequest, submitRead, type ReadSink } from './read-requests';

type RuleJson = Static<typeof RiskRuleInForce>;

/** RiskRuleKind -> the API's name and unit (the names PUT /v1/admin/risk-rules takes). */
const KIND_TEXT: Readonly<Record<number, { kind: RuleJson['kind']; unit: RuleJson['unit'] }>> = {
  [RiskRuleKind.BRAND_DAILY_UNITS]: { kind: 'brand_daily_units', unit: 'units' },
  [RiskRuleKind.NOTIONAL_DAILY]: { kind: 'notional_daily', unit: 'currency' },
  [RiskRuleKind.MAX_ORDER_QUANTITY]: { kind: 'max_order_quantity', unit: 'units' },
  [RiskRuleKind.PRICE_COLLAR_BPS]: { kind: 'price_collar_bps', unit: 'basis_points' },
  [RiskRuleKind.MAX_OPEN_ORDERS]: { kind: 'max_open_orders', unit: 'orders' },
};

export class RiskRulesRequest extends ReadRequest {
  readonly answerTypeId = RiskRuleRecord.typeId;
  private readonly rules: { kind: number; accountId: number; brandId: number; json: RuleJson }[] = [];
  private asOfSeq = 0;
  private truncated = false;

  add(s: GatewayServices, record: AnswerRecordValue): void {
    const r = record as RiskRuleRecordValue;
    this.asOfSeq = r.asOfSeq;
    if (r.answerStatus === ReadStatus.TRUNCATED) this.truncated = true;
    const text = KIND_TEXT[r.kind];
    if (text === undefined) return; // a kind of a newer release: left out rather than guessed at
    const isDefault = r.isDefault === 1;
    this.rules.push({
      kind: r.kind,
      accountId: isDefault ? -1 : r.ruleAccountId,
      brandId: r.brandId,
      json: {
        kind: text.kind,
        limit: r.kind === RiskRuleKind.NOTIONAL_DAILY ? formatDecimalPrice(r.limit, s.catalog.priceDecimals) : String(r.limit),
        unit: text.unit,
        accountId: r.ruleAccountId === 0 ? null : r.ruleAccountId,
        brand: r.brandId === 0 ? null : (brandName(s, r.brandId) ?? null),
        brandId: r.brandId === 0 ? null : r.brandId,
        default: isDefault,
      },
    });
  }

  finish(): void {
    // Defaults first (their accountId sorts as -1), then by kind, account, brand.
    this.rules.sort((a, b) => (a.accountId === -1 ? 0 : 1) - (b.accountId === -1 ? 0 : 1) || a.kind - b.kind || a.accountId - b.accountId || a.brandId - b.brandId);
    const list: Static<typeof RiskRuleList> = { rules: this.rules.map((r) => r.json), asOfSeq: this.asOfSeq, truncated: this.truncated };
    this.sink.answer(list);
  }
}

function brandName(s: GatewayServices, brandId: number): string | undefined {
  for (const p of s.catalog.list()) if (p.brandId === brandId) return p.brand;
  return undefined;
}

/** Asks for the rules in force (forAccountId 0: all; N: those that can apply to account N). */
export function submitRiskRulesRead(s: GatewayServices, callerAccountId: number, forAccountId: number, sink: ReadSink): ApiFailure | null {
  return submitRead(s, callerAccountId, new RiskRulesRequest(sink), (requestId) => s.link.sendRiskRulesQuery(requestId, callerAccountId, forAccountId));
}
