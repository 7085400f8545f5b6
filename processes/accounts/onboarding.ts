// Onboarding: an application is validated, decided by the automated KYC checks at once, stored with
// its decision and audit entry, and (when approved) given a bus account id and an AccountOpened
// outbox event, all in one transaction. Applications the screening could not clear wait in the
// review queue for an administrator, whose decision is audited the same way.

import { MAX_PAGE_ROWS, MAX_REVIEW_NOTE_CHARS } from './account-limits';
import { appendAudit, normaliseRow, type AccountRow, type AccountsContext, type AuditAction } from './accounts-context';
import { appendOutboxEvent, nextAccountId, type OutboxEvent } from './account-outbox';
import { formatIsoDate, utcDateOf } from './calendar-date';
import { validateApplication, type Address, type Application } from './application-validation';
import { fail, ok, type AccountsResult } from './errors';
import { decideKyc, type KycDecision, type KycReason, type KycStatus } from './kyc-checks';
import { HASHER_BUSY } from './password-hashing';
import { actorLabel, actorMay, KYC_SYSTEM_ACTOR, type Actor } from './principal';
import { mayCreateStaffAccounts, mayReviewApplications, roleNameOf, ROLE_CODE, type RoleName } from './roles';
import type { SanctionsMatch } from './sanctions-list';
import { isUniqueViolation, type SqlExecutor } from './sql-store';

export interface ApplicationOutcome {
  readonly applicationId: number;
  readonly username: string;
  readonly status: KycStatus;
  /** The bus account id, once approved. */
  readonly accountId: number | null;
  readonly reasons: readonly KycReason[];
}

export interface PendingReview {
  readonly applicationId: number;
  readonly username: string;
  readonly role: RoleName;
  readonly outletId: number;
  readonly legalName: string;
  readonly dateOfBirth: string;
  readonly documentType: string;
  readonly documentNumber: string;
  readonly documentExpiry: string;
  readonly address: Address;
  readonly submittedAtMs: number;
  readonly reasons: readonly KycReason[];
  readonly sanctionsMatches: readonly SanctionsMatch[];
}

export interface AuditEntry {
  readonly auditId: number;
  readonly applicationId: number;
  readonly accountId: number | null;
  readonly action: string;
  readonly detail: Record<string, unknown>;
  /** `system:kyc` or `account:<id>:<username>`. */
  readonly actor: string;
  readonly actorAccountId: number | null;
  readonly atMs: number;
}

export interface Page {
  /** Return rows after this id (the last id of the previous page). */
  readonly after?: number;
  /** At most MAX_PAGE_ROWS. */
  readonly limit?: number;
}

interface PreparedApplication {
  readonly app: Application;
  readonly decision: KycDecision;
  readonly passwordHash: string;
  readonly nowMs: number;
  readonly actor: Actor | undefined;
}

const AUTO_DECISION_ACTION: Readonly<Record<KycStatus, AuditAction>> = Object.freeze({
  approved: 'kyc_auto_approved',
  rejected: 'kyc_auto_rejected',
  pending_review: 'kyc_auto_pending_review',
});

/** What the kyc_reasons_json column holds. */
interface StoredKycDetail {
  reasons: KycReason[];
  sanctionsMatches: SanctionsMatch[];
}

function pageOf(page: Page): { after: number; limit: number } {
  const limit = Math.max(1, Math.min(MAX_PAGE_ROWS, Math.floor(page.limit ?? MAX_PAGE_ROWS)));
  const after = Number.isSafeInteger(page.after) ? (page.after as number) : 0;
  return { after, limit };
}

export class Onboarding {
  constructor(private readonly ctx: AccountsContext) {}

  /**
   * Takes an application (untrusted JSON) and decides it at once. Colleagues apply for themselves
   * (no actor); other roles are created by an administrator or the system.
   */
  async apply(input: unknown, actor?: Actor): Promise<AccountsResult<ApplicationOutcome>> {
    const prepared = await this.prepare(input, actor);
    return prepared.ok ? this.commit(prepared.value) : prepared;
  }

