// Answers a gateway's RiskRulesQuery (GET /v1/admin/risk-rules) from the hot product manager's
// rules: the built-in default of every kind first (isDefault = 1; they apply wherever no rule
// does), then every rule set by a sequenced SetRiskRule, each with its scope (account id or 0 for
// every account, brand id or 0 for every brand) and its limit in the kind's unit. With forAccountId
// N only the rules that can apply to N are listed: N's own and the every-account ones.
//
// A read: not sequenced, nothing forwarded, nothing written (see wallet-query.ts). Staff reads are
// rare and the rule table is small, so the rules are listed through RiskRules.list() (which
// allocates) rather than through a cursor into its private columns.

import { RiskRuleKind } from '../../bus/enums';
import { clearBytes, writeI64, writeU16, writeU32, writeU8 } from '../../bus/codec';
import { BACK_PRESSURED, type RingProducer } from '../../bus/ring';
import { MAX_RISK_RULE_RECORDS, ReadStatus, RiskRuleRecord, RiskRulesQuery } from '../../bus/schema';
import { claimAnswerRecord, READ_BACK_PRESSURED } from './answer-records';
import type { ProductManagerState } from './product-manager-state';
import { DEFAULT_RISK_LIMITS } from './risk-rules';

const R = RiskRuleRecord.o;
const Q = RiskRulesQuery.o;
const FIRST_KIND = RiskRuleKind.BRAND_DAILY_UNITS;
const LAST_KIND = RiskRuleKind.MAX_OPEN_ORDERS;

export class RiskRulesAnswerer {
  answers = 0;
  records = 0;
  incomplete = 0;

  // The answer being built.
  private readonly kind = new Uint8Array(MAX_RISK_RULE_RECORDS);
  private readonly isDefault = new Uint8Array(MAX_RISK_RULE_RECORDS);
  private readonly ruleAccountId = new Uint32Array(MAX_RISK_RULE_RECORDS);
  private readonly brandId = new Uint32Array(MAX_RISK_RULE_RECORDS);
  private readonly limit = new Float64Array(MAX_RISK_RULE_RECORDS);
  private count = 0;
  private status = 0;

  constructor(private readonly state: ProductManagerState) {}

  /** Writes the answer to the query at `body`; the records written, or READ_BACK_PRESSURED. */
  take(producer: RingProducer, view: DataView, body: number, gatewayId: number): number {
    const accountId = view.getUint32(body + Q.accountId, true);
    const requestId = view.getUint32(body + Q.requestId, true);
    this.gather(view.getUint32(body + Q.forAccountId, true));
    const asOfSeq = this.state.lastSeq;
    for (let i = 0; i < this.count; i++) {
      const at = claimAnswerRecord(producer, RiskRuleRecord);
      if (at === BACK_PRESSURED) {
        if (i === 0) return READ_BACK_PRESSURED;
        this.incomplete++;
        return i;
      }
      const v = producer.ring.view;
      clearBytes(v, at, RiskRuleRecord.size);
      writeI64(v, at + R.limit, this.limit[i]!);
      writeI64(v, at + R.asOfSeq, asOfSeq);
      writeU32(v, at + R.requestId, requestId);
      writeU32(v, at + R.accountId, accountId);
      writeU32(v, at + R.ruleAccountId, this.ruleAccountId[i]!);
      writeU32(v, at + R.brandId, this.brandId[i]!);
      writeU16(v, at + R.gatewayId, gatewayId);
      writeU8(v, at + R.kind, this.kind[i]!);
      writeU8(v, at + R.isDefault, this.isDefault[i]!);
      writeU8(v, at + R.answerStatus, this.status);
      writeU8(v, at + R.more, i + 1 < this.count ? 1 : 0);
      this.records++;
    }
    this.answers++;
    return this.count;
  }

  private gather(forAccountId: number): void {
    this.count = 0;
    this.status = ReadStatus.OK;
    for (let kind = FIRST_KIND; kind <= LAST_KIND; kind++) this.push(kind, 1, 0, 0, DEFAULT_RISK_LIMITS[kind]!);
    const products = this.state.products;
    for (const r of this.state.rules.list()) {
      if (forAccountId !== 0 && r.accountId !== 0 && r.accountId !== forAccountId) continue;
      const brandId = r.brandRow < 0 ? 0 : products.brandId[r.brandRow]!;
      if (!this.push(r.kind, 0, r.accountId, brandId, r.limit)) return;
    }
  }

  private push(kind: number, isDefault: number, ruleAccountId: number, brandId: number, limit: number): boolean {
    if (this.count === MAX_RISK_RULE_RECORDS) {
      this.status = ReadStatus.TRUNCATED;
      return false;
    }
    const i = this.count++;
    this.kind[i] = kind;
    this.isDefault[i] = isDefault;
    this.ruleAccountId[i] = ruleAccountId;
    this.brandId[i] = brandId;
    this.limit[i] = limit;
    return true;
  }
}
