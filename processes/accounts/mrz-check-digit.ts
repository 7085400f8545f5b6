// The ICAO Doc 9303 (part 3, section 4.9) check digit of a machine-readable-zone field: each
// character's value (0-9 for digits, A=10 .. Z=35, the filler '<' = 0) is multiplied by the
// repeating weights 7, 3, 1, the products are summed, and the check digit is the sum modulo 10.

const WEIGHTS = [7, 3, 1] as const;
const CODE_0 = 48;
const CODE_9 = 57;
const CODE_A = 65;
const CODE_Z = 90;
const CODE_FILLER = 60; // '<'

/** The value of one MRZ character, or -1 when the character may not appear in an MRZ. */
export function mrzCharValue(code: number): number {
  if (code >= CODE_0 && code <= CODE_9) return code - CODE_0;
  if (code >= CODE_A && code <= CODE_Z) return code - CODE_A + 10;
  if (code === CODE_FILLER) return 0;
  return -1;
}

/** The 7-3-1 check digit (0..9) of `field`, or -1 when it holds a character outside 0-9, A-Z, '<'. */
export function mrzCheckDigit(field: string): number {
  let sum = 0;
  for (let i = 0; i < field.length; i++) {
    const v = mrzCharValue(field.charCodeAt(i));
    if (v < 0) return -1;
    sum += v * WEIGHTS[i % 3]!;
  }
  return sum % 10;
}

/** True when `digit` (one character) is the check digit of `field`. */
export function hasValidCheckDigit(field: string, digit: string): boolean {
  const expected = mrzCheckDigit(field);
  return expected >= 0 && digit.length === 1 && digit.charCodeAt(0) === CODE_0 + expected;
}
