// The automated KYC decision, run the moment an application arrives. It is a pure function of the
// application, the decision date and the sanctions list, so every decision can be re-derived from
// what the audit trail recorded.
//
//   hard failures (any one rejects):  under age on the decision date, document expired (a document
//                                     is valid through its expiry date), document number format or
//                                     check digit wrong, an exact sanctions hit;
//   otherwise a sanctions score at or above the threshold sends the application to manual review;
//   otherwise it is approved.

import { MIN_APPLICANT_AGE_YEARS } from './account-limits';
import { ageInYears, anniversary, compareDates, formatIsoDate, type CalendarDate } from './calendar-date';
import { checkDocumentNumber } from './document-number';
import type { Application } from './application-validation';
import type { SanctionsList, SanctionsMatch } from './sanctions-list';

export type KycStatus = 'approved' | 'rejected' | 'pending_review';

export type KycReasonCode =
  | 'under_age'
  | 'document_expired'
  | 'document_number_format'
  | 'document_check_digit'
  | 'mrz_check_digit'
  | 'mrz_mismatch'
  | 'sanctions_match'
  | 'sanctions_possible_match'
  /** An administrator refused the application in the review queue. */
  | 'rejected_on_review';

export interface KycReason {
  readonly code: KycReasonCode;
  readonly detail: string;
}

export interface KycDecision {
  readonly status: KycStatus;
  /** Why it was rejected or sent to review (empty when approved). */
  readonly reasons: readonly KycReason[];
  /** The sanctions matches behind a review or rejection, for the reviewer. */
  readonly sanctionsMatches: readonly SanctionsMatch[];
  /** The best sanctions score found (kept even when below the threshold). */
  readonly sanctionsBestScore: number;
  readonly decisionDate: string;
  readonly sanctionsSource: string;
  readonly threshold: number;
}

export interface KycConfig {
  readonly sanctions: SanctionsList;
  /** Score at or above which a name goes to manual review (0 < threshold <= 1). */
  readonly reviewThreshold: number;
}

export function decideKyc(app: Application, decisionDate: CalendarDate, config: KycConfig): KycDecision {
  const reasons: KycReason[] = [];

  if (ageInYears(app.dateOfBirth, decisionDate) < MIN_APPLICANT_AGE_YEARS) {
    const eligibleOn = formatIsoDate(anniversary(app.dateOfBirth, MIN_APPLICANT_AGE_YEARS));
    reasons.push({ code: 'under_age', detail: `an account holder must be at least ${MIN_APPLICANT_AGE_YEARS}; you may apply from ${eligibleOn}` });
  }
  if (compareDates(app.documentExpiry, decisionDate) < 0) {
    reasons.push({ code: 'document_expired', detail: `the ${app.documentType} expired on ${formatIsoDate(app.documentExpiry)}; apply with a valid document` });
  }
  for (const p of checkDocumentNumber(app.documentType, app.documentNumber, app.dateOfBirth, app.documentExpiry)) reasons.push(p);

  const screening = config.sanctions.screen(app.legalName, config.reviewThreshold);
  let sanctionsMatches: readonly SanctionsMatch[] = screening.possible;
  if (screening.exact !== undefined) {
    sanctionsMatches = [screening.exact, ...screening.possible];
    reasons.push({ code: 'sanctions_match', detail: `the legal name matches sanctions list entry ${screening.exact.entryId}` });
  }

  let status: KycStatus;
  if (reasons.length > 0) {
    status = 'rejected';
  } else if (screening.possible.length > 0) {
    status = 'pending_review';
    const best = screening.possible[0]!;
    reasons.push({
      code: 'sanctions_possible_match',
      detail: `the legal name resembles sanctions list entry ${best.entryId} (score ${best.score}); an administrator will review the application`,
    });
  } else {
    status = 'approved';
  }
  return {
    status,
    reasons,
    sanctionsMatches,
    sanctionsBestScore: screening.bestScore,
    decisionDate: formatIsoDate(decisionDate),
    sanctionsSource: config.sanctions.source,
    threshold: config.reviewThreshold,
  };
}
