// Field-level validation of an onboarding application. Every problem is reported at once as
// {field, code, detail} so a kiosk form can mark all wrong fields in one round trip; the gateway
// answers them as 400 validation_failed. Only shape and syntax are checked here. Whether the
// applicant may have an account (age, document validity, check digits, sanctions) is the automated
// KYC decision, which is recorded in the audit trail.

import {
  MAX_ADDRESS_LINE_CHARS,
  MAX_APPLICANT_AGE_YEARS,
  MAX_CITY_CHARS,
  MAX_LEGAL_NAME_CHARS,
  MAX_OUTLET_ID,
  MAX_POSTAL_CODE_CHARS,
  MAX_USERNAME_CHARS,
  MIN_USERNAME_CHARS,
} from './account-limits';
import { ageInYears, compareDates, parseIsoDate, type CalendarDate } from './calendar-date';
import { isDocumentType, normaliseDocumentNumber, DOCUMENT_TYPES, type DocumentType } from './document-number';
import type { FieldError } from './errors';
import { passwordProblems } from './password-policy';
import { isRoleName, roleNeedsOutlet, ROLE_NAMES, type RoleName } from './roles';

/** What a client sends to apply (JSON). `role` defaults to colleague; other roles need an admin. */
export interface ApplicationInput {
  legalName: string;
  /** `YYYY-MM-DD`. */
  dateOfBirth: string;
  /** The outlet a colleague trades for (1..2^32-1); staff roles leave it out or send 0. */
  outletId?: number;
  document: {
    type: DocumentType;
    /** See document-number.ts for what is accepted per type. */
    number: string;
    /** `YYYY-MM-DD`, the last day the document is valid. */
    expiryDate: string;
  };
  address: {
    line1: string;
    line2?: string;
    city: string;
    postalCode: string;
    /** ISO 3166-1 alpha-2, e.g. `GB`. */
    country: string;
  };
  username: string;
  password: string;
  role?: RoleName;
}

export interface Address {
  readonly line1: string;
  readonly line2: string;
  readonly city: string;
  readonly postalCode: string;
  readonly country: string;
}

/** An application that passed validation, with every field normalised. */
export interface Application {
  readonly legalName: string;
  readonly dateOfBirth: CalendarDate;
  readonly outletId: number;
  readonly documentType: DocumentType;
  readonly documentNumber: string;
  readonly documentExpiry: CalendarDate;
  readonly address: Address;
  readonly username: string;
  readonly password: string;
  readonly role: RoleName;
}

export const USERNAME_PATTERN = /^[a-z][a-z0-9._-]*$/;
const LEGAL_NAME_PATTERN = /^[\p{L}\p{M}][\p{L}\p{M} '’.-]*$/u;
const CONTROL_CHARS = /[\p{Cc}\p{Cf}]/u;
const POSTAL_CODE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9 -]*$/;
const COUNTRY_PATTERN = /^[A-Z]{2}$/;
const MAX_DOCUMENT_NUMBER_INPUT_CHARS = 64;

const TOP_FIELDS = new Set(['legalName', 'dateOfBirth', 'outletId', 'document', 'address', 'username', 'password', 'role']);
const DOCUMENT_FIELDS = new Set(['type', 'number', 'expiryDate']);
const ADDRESS_FIELDS = new Set(['line1', 'line2', 'city', 'postalCode', 'country']);

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

class FieldErrors {
  readonly list: FieldError[] = [];
  add(field: string, code: string, detail: string): void {
    this.list.push({ field, code, detail });
  }

  /** A trimmed string with single spaces, or undefined (after recording why). */
  text(obj: Record<string, unknown>, key: string, field: string, min: number, max: number, optional = false): string | undefined {
    const v = obj[key];
    if (v === undefined || v === null) {
      if (!optional) this.add(field, 'required', `${field} is required`);
      return undefined;
    }
    if (typeof v !== 'string') {
      this.add(field, 'invalid_type', `${field} must be a string`);
      return undefined;
    }
    if (CONTROL_CHARS.test(v)) {
      this.add(field, 'invalid_format', `${field} must not contain control characters`);
      return undefined;
    }
    const s = v.trim().replace(/\s+/g, ' ');
    const n = [...s].length;
    if (n < min) {
      this.add(field, n === 0 ? 'required' : 'too_short', n === 0 ? `${field} is required` : `${field} needs at least ${min} characters`);
      return undefined;
    }
    if (n > max) {
      this.add(field, 'too_long', `${field} takes at most ${max} characters`);
      return undefined;
    }
    return s;
  }

  date(obj: Record<string, unknown>, key: string, field: string): CalendarDate | undefined {
    const s = this.text(obj, key, field, 1, 10);
    if (s === undefined) return undefined;
    const d = parseIsoDate(s);
    if (d === undefined) this.add(field, 'invalid_date', `${field} must be a real date written YYYY-MM-DD, got '${s}'`);
    return d;
  }

  unknownFields(obj: Record<string, unknown>, allowed: ReadonlySet<string>, prefix: string): void {
    for (const key of Object.keys(obj)) {
      if (!allowed.has(key)) this.add(prefix + key, 'unknown_field', `'${prefix + key}' is not a field of an application; remove it`);
    }
  }
}

/**
 * Validates and normalises an application. `today` (UTC date of the decision clock) bounds the
 * date of birth. Returns the application or every field problem found.
 */
