// What makes a password acceptable, following NIST SP 800-63B: length over composition rules, no
// password that contains the username, none from a list of the most common ones, and enough
// distinct characters that "aaaaaaaaaaaa" is refused. Each broken rule is reported with what to do.

import { MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS } from './account-limits';
import type { FieldError } from './errors';

/** Fewest distinct characters in a password. */
export const MIN_PASSWORD_DISTINCT_CHARS = 5;

// The top of public breached-password frequency lists, at or above the minimum length. A real
// deployment would check a large breach corpus; this list stops the obvious choices.
const COMMON_PASSWORDS: ReadonlySet<string> = new Set([
  '123456789012',
  '1234567890123',
  'qwertyuiopas',
  'qwertyuiop123',
  'password1234',
  'password12345',
  'passwordpassword',
  'iloveyou1234',
  'administrator',
  'letmeinletmein',
  'welcome12345',
  'abcdefghijkl',
  'abc123abc123',
  '111111111111',
  '000000000000',
  'changeme1234',
  'qwerty123456',
  '1q2w3e4r5t6y',
  'trustno1trustno1',
  'football1234',
]);

/** Every rule `password` breaks (empty when it is acceptable), as field errors on `field`. */
export function passwordProblems(password: string, username: string, field = 'password'): FieldError[] {
  const problems: FieldError[] = [];
  const chars = [...password];
  if (chars.length < MIN_PASSWORD_CHARS) {
    problems.push({ field, code: 'password_too_weak', detail: `use at least ${MIN_PASSWORD_CHARS} characters (a phrase of several words is easiest); this one has ${chars.length}` });
  }
  if (chars.length > MAX_PASSWORD_CHARS) {
    problems.push({ field, code: 'too_long', detail: `use at most ${MAX_PASSWORD_CHARS} characters` });
  }
  const lower = password.toLowerCase();
  if (username.length > 0 && lower.includes(username.toLowerCase())) {
    problems.push({ field, code: 'password_too_weak', detail: 'the password must not contain the username' });
  }
  if (COMMON_PASSWORDS.has(lower)) {
    problems.push({ field, code: 'password_too_weak', detail: 'this password is among the most common ones; choose another' });
  }
  if (new Set(chars).size < MIN_PASSWORD_DISTINCT_CHARS) {
    problems.push({ field, code: 'password_too_weak', detail: `use at least ${MIN_PASSWORD_DISTINCT_CHARS} different characters` });
  }
  return problems;
}