  /**
   * Applies several applications: the expensive password hashes run side by side (within the
   * hasher's concurrency bound), the decisions commit one by one in the given order, so account
   * ids follow the input order.
   */
  async applyMany(inputs: readonly unknown[], actor?: Actor): Promise<AccountsResult<ApplicationOutcome>[]> {
    const prepared = await Promise.all(inputs.map((input) => this.prepare(input, actor)));
    const out: AccountsResult<ApplicationOutcome>[] = [];
    for (const p of prepared) out.push(p.ok ? await this.commit(p.value) : p);
    return out;
  }

  /** Validation, the KYC decision and the password hash: everything before the transaction. */
  private async prepare(input: unknown, actor: Actor | undefined): Promise<AccountsResult<PreparedApplication>> {
    const nowMs = this.ctx.clock.nowMs();
    const today = utcDateOf(nowMs);
    const validated = validateApplication(input, today);
    if (!validated.ok) {
      const fields = validated.fields;
      if (fields.every((f) => f.code === 'password_too_weak')) return fail('password_too_weak', fields.map((f) => f.detail).join('; '), { fields });
      return fail('validation_failed', `${fields.length} field(s) need correcting: ${fields.map((f) => f.field).join(', ')}`, { fields });
    }
    const app = validated.application;
    if (app.role !== 'colleague' && (actor === undefined || !actorMay(actor, mayCreateStaffAccounts))) {
      return fail('forbidden', `only an administrator can create a ${app.role} account; apply as a colleague or ask an administrator`);
    }
    // Checked before the expensive hash so a taken name answers at once; the unique index still
    // decides a race between two applications for the same name.
    if (await this.usernameIsLive(app.username)) return this.usernameTaken(app.username);
    const decision = decideKyc(app, today, this.ctx.kyc);
    const passwordHash = await this.ctx.hasher.hash(app.password);
    if (passwordHash === HASHER_BUSY) return fail('server_busy', 'too many sign-ups and logins at once; try again in a few seconds', { retryAfterMs: 2_000 });
    return ok({ app, decision, passwordHash, nowMs, actor });
  }

  /** Stores a prepared application with its decision, account id, outbox event and audit entry. */
  private async commit(p: PreparedApplication): Promise<AccountsResult<ApplicationOutcome>> {
    const { app, decision, passwordHash, nowMs, actor } = p;
    const stored: StoredKycDetail = { reasons: [...decision.reasons], sanctionsMatches: [...decision.sanctionsMatches] };
    const roleCode = ROLE_CODE[app.role];
    let opened: OutboxEvent | undefined;
    try {
      const outcome = await this.ctx.store.transaction(async (tx) => {
        const inserted = await tx.get<{ application_id: number }>(
          `INSERT INTO accounts (username, password_hash, role, outlet_id, legal_name, date_of_birth, document_type, document_number,
             document_expiry, address_json, kyc_status, kyc_reasons_json, submitted_at_ms, decided_at_ms, password_changed_at_ms)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING application_id`,
          [
            app.username,
            passwordHash,
            roleCode,
            app.outletId,
            app.legalName,
            formatIsoDate(app.dateOfBirth),
            app.documentType,
            app.documentNumber,
            formatIsoDate(app.documentExpiry),
            JSON.stringify(app.address),
            decision.status,
            JSON.stringify(stored),
            nowMs,
            decision.status === 'pending_review' ? null : nowMs,
            nowMs,
          ],
        );
        const applicationId = Number(inserted!.application_id);
        let accountId: number | null = null;
        if (decision.status === 'approved') {
          accountId = await nextAccountId(tx);
          await tx.run('UPDATE accounts SET account_id = ? WHERE application_id = ?', [accountId, applicationId]);
          opened = await appendOutboxEvent(tx, { kind: 'account_opened', accountId, outletId: app.outletId, role: roleCode, createdAtMs: nowMs });
        }
        await appendAudit(tx, {
          applicationId,
          accountId,
          action: AUTO_DECISION_ACTION[decision.status],
          detail: {
            reasons: decision.reasons,
            sanctionsMatches: decision.sanctionsMatches,
            sanctionsBestScore: decision.sanctionsBestScore,
            sanctionsSource: decision.sanctionsSource,
            threshold: decision.threshold,
            decisionDate: decision.decisionDate,
            role: app.role,
            requestedBy: actor === undefined ? 'applicant' : actorLabel(actor),
          },
          actor: KYC_SYSTEM_ACTOR,
          atMs: nowMs,
        });
        return { applicationId, username: app.username, status: decision.status, accountId, reasons: decision.reasons };
      });
      if (opened !== undefined) this.ctx.onOutboxEvent(opened);
      return ok(outcome);
    } catch (err) {
      if (isUniqueViolation(err)) return this.usernameTaken(app.username);
      throw err;
    }
  }