export function validateApplication(input: unknown, today: CalendarDate): { ok: true; application: Application } | { ok: false; fields: FieldError[] } {
  const e = new FieldErrors();
  if (!isPlainObject(input)) return { ok: false, fields: [{ field: '', code: 'invalid_type', detail: 'an application is a JSON object' }] };
  e.unknownFields(input, TOP_FIELDS, '');

  const legalName = e.text(input, 'legalName', 'legalName', 2, MAX_LEGAL_NAME_CHARS);
  if (legalName !== undefined && !LEGAL_NAME_PATTERN.test(legalName)) {
    e.add('legalName', 'invalid_format', 'legalName holds letters, spaces, apostrophes, hyphens and periods, and starts with a letter');
  }

  const dateOfBirth = e.date(input, 'dateOfBirth', 'dateOfBirth');
  if (dateOfBirth !== undefined) {
    if (compareDates(dateOfBirth, today) > 0) e.add('dateOfBirth', 'date_in_future', 'dateOfBirth is in the future');
    else if (ageInYears(dateOfBirth, today) > MAX_APPLICANT_AGE_YEARS) e.add('dateOfBirth', 'out_of_range', `dateOfBirth is more than ${MAX_APPLICANT_AGE_YEARS} years ago; check the year`);
  }

  let role: RoleName = 'colleague';
  if (input['role'] !== undefined) {
    if (isRoleName(input['role'])) role = input['role'];
    else e.add('role', 'invalid_value', `role is one of ${ROLE_NAMES.join(', ')}`);
  }

  let outletId = 0;
  const rawOutlet = input['outletId'];
  if (roleNeedsOutlet(role)) {
    if (rawOutlet === undefined || rawOutlet === null) e.add('outletId', 'required', 'outletId (the outlet you trade for) is required');
    else if (typeof rawOutlet !== 'number' || !Number.isInteger(rawOutlet)) e.add('outletId', 'invalid_type', 'outletId must be an integer');
    else if (rawOutlet < 1 || rawOutlet > MAX_OUTLET_ID) e.add('outletId', 'out_of_range', `outletId is between 1 and ${MAX_OUTLET_ID}`);
    else outletId = rawOutlet;
  } else if (rawOutlet !== undefined && rawOutlet !== 0) {
    e.add('outletId', 'invalid_value', `a ${role} account belongs to no outlet; leave outletId out`);
  }

  let documentType: DocumentType | undefined;
  let documentNumber: string | undefined;
  let documentExpiry: CalendarDate | undefined;
  const doc = input['document'];
  if (!isPlainObject(doc)) {
    e.add('document', doc === undefined ? 'required' : 'invalid_type', 'document is an object {type, number, expiryDate}');
  } else {
    e.unknownFields(doc, DOCUMENT_FIELDS, 'document.');
    if (isDocumentType(doc['type'])) documentType = doc['type'];
    else e.add('document.type', doc['type'] === undefined ? 'required' : 'invalid_value', `document.type is one of ${DOCUMENT_TYPES.join(', ')}`);
    const rawNumber = e.text(doc, 'number', 'document.number', 1, MAX_DOCUMENT_NUMBER_INPUT_CHARS);
    if (rawNumber !== undefined && documentType !== undefined) documentNumber = normaliseDocumentNumber(documentType, rawNumber);
    documentExpiry = e.date(doc, 'expiryDate', 'document.expiryDate');
  }

  let address: Address | undefined;
  const addr = input['address'];
  if (!isPlainObject(addr)) {
    e.add('address', addr === undefined ? 'required' : 'invalid_type', 'address is an object {line1, line2?, city, postalCode, country}');
  } else {
    e.unknownFields(addr, ADDRESS_FIELDS, 'address.');
    const line1 = e.text(addr, 'line1', 'address.line1', 1, MAX_ADDRESS_LINE_CHARS);
    const line2 = e.text(addr, 'line2', 'address.line2', 0, MAX_ADDRESS_LINE_CHARS, true) ?? '';
    const city = e.text(addr, 'city', 'address.city', 1, MAX_CITY_CHARS);
    const postalCode = e.text(addr, 'postalCode', 'address.postalCode', 1, MAX_POSTAL_CODE_CHARS);
    if (postalCode !== undefined && !POSTAL_CODE_PATTERN.test(postalCode)) e.add('address.postalCode', 'invalid_format', 'address.postalCode holds letters, digits, spaces and hyphens');
    const rawCountry = e.text(addr, 'country', 'address.country', 2, 2);
    const country = rawCountry?.toUpperCase();
    if (country !== undefined && !COUNTRY_PATTERN.test(country)) e.add('address.country', 'invalid_format', 'address.country is an ISO 3166-1 alpha-2 code such as GB or US');
    if (line1 !== undefined && city !== undefined && postalCode !== undefined && country !== undefined) address = { line1, line2, city, postalCode: postalCode.toUpperCase(), country };
  }

  const rawUsername = e.text(input, 'username', 'username', MIN_USERNAME_CHARS, MAX_USERNAME_CHARS);
  const username = rawUsername?.toLowerCase();
  if (username !== undefined && !USERNAME_PATTERN.test(username)) {
    e.add('username', 'invalid_format', 'username starts with a letter and holds letters, digits, dots, hyphens and underscores');
  }

  // The password is taken exactly as typed (no trimming): spaces may be part of a passphrase.
  const password = input['password'];
  if (password === undefined) e.add('password', 'required', 'password is required');
  else if (typeof password !== 'string') e.add('password', 'invalid_type', 'password must be a string');
  else for (const p of passwordProblems(password, username ?? '')) e.list.push(p);

  if (e.list.length > 0) return { ok: false, fields: e.list };
  return {
    ok: true,
    application: {
      legalName: legalName!,
      dateOfBirth: dateOfBirth!,
      outletId,
      documentType: documentType!,
      documentNumber: documentNumber!,
      documentExpiry: documentExpiry!,
      address: address!,
      username: username!,
      password: password as string,
      role,
    },
  };
}
