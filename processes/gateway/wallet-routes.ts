// Wallet reads: GET /v1/wallet and the stream's {"type":"wallet"} message.
//
//   GET /v1/wallet                 a colleague: their own wallet
//   GET /v1/wallet?accountId=N     analyst, admin, risk_admin: any account's; a colleague only their
//                                  own id (any other: 403, the same answer whether N exists or not)
//   -> 200 {"accountId":7,"outletId":3,
//           "cash":{"balance":"1000.00","reserved":"10.00","available":"990.00"},
//           "inventory":[{"symbol":"APPL-128","productId":1,"balance":100,"reserved":5,"available":95}],
//           "notionalLimit":{"limit":"1000000.00","usedToday":"10.00","left":"999990.00"},
//           "brandLimits":[{"brand":"Apple","brandId":1,"limitUnits":1000000,"usedTodayUnits":5,"leftUnits":999995}],
//           "asOfSeq":1234,"time":1700000000000,"truncated":false}
//
// The product manager holds the wallet; this gateway keeps none. A read is a WalletQuery on this
// gateway's ring to the PM (pm-link.ts), answered by WalletReport records (bus/schema.ts) that
// read-requests.ts routes to the WalletRequest below (the pending table matches requestId and
// account); it answers when the last one (more = 0) arrives. Cash and money
// limits are decimal strings in the catalog's decimals; quantities and unit limits are integers.
// `reserved` includes the holds of commands checked but not yet journaled (that is what the next
// order is checked against), so available = balance − reserved. `asOfSeq` is the last journal
// entry the wallet includes; `time` is when the product manager read it (epoch ms).

import { Type, type Static } from '@sinclair/typebox';
import type { Principal } from '../accounts/principal';
import type { RoleName } from '../accounts/roles';
import { WalletItem, WalletReport, WalletStatus } from '../../bus/schema';
import { ApiFailure, failure } from './api-failure';
import { formatDecimalPrice } from './decimal-price';
import type { GatewayServices } from './gateway-services';
import type { AnswerRecordValue, WalletReportValue } from './pm-link';
import { HttpReadSink, READ_TIMEOUT, ReadRequest, submitRead } from './read-requests';
import { declare, type RouteDeclaration } from './route-spec';

/** Roles that may read any account's wallet (with accountId). */
export const WALLET_STAFF_ROLES: readonly RoleName[] = Object.freeze(['analyst', 'admin', 'risk_admin']);
const WALLET_ROLES: readonly RoleName[] = Object.freeze(['colleague', ...WALLET_STAFF_ROLES]);

const strict = { additionalProperties: false } as const;
const Money = (description: string) => Type.String({ description: `${description}; decimal string in currency units` });
const Units = (description: string) => Type.Integer({ description: `${description}; units` });

export const WalletQueryText = Type.Object(
  { accountId: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,9}$', maxLength: 10, description: "analysts, admins and risk admins: whose wallet (default your own); a colleague may name only their own" })) },
  { ...strict, title: 'WalletQuery' },
);
export type WalletQueryText = Static<typeof WalletQueryText>;

export const Wallet = Type.Object(
  {
    accountId: Type.Integer(),
    outletId: Type.Integer(),
    cash: Type.Object({ balance: Money('cash held'), reserved: Money('held for open inflows and orders in flight'), available: Money('balance − reserved: what a new inflow may spend') }, strict),
    inventory: Type.Array(
      Type.Object(
        {
          symbol: Type.Union([Type.String(), Type.Null()], { description: 'null for a product this gateway does not list' }),
          productId: Type.Integer(),
          balance: Units('held'),
          reserved: Units('held for open outflows and orders in flight'),
          available: Units('balance − reserved: what a new outflow may sell'),
        },
        strict,
      ),
      { description: 'every product with a balance or a reservation' },
    ),
    notionalLimit: Type.Object({ limit: Money('daily limit on the value of order updates'), usedToday: Money('value updated today, orders in flight included'), left: Money('limit − usedToday, at least 0') }, strict),
    brandLimits: Type.Array(
      Type.Object(
        {
          brand: Type.Union([Type.String(), Type.Null()], { description: 'brand name (null when this gateway lists no product of it)' }),
          brandId: Type.Integer(),
          limitUnits: Units('daily limit on units updated in this brand'),
          usedTodayUnits: Units('units updated today, orders in flight included'),
          leftUnits: Units('limitUnits − usedTodayUnits, at least 0'),
        },
        strict,
      ),
      { description: 'one entry per listed brand (the built-in default applies where no rule names the account or brand)' },
    ),
    asOfSeq: Type.Integer({ description: 'the last journal entry this wallet includes' }),
    time: Type.Integer({ description: 'epoch ms when the product manager read it' }),
    truncated: Type.Boolean({ description: 'true when the account has more items than one answer carries' }),
  },
  { ...strict, title: 'Wallet' },
);
export type WalletJson = Static<typeof Wallet>;

