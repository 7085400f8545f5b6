// Staff endpoints, each for its role only:
//   admin       KYC review queue and decisions, staff accounts, roles, suspension, deposits and
//               withdrawals, inventory receipts and dispatches, product listing, halt and resume
//   risk_admin  risk rules (set; read also by admin), suspension
//   operator    halt and resume
// Account decisions go to the accounts module. Money, stock, risk and product commands are written
// to the product manager as sequenced admin commands (bus/schema.ts) and answered 202 "submitted":
// they carry no request id, so their effect is seen in the journal (wallets, rules, listings),
// not in this answer. Movement references make a repeated submission apply once.

import { Type } from '@sinclair/typebox';
import { RiskRuleKind } from '../../bus/enums';
import { Deposit, HaltProduct, InventoryDispatch, InventoryReceipt, ListProduct, ResumeProduct, SetRiskRule, Withdraw, type MessageDescriptor, type ValueOf } from '../../bus/schema';
import { MAX_OUTLET_ID, MAX_SUSPENSION_REASON_CHARS } from '../accounts/account-limits';
import { ROLE_NAMES } from '../accounts/roles';
import { RISK_RULE_REMOVE } from '../product-manager/pm-limits';
import { ApiFailure, failure } from './api-failure';
import {
  AccountIdParams,
  ApplicationBody,
  ApplicationIdParams,
  ApplicationOutcome,
  CashMovementBody,
  CommandSubmitted,
  EmptyQuery,
  InventoryMovementBody,
  KycDecisionBody,
  ProductList,
  ProductListingBody,
  ReviewQueue,
  ReviewQueueQuery,
  RiskRuleBody,
  RiskRuleList,
  RiskRulesQueryText,
  SuspensionBody,
  SymbolParams,
} from './api-schemas';
import { accountsFailure } from './authentication';
import { formatDecimalPrice, parseDecimalPrice, PRICE_TOO_PRECISE } from './decimal-price';
import type { GatewayServices } from './gateway-services';
import type { HttpExchange } from './http-exchange';
import { parsePositivePrice } from './order-normalization';
import { HttpReadSink } from './read-requests';
import { submitRiskRulesRead } from './risk-rules-reads';
import { declare, type RouteDeclaration } from './route-spec';

const NoParams = Type.Object({}, { additionalProperties: false });
const ADMIN = ['admin'] as const;
const COMMAND_ERRORS = [400, 401, 403, 413, 429, 503];
const RING_FULL = failure(503, 'overloaded', 'the exchange is not keeping up; retry shortly with the same reference', 1);
export const AccountState = Type.Object({ accountId: Type.Integer(), suspended: Type.Boolean() }, { additionalProperties: false, title: 'AccountState' });
const RoleName = Type.Union(ROLE_NAMES.map((r) => Type.Literal(r)));
export const RoleChangeBody = Type.Object(
  {
    role: RoleName,
    outletId: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_OUTLET_ID, description: 'required (1 or more) when role is colleague; leave out for staff roles' })),
    reason: Type.String({ minLength: 1, maxLength: MAX_SUSPENSION_REASON_CHARS, description: 'kept in the audit trail' }),
  },
  { additionalProperties: false, title: 'RoleChange' },
);
export const AccountRoleState = Type.Object(
  {
    accountId: Type.Integer(),
    previousRole: RoleName,
    role: RoleName,
    outletId: Type.Integer({ description: 'the outlet under the new role; 0 for staff' }),
    sessionsRevoked: Type.Integer({ description: 'sessions signed out: the new role applies from the next login' }),
    apiKeysRevoked: Type.Integer(),
  },
  { additionalProperties: false, title: 'AccountRole' },
);

const RULE_KIND: Readonly<Record<string, number>> = {
  brand_daily_units: RiskRuleKind.BRAND_DAILY_UNITS,
  notional_daily: RiskRuleKind.NOTIONAL_DAILY,
  max_order_quantity: RiskRuleKind.MAX_ORDER_QUANTITY,
  price_collar_bps: RiskRuleKind.PRICE_COLLAR_BPS,
  max_open_orders: RiskRuleKind.MAX_OPEN_ORDERS,
};

