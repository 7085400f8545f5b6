// Everything a request handler may use, built once in main.ts and passed to the route and stream
// modules. No module reaches for a global: a test can build the same set around fakes.

import type { Logger } from 'pino';
import type { Accounts } from '../accounts/accounts';
import type { Authenticator } from './authentication';
import type { Gatekeeper } from './gatekeeper';
import type { GatewayConfig } from './gateway-config';
import type { OrderView } from './order-view';
import type { PendingRequests } from './pending-requests';
import type { PmLink } from './pm-link';
import type { ProductCatalog } from './product-catalog';
import type { ReplyPoller } from './reply-poller';
import type { StreamRegistry } from './stream-registry';

/** The part of the accounts module the gateway calls (see processes/accounts/accounts.ts). */
export type AccountsApi = Pick<
  Accounts,
  | 'apply'
  | 'login'
  | 'logout'
  | 'authenticate'
  | 'createApiKey'
  | 'listApiKeys'
  | 'revokeApiKey'
  | 'listPendingReviews'
  | 'approveApplication'
  | 'rejectApplication'
  | 'suspendAccount'
  | 'reinstateAccount'
  | 'changeAccountRole'
>;

export interface GatewayServices {
  readonly config: GatewayConfig;
  readonly log: Logger;
  readonly catalog: ProductCatalog;
  readonly link: PmLink;
  readonly pending: PendingRequests;
  readonly orders: OrderView;
  readonly streams: StreamRegistry;
  readonly gatekeeper: Gatekeeper;
  readonly auth: Authenticator;
  readonly accounts: AccountsApi;
  readonly poller: ReplyPoller;
  readonly startedMs: number;
}