const FOREIGN_WALLET = failure(403, 'forbidden', 'a colleague may read only their own wallet; leave out accountId');
const UNKNOWN_ACCOUNT = failure(404, 'unknown_account', 'the exchange knows no such account (it appears once the account is opened)');
export const WALLET_TIMEOUT = READ_TIMEOUT;

/** Whose wallet `principal` asks for (accountIdText from ?accountId / the stream message), or why not. */
export function walletAccountOf(principal: Principal, accountIdText: string | undefined): number | ApiFailure {
  if (!WALLET_ROLES.includes(principal.role)) {
    return failure(403, 'forbidden', `wallets are read by ${WALLET_ROLES.join(', ')} accounts; yours is ${principal.role}`);
  }
  if (accountIdText === undefined) return principal.accountId;
  const accountId = Number(accountIdText);
  if (!(Number.isInteger(accountId) && accountId >= 1 && accountId <= 0xffffffff)) return failure(400, 'invalid_account_id', 'accountId must be an integer in [1, 4294967295]');
  if (principal.role === 'colleague' && accountId !== principal.accountId) return FOREIGN_WALLET;
  return accountId;
}

/** Collects one wallet answer's records into the JSON the sink gets. */
export class WalletRequest extends ReadRequest {
  readonly answerTypeId = WalletReport.typeId;
  private wallet: WalletJson | null = null;
  private status: number = WalletStatus.OK;

  add(s: GatewayServices, record: AnswerRecordValue): void {
    const r = record as WalletReportValue;
    const decimals = s.catalog.priceDecimals;
    if (this.wallet === null) {
      this.wallet = {
        accountId: r.accountId,
        outletId: r.outletId,
        cash: { balance: '0', reserved: '0', available: '0' },
        inventory: [],
        notionalLimit: { limit: '0', usedToday: '0', left: '0' },
        brandLimits: [],
        asOfSeq: r.asOfSeq,
        time: Math.floor(r.timeUs / 1000),
        truncated: false,
      };
    }
    const w = this.wallet;
    if (r.status !== WalletStatus.OK) this.status = r.status;
    switch (r.kind) {
      case WalletItem.CASH:
        w.cash = { balance: formatDecimalPrice(r.total, decimals), reserved: formatDecimalPrice(r.used, decimals), available: formatDecimalPrice(r.free, decimals) };
        break;
      case WalletItem.POSITION:
        w.inventory.push({ symbol: s.catalog.byProductId(r.itemId)?.symbol ?? null, productId: r.itemId, balance: r.total, reserved: r.used, available: r.free });
        break;
      case WalletItem.NOTIONAL_DAILY:
        w.notionalLimit = { limit: formatDecimalPrice(r.total, decimals), usedToday: formatDecimalPrice(r.used, decimals), left: formatDecimalPrice(r.free, decimals) };
        break;
      case WalletItem.BRAND_DAILY_UNITS:
        w.brandLimits.push({ brand: brandName(s, r.itemId), brandId: r.itemId, limitUnits: r.total, usedTodayUnits: r.used, leftUnits: r.free });
        break;
      default:
        break; // a kind of a newer release: left out rather than guessed at
    }
  }

  finish(): void {
    if (this.status === WalletStatus.UNKNOWN_ACCOUNT || this.wallet === null) return this.sink.deny(UNKNOWN_ACCOUNT);
    this.wallet.truncated = this.status === WalletStatus.TRUNCATED;
    this.sink.answer(this.wallet);
  }
}

function brandName(s: GatewayServices, brandId: number): string | null {
  for (const p of s.catalog.list()) if (p.brandId === brandId) return p.brand;
  return null;
}

/** Writes the query with a waiter for its answer; null when it was sent, else the failure to answer now. */
export function submitWalletQuery(s: GatewayServices, accountId: number, request: WalletRequest): ApiFailure | null {
  return submitRead(s, accountId, request, (requestId) => s.link.sendWalletQuery(requestId, accountId));
}

export function walletRoutes(s: GatewayServices): RouteDeclaration[] {
  return [
    declare({
      method: 'get',
      path: '/v1/wallet',
      summary: "A wallet: cash, inventory and daily limits. A colleague's own; analysts, admins and risk admins any account's (accountId)",
      tag: 'wallet',
      access: WALLET_ROLES,
      params: Type.Object({}, strict),
      query: WalletQueryText,
      body: undefined,
      success: { status: 200, schema: Wallet, description: 'the wallet as the product manager holds it now' },
      errors: [400, 401, 403, 404, 429, 503],
      handle: (ex, { principal, query }) => {
        const accountId = walletAccountOf(principal!, query.accountId);
        if (accountId instanceof ApiFailure) return ex.fail(accountId);
        const f = submitWalletQuery(s, accountId, new WalletRequest(new HttpReadSink(ex)));
        if (f !== null) ex.fail(f);
      },
    }),
  ];
}