export function adminRoutes(s: GatewayServices): RouteDeclaration[] {
  const submit = <D extends MessageDescriptor>(ex: HttpExchange, desc: D, value: ValueOf<D>): void => {
    const seq = s.link.sendAdmin(desc, value);
    if (seq === 0) return ex.fail(RING_FULL);
    s.log.info({ event: 'admin-command', command: desc.name, sourceSeq: seq, ip: ex.ip }, 'admin command submitted');
    ex.reply(202, JSON.stringify({ command: desc.name, sourceSeq: seq, status: 'submitted' }));
  };
  const productOf = (symbol: string): { productId: number } | ApiFailure => {
    const p = s.catalog.bySymbolAnyCase(symbol);
    return p ?? failure(400, 'unknown_symbol', `symbol '${symbol}' is not listed; GET /v1/products lists the products`);
  };
  const amountOf = (text: string): number | ApiFailure => parsePositivePrice(text, s.catalog.priceDecimals, 'amount');
  const movement = (path: string, summary: string, desc: typeof Deposit | typeof Withdraw): RouteDeclaration =>
    declare({
      method: 'post',
      path,
      summary,
      tag: 'admin',
      access: ADMIN,
      params: NoParams,
      query: EmptyQuery,
      body: CashMovementBody,
      success: { status: 202, schema: CommandSubmitted, description: 'written to the product manager for sequencing' },
      errors: COMMAND_ERRORS,
      handle: (ex, { body }) => {
        const amount = amountOf(body.amount);
        if (amount instanceof ApiFailure) return ex.fail(amount);
        submit(ex, desc, { amount, reference: body.reference, accountId: body.accountId });
      },
    });
  const stock = (path: string, summary: string, desc: typeof InventoryReceipt | typeof InventoryDispatch): RouteDeclaration =>
    declare({
      method: 'post',
      path,
      summary,
      tag: 'admin',
      access: ADMIN,
      params: NoParams,
      query: EmptyQuery,
      body: InventoryMovementBody,
      success: { status: 202, schema: CommandSubmitted, description: 'written to the product manager for sequencing' },
      errors: COMMAND_ERRORS,
      handle: (ex, { body }) => {
        const p = productOf(body.symbol);
        if (p instanceof ApiFailure) return ex.fail(p);
        submit(ex, desc, { quantity: body.quantity, reference: body.reference, accountId: body.accountId, productId: p.productId });
      },
    });
  const haltOrResume = (path: string, summary: string, desc: typeof HaltProduct | typeof ResumeProduct, halted: boolean): RouteDeclaration =>
    declare({
      method: 'post',
      path,
      summary,
      tag: 'admin',
      access: ['admin', 'operator'],
      params: SymbolParams,
      query: EmptyQuery,
      body: undefined,
      success: { status: 202, schema: CommandSubmitted, description: 'written to the product manager for sequencing' },
      errors: COMMAND_ERRORS,
      handle: (ex, { params }) => {
        const p = productOf(params.symbol);
        if (p instanceof ApiFailure) return ex.fail(p);
        s.catalog.setHalted(p.productId, halted);
        submit(ex, desc, { productId: p.productId });
      },
    });

  return [
    declare({
      method: 'get',
      path: '/v1/admin/kyc-reviews',
      summary: 'Applications waiting for a KYC decision, oldest first',
      tag: 'admin',
      access: ADMIN,
      params: NoParams,
      query: ReviewQueueQuery,
      body: undefined,
      success: { status: 200, schema: ReviewQueue, description: 'one page of the review queue' },
      errors: [400, 401, 403, 429],
      handle: async (ex, { principal, query }) => {
        const r = await s.accounts.listPendingReviews(principal!, { after: query.after === undefined ? 0 : Number(query.after), limit: query.limit === undefined ? undefined : Number(query.limit) });
        if (!r.ok) return ex.fail(accountsFailure(r.error));
        ex.reply(200, JSON.stringify({ applications: r.value }));
      },
    }),
    declare({
      method: 'post',
      path: '/v1/admin/kyc-reviews/{applicationId}',
      summary: 'Approve or reject an application in the review queue (audited)',
      tag: 'admin',
      access: ADMIN,
      params: ApplicationIdParams,
      query: EmptyQuery,
      body: KycDecisionBody,
      success: { status: 200, schema: ApplicationOutcome, description: 'the decision' },
      errors: [400, 401, 403, 404, 409, 413, 429],
      handle: async (ex, { principal, params, body }) => {
        const id = Number(params.applicationId);
        const r = body.decision === 'approve' ? await s.accounts.approveApplication(principal!, id, body.note) : await s.accounts.rejectApplication(principal!, id, body.note);
        if (!r.ok) return ex.fail(accountsFailure(r.error));
        ex.reply(200, JSON.stringify(r.value));
      },
    }),
    declare({
      method: 'post',
      path: '/v1/admin/accounts',
      summary: 'Create an account of any role (staff accounts); KYC runs as for applicants',
      tag: 'admin',
      access: ADMIN,
      params: NoParams,
      query: EmptyQuery,
      body: ApplicationBody,
      credentialRoute: true,
      success: { status: 201, schema: ApplicationOutcome, description: 'the decision' },
      errors: [400, 401, 403, 409, 413, 429, 503],
      handle: async (ex, { principal, body }) => {
        const r = await s.accounts.apply(body, principal!);
        if (!r.ok) return ex.fail(accountsFailure(r.error));
        ex.reply(201, JSON.stringify(r.value));
      },
    }),
    declare({
      method: 'post',
      path: '/v1/admin/accounts/{accountId}/suspend',
      summary: 'Suspend an account: it can no longer log in or trade (sessions are revoked)',
      tag: 'admin',
      access: ['admin', 'risk_admin'],
      params: AccountIdParams,
      query: EmptyQuery,
      body: SuspensionBody,
      success: { status: 200, schema: AccountState, description: 'the account is suspended' },
      errors: [400, 401, 403, 404, 409, 413, 429],
      handle: async (ex, { principal, params, body }) => {
        const accountId = Number(params.accountId);
        const r = await s.accounts.suspendAccount(principal!, accountId, body.reason);
        if (!r.ok) return ex.fail(accountsFailure(r.error));
        s.auth.forgetAccount(accountId);
        ex.reply(200, JSON.stringify({ accountId, suspended: true }));
      },
    }),
    declare({
      method: 'post',
      path: '/v1/admin/accounts/{accountId}/reinstate',
      summary: 'Lift a suspension',
      tag: 'admin',
      access: ['admin', 'risk_admin'],
      params: AccountIdParams,
      query: EmptyQuery,
      body: SuspensionBody,
      success: { status: 200, schema: AccountState, description: 'the account may log in again' },
      errors: [400, 401, 403, 404, 409, 413, 429],
      handle: async (ex, { principal, params, body }) => {
        const accountId = Number(params.accountId);
        const r = await s.accounts.reinstateAccount(principal!, accountId, body.reason);
        if (!r.ok) return ex.fail(accountsFailure(r.error));
        ex.reply(200, JSON.stringify({ accountId, suspended: false }));
      },
    }),
    declare({
      method: 'put',
      path: '/v1/admin/accounts/{accountId}/role',
      summary: "Change an account's role (audited); its sessions and API keys are revoked, so the new role applies from the next login",
      tag: 'admin',
      access: ADMIN,
      params: AccountIdParams,
      query: EmptyQuery,
      body: RoleChangeBody,
      success: { status: 200, schema: AccountRoleState, description: 'the new role, sent to the product manager through the journal (AccountRoleChanged)' },
      errors: [400, 401, 403, 404, 409, 413, 429],
      handle: async (ex, { principal, params, body }) => {
        const accountId = Number(params.accountId);
        const r = await s.accounts.changeAccountRole(principal!, accountId, body);
        if (!r.ok) return ex.fail(accountsFailure(r.error));
        // Signed out everywhere on this gateway at once; other gateways within AUTH_CACHE_TTL_MS,
        // and their streams at the next reconnect (which the revoked session cannot make).
        s.auth.forgetAccount(accountId);
        s.streams.closeAccount(accountId, 'your role changed; log in again');
        ex.reply(200, JSON.stringify(r.value));
      },
    }),
    movement('/v1/admin/deposits', 'Credit cash to an account (sequenced Deposit)', Deposit),
    movement('/v1/admin/withdrawals', 'Debit cash from an account (sequenced Withdraw)', Withdraw),
    stock('/v1/admin/inventory-receipts', 'Receive stock into an account (sequenced InventoryReceipt)', InventoryReceipt),
    stock('/v1/admin/inventory-dispatches', 'Dispatch stock out of an account (sequenced InventoryDispatch)', InventoryDispatch),
    declare({
      method: 'put',
      path: '/v1/admin/risk-rules',
      summary: 'Set (or with limit null remove) a risk rule for every account or one, every brand or one',
      tag: 'admin',
      access: ['risk_admin'],
      params: NoParams,
      query: EmptyQuery,
      body: RiskRuleBody,
      success: { status: 202, schema: CommandSubmitted, description: 'written to the product manager for sequencing' },
      errors: COMMAND_ERRORS,
      handle: (ex, { body }) => {
        const ruleKind = RULE_KIND[body.kind]!;
        let limit = RISK_RULE_REMOVE;
        if (body.limit !== null) {
          const decimals = ruleKind === RiskRuleKind.NOTIONAL_DAILY ? s.catalog.priceDecimals : 0;
          const parsed = parseDecimalPrice(body.limit, decimals);
          if (parsed < 0) {
            const what = decimals === 0 ? 'a whole number' : `an amount with at most ${decimals} decimals`;
            return ex.fail(failure(400, parsed === PRICE_TOO_PRECISE ? 'invalid_limit' : 'limit_out_of_range', `limit for ${body.kind} must be ${what}`));
          }
          limit = parsed;
        }
        let brandId = 0;
        if (body.brand !== undefined) {
          brandId = s.catalog.brandIdOf(body.brand);
          if (brandId === 0) return ex.fail(failure(400, 'unknown_brand', `brand '${body.brand}' has no listed product; GET /v1/products lists the brands`));
        }
        submit(ex, SetRiskRule, { limit, accountId: body.accountId ?? 0, brandId, ruleKind });
      },
    }),
    declare({
      method: 'get',
      path: '/v1/admin/risk-rules',
      summary: 'The risk rules in force, from the product manager: the built-in defaults (marked) and every rule set; accountId: only those that can apply to that account',
      tag: 'admin',
      access: ['risk_admin', 'admin'],
      params: NoParams,
      query: RiskRulesQueryText,
      body: undefined,
      success: { status: 200, schema: RiskRuleList, description: 'the rules as the product manager holds them now' },
      errors: [400, 401, 403, 429, 503],
      handle: (ex, { principal, query }) => {
        const forAccountId = query.accountId === undefined ? 0 : Number(query.accountId);
        if (forAccountId > 0xffff_ffff) return ex.fail(failure(400, 'invalid_account_id', 'accountId must be an integer in [1, 4294967295]'));
        const f = submitRiskRulesRead(s, principal!.accountId, forAccountId, new HttpReadSink(ex));
        if (f !== null) ex.fail(f);
      },
    }),
    declare({
      method: 'get',
      path: '/v1/admin/products',
      summary: 'Every listed product with its halt state as this gateway last saw it',
      tag: 'admin',
      access: ['admin', 'operator'],
      params: NoParams,
      query: EmptyQuery,
      body: undefined,
      success: { status: 200, schema: ProductList, description: 'the product table' },
      errors: [401, 403, 429],
      handle: (ex) => ex.reply(200, productListJson(s)),
    }),
    declare({
      method: 'post',
      path: '/v1/admin/products',
      summary: 'List a new product (sequenced ListProduct)',
      tag: 'admin',
      access: ADMIN,
      params: NoParams,
      query: EmptyQuery,
      body: ProductListingBody,
      success: { status: 202, schema: CommandSubmitted, description: 'written to the product manager for sequencing' },
      errors: [...COMMAND_ERRORS, 409],
      handle: (ex, { body }) => {
        const symbol = body.symbol.toUpperCase();
        if (s.catalog.bySymbolAnyCase(symbol) !== undefined || s.catalog.byProductId(body.productId) !== undefined) {
          return ex.fail(failure(409, 'product_already_listed', `symbol ${symbol} or product id ${body.productId} is already listed`));
        }
        const decimals = s.catalog.priceDecimals;
        const tickSize = parsePositivePrice(body.tickSize, decimals, 'tick_size');
        if (tickSize instanceof ApiFailure) return ex.fail(tickSize);
        const referencePrice = parsePositivePrice(body.referencePrice, decimals, 'reference_price');
        if (referencePrice instanceof ApiFailure) return ex.fail(referencePrice);
        if (referencePrice % tickSize !== 0) return ex.fail(failure(400, 'price_not_on_tick', `referencePrice ${body.referencePrice} is not a multiple of tickSize ${formatDecimalPrice(tickSize, decimals)}`));
        const brandId = body.brandId ?? s.catalog.brandIdOf(body.brand);
        if (brandId === 0) return ex.fail(failure(400, 'unknown_brand', `brand '${body.brand}' is new; give its brandId`));
        submit(ex, ListProduct, { tickSize, lotSize: body.lotSize, referencePrice, productId: body.productId, brandId, selfTradePolicy: 0, symbol, brand: body.brand });
      },
    }),
    haltOrResume('/v1/admin/products/{symbol}/halt', 'Halt trading in a product (sequenced HaltProduct)', HaltProduct, true),
    haltOrResume('/v1/admin/products/{symbol}/resume', 'Resume trading in a product (sequenced ResumeProduct)', ResumeProduct, false),
  ];
}

export function productListJson(s: Pick<GatewayServices, 'catalog'>): string {
  const d = s.catalog.priceDecimals;
  return JSON.stringify({
    products: s.catalog.list().map((p) => ({ productId: p.productId, symbol: p.symbol, brand: p.brand, tickSize: formatDecimalPrice(p.tickSize, d), lotSize: p.lotSize, halted: p.halted })),
  });
}
