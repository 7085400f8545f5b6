// The accounts module's public face: the one object a gateway process creates (in-process, off the
// hot path) to onboard applicants, run the KYC review queue, log people in, authenticate every
// request, manage API keys, suspend accounts, and forward account events to the journal.
//
//   const accounts = await Accounts.open(accountStoreOptionsFromEnv(dataDir));
//   const r = await accounts.login('alice', 'correct horse battery');
//   if (!r.ok) reply(httpStatusOf(r.error.code), r.error);
//
// Every method that a user can get wrong answers an AccountsResult (ok/value or error code +
// detail); exceptions mean a bug or an unreachable database.

import {
  DEFAULT_SANCTIONS_REVIEW_THRESHOLD,
  MAX_OUTBOX_BATCH,
  MAX_SESSIONS_PURGED_PER_CALL,
  SESSION_RETENTION_MS,
} from './account-limits';
import {
  acquireForwarderLease,
  markDelivered,
  readUndelivered,
  releaseForwarderLease,
  type ForwardResult,
  type OutboxEvent,
  type OutboxSink,
} from './account-outbox';
import { AccountRoleChange, type RoleChangeOutcome, type RoleChangeRequest } from './account-role-change';
import { AccountSuspension, type SuspensionOutcome } from './account-suspension';
import { openAccountStore, type OpenAccountStoreOptions } from './account-store';
import { accountById, type AccountsContext } from './accounts-context';
import { systemClock, type Clock } from './clock';
import { Credentials, type ApiKeyCreated, type ApiKeyInfo, type LoginSuccess } from './credentials';
import { fail, ok, type AccountsResult } from './errors';
import { Onboarding, type ApplicationOutcome, type AuditEntry, type Page, type PendingReview } from './onboarding';
import { PasswordHasher, type ScryptParams } from './password-hashing';
import type { Actor, Principal } from './principal';
import { roleNameOf, type RoleName } from './roles';
import { defaultSanctionsFile, SanctionsList } from './sanctions-list';
import { API_KEY_PREFIX, SESSION_TOKEN_PREFIX } from './secret-tokens';
import type { AccountStore } from './sql-store';

export interface AccountsOptions {
  readonly clock?: Clock;
  /** A list already loaded; otherwise `sanctionsFile`, IMS_SANCTIONS_FILE, or the shipped list. */
  readonly sanctions?: SanctionsList;
  readonly sanctionsFile?: string;
  /** Jaro-Winkler score at or above which a name goes to review; IMS_SANCTIONS_REVIEW_THRESHOLD, default 0.90. */
  readonly sanctionsReviewThreshold?: number;
  /** Told of every outbox event after it commits (wake the forwarder); never the delivery itself. */
  readonly onOutboxEvent?: (event: OutboxEvent) => void;
  /**
   * Cheaper scrypt parameters FOR TESTS ONLY. Production never sets this: the default is the OWASP
   * cost (N=2^17, r=8, p=1).
   */
  readonly unsafeLowCostScryptParamsForTests?: ScryptParams;
}

export interface AccountSummary {
  readonly accountId: number;
  readonly username: string;
  readonly role: RoleName;
  readonly outletId: number;
  readonly legalName: string;
  readonly suspended: boolean;
  readonly approvedAtMs: number | null;
}

function thresholdFrom(options: AccountsOptions): number {
  const env = process.env['IMS_SANCTIONS_REVIEW_THRESHOLD'];
  const t = options.sanctionsReviewThreshold ?? (env !== undefined && env !== '' ? Number(env) : DEFAULT_SANCTIONS_REVIEW_THRESHOLD);
  if (!(t > 0 && t <= 1)) throw new RangeError(`the sanctions review threshold must be in (0, 1], got ${t}`);
  return t;
}

function sanctionsFrom(options: AccountsOptions): SanctionsList {
  if (options.sanctions !== undefined) return options.sanctions;
  return SanctionsList.load(options.sanctionsFile ?? (process.env['IMS_SANCTIONS_FILE'] || defaultSanctionsFile()));
}

export class Accounts {
  private readonly ctx: AccountsContext;
  private readonly onboarding: Onboarding;
  private readonly credentials: Credentials;
  private readonly suspension: AccountSuspension;
  private readonly roleChange: AccountRoleChange;

  /** Opens (and migrates) the store, then the module over it; close() closes both. */
  static async open(storeOptions: OpenAccountStoreOptions, options: AccountsOptions = {}): Promise<Accounts> {
    const sanctions = sanctionsFrom(options);
    const store = await openAccountStore({ ...storeOptions, clock: options.clock ?? storeOptions.clock });
    return new Accounts(store, { ...options, sanctions });
  }

