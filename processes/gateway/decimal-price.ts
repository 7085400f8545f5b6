// Decimal strings <-> integer minor units, exactly. A price never passes through a float: "10.05"
// becomes 1005 by reading digits, because parseFloat("10.05") * 100 is 1004.9999999999999 and a
// rounded price is a wrong trade. The API takes and returns prices as decimal strings; inside, a
// price is a safe integer count of the currency's minor unit (10^-priceDecimals).

/** The grammar the schemas enforce before this module runs: no sign, no exponent, no spaces. */
export const DECIMAL_PRICE_PATTERN = '^(0|[1-9][0-9]{0,14})(\\.[0-9]{1,12})?$';
const DECIMAL_PRICE_RE = new RegExp(DECIMAL_PRICE_PATTERN);

/** The number of minor-unit decimals a catalog may use (10^8 keeps every price well inside 2^53). */
export const MAX_PRICE_DECIMALS = 8;

export const PRICE_MALFORMED = -1;
/** The string has more (non-zero) decimals than the minor unit: it is not a whole number of units. */
export const PRICE_TOO_PRECISE = -2;
export const PRICE_TOO_LARGE = -3;

/**
 * Parses `text` into integer minor units with `decimals` decimals, or returns one of the negative
 * codes above. Trailing zeros beyond the minor unit are accepted ("10.050" with 2 decimals is 1005).
 */
export function parseDecimalPrice(text: string, decimals: number): number {
  if (!(Number.isInteger(decimals) && decimals >= 0 && decimals <= MAX_PRICE_DECIMALS)) {
    throw new RangeError(`priceDecimals must be an integer in [0, ${MAX_PRICE_DECIMALS}], got ${decimals}`);
  }
  if (!DECIMAL_PRICE_RE.test(text)) return PRICE_MALFORMED;
  const dot = text.indexOf('.');
  const whole = dot < 0 ? text : text.slice(0, dot);
  let fraction = dot < 0 ? '' : text.slice(dot + 1);
  let end = fraction.length;
  while (end > 0 && fraction.charCodeAt(end - 1) === 48 /* '0' */) end--;
  fraction = fraction.slice(0, end);
  if (fraction.length > decimals) return PRICE_TOO_PRECISE;
  const digits = whole + fraction.padEnd(decimals, '0');
  // At most 15 + 8 digits: check the length first so Number() below only ever sees an exact value.
  if (digits.length > 16) return PRICE_TOO_LARGE;
  const value = Number(digits);
  if (!Number.isSafeInteger(value)) return PRICE_TOO_LARGE;
  return value;
}

/** Formats integer minor units as a decimal string with exactly `decimals` decimals ("10.05"). */
export function formatDecimalPrice(minorUnits: number, decimals: number): string {
  if (!Number.isSafeInteger(minorUnits)) throw new RangeError(`price ${minorUnits} is not a safe integer`);
  const negative = minorUnits < 0;
  const digits = String(negative ? -minorUnits : minorUnits);
  if (decimals === 0) return negative ? `-${digits}` : digits;
  const padded = digits.padStart(decimals + 1, '0');
  const text = `${padded.slice(0, padded.length - decimals)}.${padded.slice(padded.length - decimals)}`;
  return negative ? `-${text}` : text;
}