  /** Applications waiting for an administrator, oldest first. */
  async listPendingReviews(actor: Actor, page: Page = {}): Promise<AccountsResult<PendingReview[]>> {
    if (!actorMay(actor, mayReviewApplications)) return fail('forbidden', 'only an administrator can see the KYC review queue');
    const { after, limit } = pageOf(page);
    const rows = await this.ctx.store.all<AccountRow>("SELECT * FROM accounts WHERE kyc_status = 'pending_review' AND application_id > ? ORDER BY application_id LIMIT ?", [after, limit]);
    return ok(
      rows.map((raw) => {
        const r = normaliseRow(raw)!;
        const detail = JSON.parse(r.kyc_reasons_json) as StoredKycDetail;
        return {
          applicationId: r.application_id,
          username: r.username,
          role: roleNameOf(r.role),
          outletId: r.outlet_id,
          legalName: r.legal_name,
          dateOfBirth: r.date_of_birth,
          documentType: r.document_type,
          documentNumber: r.document_number,
          documentExpiry: r.document_expiry,
          address: JSON.parse(r.address_json) as Address,
          submittedAtMs: r.submitted_at_ms,
          reasons: detail.reasons,
          sanctionsMatches: detail.sanctionsMatches,
        };
      }),
    );
  }

  /** An administrator clears a pending application: it gets its account id and AccountOpened. */
  async approve(actor: Actor, applicationId: number, note = ''): Promise<AccountsResult<ApplicationOutcome>> {
    if (!actorMay(actor, mayReviewApplications)) return fail('forbidden', 'only an administrator can decide KYC reviews');
    const noteProblem = this.textProblem('note', note, 0);
    if (noteProblem !== undefined) return noteProblem;
    const nowMs = this.ctx.clock.nowMs();
    let opened: OutboxEvent | undefined;
    const result = await this.ctx.store.transaction(async (tx): Promise<AccountsResult<ApplicationOutcome>> => {
      // The conditional update decides a race between two reviewers: only one changes the row.
      const claimed = await tx.get<AccountRow>(
        "UPDATE accounts SET kyc_status = 'approved', decided_at_ms = ? WHERE application_id = ? AND kyc_status = 'pending_review' RETURNING *",
        [nowMs, applicationId],
      );
      if (claimed === undefined) return this.notPending(tx, applicationId);
      const row = normaliseRow(claimed)!;
      const accountId = await nextAccountId(tx);
      await tx.run('UPDATE accounts SET account_id = ? WHERE application_id = ?', [accountId, applicationId]);
      opened = await appendOutboxEvent(tx, { kind: 'account_opened', accountId, outletId: row.outlet_id, role: row.role, createdAtMs: nowMs });
      await appendAudit(tx, { applicationId, accountId, action: 'kyc_manual_approved', detail: { note }, actor, atMs: nowMs });
      return ok({ applicationId, username: row.username, status: 'approved', accountId, reasons: [] });
    });
    if (opened !== undefined) this.ctx.onOutboxEvent(opened);
    return result;
  }