  /** The module over a store that is already open and migrated. */
  constructor(
    readonly store: AccountStore,
    options: AccountsOptions = {},
  ) {
    this.ctx = {
      store,
      clock: options.clock ?? systemClock,
      hasher: new PasswordHasher(options.unsafeLowCostScryptParamsForTests === undefined ? {} : { unsafeLowCostParamsForTests: options.unsafeLowCostScryptParamsForTests }),
      kyc: { sanctions: sanctionsFrom(options), reviewThreshold: thresholdFrom(options) },
      onOutboxEvent: options.onOutboxEvent ?? (() => undefined),
    };
    this.onboarding = new Onboarding(this.ctx);
    this.credentials = new Credentials(this.ctx);
    this.suspension = new AccountSuspension(this.ctx);
    this.roleChange = new AccountRoleChange(this.ctx);
  }

  get clock(): Clock {
    return this.ctx.clock;
  }

  /** The scrypt cost new password hashes get (the OWASP cost unless a test lowered it). */
  get scryptParams(): ScryptParams {
    return this.ctx.hasher.params;
  }

  get sanctionsList(): SanctionsList {
    return this.ctx.kyc.sanctions;
  }

  /** Swaps in a new sanctions list (the operator replaced the file); later decisions use it. */
  reloadSanctionsList(file?: string): SanctionsList {
    const sanctions = SanctionsList.load(file ?? this.ctx.kyc.sanctions.source);
    this.ctx.kyc = { ...this.ctx.kyc, sanctions };
    return sanctions;
  }

  // --- onboarding and KYC --------------------------------------------------------------------------

  /** An application (untrusted JSON, see ApplicationInput), decided at once: approved, rejected or pending_review. */
  apply(input: unknown, actor?: Actor): Promise<AccountsResult<ApplicationOutcome>> {
    return this.onboarding.apply(input, actor);
  }

  /** Several applications, hashed side by side and committed in order (bulk staff onboarding, demo seeding). */
  applyMany(inputs: readonly unknown[], actor?: Actor): Promise<AccountsResult<ApplicationOutcome>[]> {
    return this.onboarding.applyMany(inputs, actor);
  }

  listPendingReviews(actor: Actor, page?: Page): Promise<AccountsResult<PendingReview[]>> {
    return this.onboarding.listPendingReviews(actor, page);
  }

  approveApplication(actor: Actor, applicationId: number, note?: string): Promise<AccountsResult<ApplicationOutcome>> {
    return this.onboarding.approve(actor, applicationId, note);
  }

  rejectApplication(actor: Actor, applicationId: number, reason: string): Promise<AccountsResult<ApplicationOutcome>> {
    return this.onboarding.reject(actor, applicationId, reason);
  }

  auditTrail(actor: Actor, of: { applicationId: number } | { accountId: number }, page?: Page): Promise<AccountsResult<AuditEntry[]>> {
    return this.onboarding.auditTrail(actor, of, page);
  }

  // --- credentials ---------------------------------------------------------------------------------

  login(username: unknown, password: unknown, clientNote?: string): Promise<AccountsResult<LoginSuccess>> {
    return this.credentials.login(username, password, clientNote);
  }

  authenticateSession(token: string): Promise<AccountsResult<Principal>> {
    return this.credentials.authenticateSession(token);
  }

  authenticateApiKey(key: string): Promise<AccountsResult<Principal>> {
    return this.credentials.authenticateApiKey(key);
  }

  /** A bearer credential of either kind (session token `imss_…` or API key `imsk_…`). */
  authenticate(bearer: string): Promise<AccountsResult<Principal>> {
    if (typeof bearer === 'string' && bearer.startsWith(API_KEY_PREFIX)) return this.credentials.authenticateApiKey(bearer);
    if (typeof bearer === 'string' && bearer.startsWith(SESSION_TOKEN_PREFIX)) return this.credentials.authenticateSession(bearer);
    return Promise.resolve(fail('session_invalid', 'send a session token (imss_…) or an API key (imsk_…) as the bearer credential'));
  }

  logout(token: string): Promise<AccountsResult<void>> {
    return this.credentials.logout(token);
  }

  logoutEverywhere(principal: Principal): Promise<AccountsResult<number>> {
    return this.credentials.logoutEverywhere(principal);
  }

  changePassword(principal: Principal, currentPassword: unknown, newPassword: unknown): Promise<AccountsResult<void>> {
    return this.credentials.changePassword(principal, currentPassword, newPassword);
  }

