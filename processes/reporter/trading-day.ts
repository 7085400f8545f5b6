// Trading days as the reporter counts them: yyyymmdd numbers. An entry belongs to the trading day
// of the last TradingDayOpen before it (a day's after-hours entries stay in that day until the next
// open); before any TradingDayOpen was journaled, to the calendar date of its timestamp in the
// exchange's time zone. Both are functions of the journal only, so a replay assigns every entry
// to the same day.

import { civilMonth, civilYear, daysFromCivil, firstDayOfMonth } from '../market-data/civil-date';
import { DEFAULT_EXCHANGE_TIME_ZONE, ExchangeTimeZone } from '../market-data/exchange-time-zone';

export { DEFAULT_EXCHANGE_TIME_ZONE };

const US_PER_S = 1_000_000;

/** yyyymmdd of a day number (days since 1970-01-01). */
export function tradingDayOfDayNumber(dayNumber: number): number {
  const year = civilYear(dayNumber);
  const month = civilMonth(dayNumber);
  const day = dayNumber - firstDayOfMonth(dayNumber) + 1;
  return year * 10_000 + month * 100 + day;
}

/** True for a plausible yyyymmdd (a real calendar date between 1970 and 9999). */
export function isTradingDay(value: number): boolean {
  if (!Number.isInteger(value) || value < 19_700_101 || value > 99_991_231) return false;
  const year = Math.floor(value / 10_000);
  const month = Math.floor(value / 100) % 100;
  const day = value % 100;
  if (month < 1 || month > 12 || day < 1) return false;
  return tradingDayOfDayNumber(daysFromCivil(year, month, day)) === value;
}

/**
 * Parses a report date: `2025-01-02` or `20250102`. Returns the yyyymmdd number, or a sentence
 * saying what is wrong (for a CLI error).
 */
export function parseReportDate(text: string): number | string {
  const m = /^(\d{4})-?(\d{2})-?(\d{2})$/.exec(text.trim());
  if (m === null) return `date '${text}' is not YYYY-MM-DD (or YYYYMMDD)`;
  const value = Number(m[1]) * 10_000 + Number(m[2]) * 100 + Number(m[3]);
  if (!isTradingDay(value)) return `date '${text}' is not a calendar date`;
  return value;
}

/** `2025-01-02` for 20250102. */
export function formatTradingDay(day: number): string {
  const s = String(day).padStart(8, '0');
  return `${s.slice(0, 4)}-${s.slice(4, 6)}-${s.slice(6, 8)}`;
}

/** The calendar date (yyyymmdd) of a journal timestamp in the exchange's time zone. */
export class CalendarDayClock {
  private readonly zone: ExchangeTimeZone;
  // The last answer, since consecutive entries are almost always on the same day.
  private cachedFromS = 1;
  private cachedToS = 0;
  private cachedDay = 0;

  constructor(timeZone: string = DEFAULT_EXCHANGE_TIME_ZONE) {
    this.zone = new ExchangeTimeZone(timeZone);
  }

  tradingDayOfUs(timestampUs: number): number {
    const s = Math.floor(timestampUs / US_PER_S);
    if (s >= this.cachedFromS && s < this.cachedToS) return this.cachedDay;
    const dayNumber = this.zone.localDayOfS(s);
    this.cachedFromS = this.zone.localDayStartS(dayNumber);
    this.cachedToS = this.zone.localDayStartS(dayNumber + 1);
    this.cachedDay = tradingDayOfDayNumber(dayNumber);
    return this.cachedDay;
  }
}
