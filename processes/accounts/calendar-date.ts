// Calendar dates (no time of day) for dates of birth and document expiry. They are compared as
// plain year/month/day triples in UTC: the decision date is the UTC date of the injected clock, so
// a decision never depends on the server's time zone.

export interface CalendarDate {
  readonly year: number;
  readonly month: number; // 1..12
  readonly day: number; // 1..31
}

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

export function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

export function daysInMonth(year: number, month: number): number {
  return [31, isLeapYear(year) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]!;
}

/** Parses a strict `YYYY-MM-DD` that names a real day; undefined otherwise (2023-02-29, 2024-13-01). */
export function parseIsoDate(text: string): CalendarDate | undefined {
  const m = ISO_DATE.exec(text);
  if (m === null) return undefined;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  return { year, month, day };
}

export function formatIsoDate(d: CalendarDate): string {
  return `${String(d.year).padStart(4, '0')}-${String(d.month).padStart(2, '0')}-${String(d.day).padStart(2, '0')}`;
}

/** The UTC calendar date of an epoch-milliseconds instant. */
export function utcDateOf(epochMs: number): CalendarDate {
  const d = new Date(epochMs);
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

/** Negative when a is before b, 0 on the same day, positive after. */
export function compareDates(a: CalendarDate, b: CalendarDate): number {
  return a.year - b.year || a.month - b.month || a.day - b.day;
}

/**
 * The day someone born on `birth` turns `years` old. A 29 February birthday falls on 1 March in a
 * common year: the later of the two candidate days, so the age check can never let an applicant in
 * a day early whichever convention the applicant's country uses.
 */
export function anniversary(birth: CalendarDate, years: number): CalendarDate {
  const year = birth.year + years;
  if (birth.month === 2 && birth.day === 29 && !isLeapYear(year)) return { year, month: 3, day: 1 };
  return { year, month: birth.month, day: birth.day };
}

/** Full years of age on `on` (0 before the first birthday). */
export function ageInYears(birth: CalendarDate, on: CalendarDate): number {
  let years = on.year - birth.year;
  if (years > 0 && compareDates(anniversary(birth, years), on) > 0) years -= 1;
  return Math.max(0, years);
}
