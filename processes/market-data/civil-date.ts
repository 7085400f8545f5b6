// Proleptic Gregorian calendar arithmetic on day numbers (days since 1970-01-01), exact for every
// safe integer day and free of Date objects, so candle boundaries are pure integer arithmetic.
// The algorithms are Howard Hinnant's `days_from_civil` / `civil_from_days` (public domain),
// which count in 400-year eras of 146,097 days so leap years (incl. 2000, 2028, not 2100) fall out.

export const SECONDS_PER_DAY = 86_400;
export const DAYS_PER_WEEK = 7;
/** Day number of Monday 1970-01-05: the anchor of week (and multi-day) buckets. */
export const FIRST_MONDAY_DAY = 4;

/** Day number of year-month-day (month 1..12; day may run past the month's end, it just adds days). */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400; // [0, 399]
  const monthFromMarch = month > 2 ? month - 3 : month + 9; // [0, 11]
  const dayOfYear = Math.floor((153 * monthFromMarch + 2) / 5) + day - 1; // [0, 365]
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}

/** Year of a day number. */
export function civilYear(dayNumber: number): number {
  const z = dayNumber + 719_468;
  const era = Math.floor(z / 146_097);
  const dayOfEra = z - era * 146_097;
  const yearOfEra = Math.floor((dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36_524) - Math.floor(dayOfEra / 146_096)) / 365);
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const monthFromMarch = Math.floor((5 * dayOfYear + 2) / 153);
  const y = yearOfEra + era * 400;
  return monthFromMarch >= 10 ? y + 1 : y;
}

/** Month (1..12) of a day number. */
export function civilMonth(dayNumber: number): number {
  const z = dayNumber + 719_468;
  const era = Math.floor(z / 146_097);
  const dayOfEra = z - era * 146_097;
  const yearOfEra = Math.floor((dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36_524) - Math.floor(dayOfEra / 146_096)) / 365);
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const monthFromMarch = Math.floor((5 * dayOfYear + 2) / 153);
  return monthFromMarch < 10 ? monthFromMarch + 3 : monthFromMarch - 9;
}

/** Day number of the first day of the month containing `dayNumber`. */
export function firstDayOfMonth(dayNumber: number): number {
  return daysFromCivil(civilYear(dayNumber), civilMonth(dayNumber), 1);
}

/** Day number of the first day of the month after the one containing `dayNumber`. */
export function firstDayOfNextMonth(dayNumber: number): number {
  const month = civilMonth(dayNumber);
  const year = civilYear(dayNumber);
  return month === 12 ? daysFromCivil(year + 1, 1, 1) : daysFromCivil(year, month + 1, 1);
}

/** 0 for Monday … 6 for Sunday. */
export function weekdayFromMonday(dayNumber: number): number {
  return mod(dayNumber - FIRST_MONDAY_DAY, DAYS_PER_WEEK);
}

/** Mathematical modulo: the result has the divisor's sign (so day numbers before 1970 work). */
export function mod(value: number, divisor: number): number {
  const r = value % divisor;
  return r < 0 ? r + divisor : r;
}