  /** An administrator refuses a pending application; the reason is kept and shown to the applicant at login. */
  async reject(actor: Actor, applicationId: number, reason: string): Promise<AccountsResult<ApplicationOutcome>> {
    if (!actorMay(actor, mayReviewApplications)) return fail('forbidden', 'only an administrator can decide KYC reviews');
    const reasonProblem = this.textProblem('reason', reason, 1);
    if (reasonProblem !== undefined) return reasonProblem;
    const nowMs = this.ctx.clock.nowMs();
    return this.ctx.store.transaction(async (tx): Promise<AccountsResult<ApplicationOutcome>> => {
      const current = normaliseRow(await tx.get<AccountRow>("SELECT * FROM accounts WHERE application_id = ? AND kyc_status = 'pending_review'", [applicationId]));
      if (current === undefined) return this.notPending(tx, applicationId);
      const detail = JSON.parse(current.kyc_reasons_json) as StoredKycDetail;
      const reasons: KycReason[] = [{ code: 'rejected_on_review', detail: `rejected on review: ${reason.trim()}` }];
      const changed = await tx.run("UPDATE accounts SET kyc_status = 'rejected', decided_at_ms = ?, kyc_reasons_json = ? WHERE application_id = ? AND kyc_status = 'pending_review'", [
        nowMs,
        JSON.stringify({ ...detail, reasons: [...detail.reasons, ...reasons] }),
        applicationId,
      ]);
      if (changed !== 1) return this.notPending(tx, applicationId);
      await appendAudit(tx, { applicationId, accountId: null, action: 'kyc_manual_rejected', detail: { reason: reason.trim() }, actor, atMs: nowMs });
      return ok({ applicationId, username: current.username, status: 'rejected', accountId: null, reasons });
    });
  }

  /** Every audited decision about one application (or the account it became), oldest first. */
  async auditTrail(actor: Actor, of: { applicationId: number } | { accountId: number }, page: Page = {}): Promise<AccountsResult<AuditEntry[]>> {
    if (!actorMay(actor, mayReviewApplications)) return fail('forbidden', 'only an administrator can read the audit trail');
    const { after, limit } = pageOf(page);
    const [column, id] = 'applicationId' in of ? ['application_id', of.applicationId] : ['account_id', of.accountId];
    const rows = await this.ctx.store.all<{
      audit_id: number;
      application_id: number;
      account_id: number | null;
      action: string;
      detail_json: string;
      actor: string;
      actor_account_id: number | null;
      at_ms: number;
    }>(
      column === 'application_id'
        ? 'SELECT * FROM account_audit WHERE application_id = ? AND audit_id > ? ORDER BY audit_id LIMIT ?'
        : 'SELECT * FROM account_audit WHERE application_id = (SELECT application_id FROM accounts WHERE account_id = ?) AND audit_id > ? ORDER BY audit_id LIMIT ?',
      [id, after, limit],
    );
    return ok(
      rows.map((r) => ({
        auditId: Number(r.audit_id),
        applicationId: Number(r.application_id),
        accountId: r.account_id === null ? null : Number(r.account_id),
        action: r.action,
        detail: JSON.parse(r.detail_json) as Record<string, unknown>,
        actor: r.actor,
        actorAccountId: r.actor_account_id === null ? null : Number(r.actor_account_id),
        atMs: Number(r.at_ms),
      })),
    );
  }

  private async usernameIsLive(username: string): Promise<boolean> {
    return (await this.ctx.store.get("SELECT 1 AS taken FROM accounts WHERE username = ? AND kyc_status <> 'rejected'", [username])) !== undefined;
  }

  private usernameTaken(username: string): AccountsResult<never> {
    return fail('username_taken', `the username '${username}' is taken; choose another`, {
      fields: [{ field: 'username', code: 'username_taken', detail: `'${username}' is taken; choose another` }],
    });
  }

  private async notPending(tx: SqlExecutor, applicationId: number): Promise<AccountsResult<never>> {
    const row = await tx.get<{ kyc_status: string }>('SELECT kyc_status FROM accounts WHERE application_id = ?', [applicationId]);
    if (row === undefined) return fail('not_found', `there is no application ${applicationId}`);
    return fail('not_pending_review', `application ${applicationId} is already ${row.kyc_status}; only pending applications can be decided`);
  }

  private textProblem(field: string, value: unknown, min: number): AccountsResult<never> | undefined {
    if (typeof value !== 'string') return fail('validation_failed', `${field} must be a string`, { fields: [{ field, code: 'invalid_type', detail: `${field} must be a string` }] });
    const n = [...value.trim()].length;
    if (n < min) return fail('validation_failed', `${field} is required`, { fields: [{ field, code: 'required', detail: `give a ${field} (it is kept in the audit trail)` }] });
    if (n > MAX_REVIEW_NOTE_CHARS) return fail('validation_failed', `${field} is too long`, { fields: [{ field, code: 'too_long', detail: `${field} takes at most ${MAX_REVIEW_NOTE_CHARS} characters` }] });
    return undefined;
  }
}