  createApiKey(principal: Principal, label: unknown): Promise<AccountsResult<ApiKeyCreated>> {
    return this.credentials.createApiKey(principal, label);
  }

  listApiKeys(principal: Principal): Promise<AccountsResult<ApiKeyInfo[]>> {
    return this.credentials.listApiKeys(principal);
  }

  revokeApiKey(principal: Principal, keyId: number): Promise<AccountsResult<void>> {
    return this.credentials.revokeApiKey(principal, keyId);
  }

  // --- account state -------------------------------------------------------------------------------

  suspendAccount(actor: Actor, accountId: number, reason: string): Promise<AccountsResult<SuspensionOutcome>> {
    return this.suspension.suspend(actor, accountId, reason);
  }

  reinstateAccount(actor: Actor, accountId: number, reason: string): Promise<AccountsResult<{ accountId: number }>> {
    return this.suspension.reinstate(actor, accountId, reason);
  }

  unlockAccount(actor: Actor, accountId: number): Promise<AccountsResult<void>> {
    return this.suspension.unlock(actor, accountId);
  }

  /**
   * An administrator gives an account another role ({role, outletId when colleague, reason}); the
   * account's sessions and API keys are revoked and AccountRoleChanged goes to the outbox.
   */
  changeAccountRole(actor: Actor, accountId: number, request: RoleChangeRequest): Promise<AccountsResult<RoleChangeOutcome>> {
    return this.roleChange.change(actor, accountId, request);
  }

  /** An account's summary: one's own, or any for staff (admin, risk admin, operator). */
  async getAccount(actor: Actor, accountId: number): Promise<AccountsResult<AccountSummary>> {
    const staff = actor.kind === 'system' || actor.role === 'admin' || actor.role === 'risk_admin' || actor.role === 'operator';
    if (!staff && actor.accountId !== accountId) return fail('not_found', `you have no account ${accountId}`);
    const row = await accountById(this.store, accountId);
    if (row === undefined) return fail('not_found', `there is no account ${accountId}`);
    return ok({
      accountId,
      username: row.username,
      role: roleNameOf(row.role),
      outletId: row.outlet_id,
      legalName: row.legal_name,
      suspended: row.suspended_at_ms !== null,
      approvedAtMs: row.decided_at_ms,
    });
  }

  // --- outbox --------------------------------------------------------------------------------------

  /** Undelivered AccountOpened / AccountSuspended / AccountRoleChanged events, oldest first. */
  readOutbox(limit = MAX_OUTBOX_BATCH): Promise<OutboxEvent[]> {
    return readUndelivered(this.store, limit);
  }

  /** Marks an event delivered (after the bus took it); false when it already was. */
  markOutboxDelivered(outboxId: number): Promise<boolean> {
    return markDelivered(this.store, outboxId, this.ctx.clock.nowMs());
  }

  /**
   * Hands undelivered events to `sink` in order and marks each one the sink accepted; stops at the
   * first it refuses (back-pressure). With `holder`, first takes the forwarding lease, so only one
   * of several processes sharing the store forwards.
   */
  async forwardOutbox(sink: OutboxSink, options: { holder?: string; limit?: number; leaseMs?: number } = {}): Promise<ForwardResult> {
    if (options.holder !== undefined && !(await acquireForwarderLease(this.store, options.holder, this.ctx.clock.nowMs(), options.leaseMs))) {
      return { forwarded: 0, leaseHeld: false };
    }
    let forwarded = 0;
    for (const event of await readUndelivered(this.store, options.limit)) {
      if (!(await sink(event))) break;
      await markDelivered(this.store, event.outboxId, this.ctx.clock.nowMs());
      forwarded++;
    }
    return { forwarded, leaseHeld: true };
  }

  releaseOutboxLease(holder: string): Promise<void> {
    return releaseForwarderLease(this.store, holder);
  }

  // --- housekeeping --------------------------------------------------------------------------------

  /** Deletes sessions that ended more than SESSION_RETENTION_MS ago (at most a bounded batch per call). */
  async purgeEndedSessions(): Promise<number> {
    const before = this.ctx.clock.nowMs() - SESSION_RETENTION_MS;
    return this.store.run('DELETE FROM sessions WHERE session_id IN (SELECT session_id FROM sessions WHERE expires_at_ms < ? ORDER BY expires_at_ms LIMIT ?)', [
      before,
      MAX_SESSIONS_PURGED_PER_CALL,
    ]);
  }

  close(): Promise<void> {
    return this.store.close();
  }
}
