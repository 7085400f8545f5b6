// Format and check-digit rules for identity document numbers, per document type.
//
// Passports (ICAO 9303 TD3). The applicant gives either
//   - the first 10 characters of MRZ line 2: the 9-character document number field (letters and
//     digits, padded on the right with '<' when shorter) followed by its 7-3-1 check digit, e.g.
//     `L898902C36` or `AB1234<<<7`; or
//   - the whole 44-character MRZ line 2, e.g. `L898902C36UTO7408122F1204159ZE184226B<<<<<10`. Then
//     every check digit of the line is verified (document number, date of birth, expiry, optional
//     data, composite) and the line's date of birth and expiry must agree with the application.
// Spaces are ignored and letters upper-cased. Passport numbers longer than 9 characters (which ICAO
// continues in the optional-data field) are not accepted; such applicants give a national id.
//
// National identity cards and driving licences have no common international check digit (each
// country has its own scheme), so only their shape is checked: 5 to 20 letters and digits,
// at least one digit; spaces and hyphens are ignored.

import { hasValidCheckDigit } from './mrz-check-digit';
import type { CalendarDate } from './calendar-date';

export type DocumentType = 'passport' | 'national_id' | 'driving_licence';
export const DOCUMENT_TYPES: readonly DocumentType[] = Object.freeze(['passport', 'national_id', 'driving_licence']);

export function isDocumentType(value: unknown): value is DocumentType {
  return typeof value === 'string' && (DOCUMENT_TYPES as readonly string[]).includes(value);
}

/** Why a document failed an automated KYC check. */
export interface DocumentProblem {
  readonly code: 'document_number_format' | 'document_check_digit' | 'mrz_check_digit' | 'mrz_mismatch';
  readonly detail: string;
}

export const PASSPORT_NUMBER_WITH_CHECK_DIGIT_CHARS = 10;
export const MRZ_LINE_CHARS = 44;
const PASSPORT_NUMBER_FIELD = /^[A-Z0-9]{1,9}<*$/;
const OTHER_DOCUMENT_NUMBER = /^(?=.*[0-9])[A-Z0-9]{5,20}$/;
const MRZ_LINE_2 = /^[A-Z0-9<]{44}$/;

/** Upper-cases and removes spaces (and hyphens for non-passport documents, where they are cosmetic). */
export function normaliseDocumentNumber(type: DocumentType, raw: string): string {
  const upper = raw.toUpperCase().replace(/\s+/g, '');
  return type === 'passport' ? upper : upper.replace(/-/g, '');
}

/**
 * Checks a normalised document number. `dateOfBirth` and `expiry` are the application's, for the
 * cross-check against a full MRZ line. An empty list means the number passed.
 */
export function checkDocumentNumber(type: DocumentType, number: string, dateOfBirth: CalendarDate, expiry: CalendarDate): DocumentProblem[] {
  if (type !== 'passport') {
    if (OTHER_DOCUMENT_NUMBER.test(number)) return [];
    return [{ code: 'document_number_format', detail: `a ${type} number is 5 to 20 letters and digits with at least one digit; got ${number.length} characters` }];
  }
  if (number.length === PASSPORT_NUMBER_WITH_CHECK_DIGIT_CHARS) return checkPassportNumberField(number.slice(0, 9), number[9]!);
  if (number.length === MRZ_LINE_CHARS) return checkMrzLine2(number, dateOfBirth, expiry);
  return [
    {
      code: 'document_number_format',
      detail: `a passport number is the first 10 characters of MRZ line 2 (9-character number padded with '<', then its check digit) or the whole 44-character line; got ${number.length} characters`,
    },
  ];
}

function checkPassportNumberField(field: string, checkDigit: string): DocumentProblem[] {
  if (!PASSPORT_NUMBER_FIELD.test(field) || !/^[0-9]$/.test(checkDigit)) {
    return [{ code: 'document_number_format', detail: `the passport number field '${field}' must be letters and digits padded on the right with '<', followed by one check digit` }];
  }
  if (!hasValidCheckDigit(field, checkDigit)) {
    return [{ code: 'document_check_digit', detail: `the check digit of passport number '${field}' is wrong; copy the number and the digit after it from the machine-readable zone` }];
  }
  return [];
}

function yymmdd(d: CalendarDate): string {
  return `${String(d.year % 100).padStart(2, '0')}${String(d.month).padStart(2, '0')}${String(d.day).padStart(2, '0')}`;
}

function checkMrzLine2(line: string, dateOfBirth: CalendarDate, expiry: CalendarDate): DocumentProblem[] {
  if (!MRZ_LINE_2.test(line)) return [{ code: 'document_number_format', detail: "an MRZ line holds only A-Z, 0-9 and '<'" }];
  const problems = checkPassportNumberField(line.slice(0, 9), line[9]!);
  const digitChecks: Array<[string, string, string]> = [
    ['date of birth', line.slice(13, 19), line[19]!],
    ['expiry date', line.slice(21, 27), line[27]!],
  ];
  // An optional-data field that is all filler may carry '<' as its check digit (ICAO 9303-4 4.2.2).
  const optional = line.slice(28, 42);
  const optionalDigit = line[42]!;
  if (!(optionalDigit === '<' && /^<+$/.test(optional))) digitChecks.push(['optional data', optional, optionalDigit]);
  const composite = line.slice(0, 10) + line.slice(13, 20) + line.slice(21, 43);
  digitChecks.push(['composite', composite, line[43]!]);
  for (const [what, field, digit] of digitChecks) {
    if (!hasValidCheckDigit(field, digit)) problems.push({ code: 'mrz_check_digit', detail: `the MRZ check digit of the ${what} is wrong` });
  }
  if (line.slice(13, 19) !== yymmdd(dateOfBirth)) {
    problems.push({ code: 'mrz_mismatch', detail: `the MRZ date of birth ${line.slice(13, 19)} does not match the date of birth given (${yymmdd(dateOfBirth)})` });
  }
  if (line.slice(21, 27) !== yymmdd(expiry)) {
    problems.push({ code: 'mrz_mismatch', detail: `the MRZ expiry date ${line.slice(21, 27)} does not match the expiry date given (${yymmdd(expiry)})` });
  }
  return problems;
}
