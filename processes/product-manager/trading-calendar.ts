// The trading calendar: when a session is open. A pure module (no clock, no Intl, no tz database):
// callers pass the time, and the one time zone that matters here, America/New_York, is computed
// from the US daylight-saving rule in force since 2007 (second Sunday of March 02:00 → first
// Sunday of November 02:00 local time).
//
// The product manager itself never reads a calendar: the trading day opens and closes with the
// sequenced TradingDayOpen / TradingDayClose commands, so replay reproduces every decision. This
// module is for whoever emits those commands (a scheduler beside the sequencer, or an operator
// script), and for the gateway to explain "market closed until 09:30 New York time".

export type CalendarTimeZone = 'America/New_York' | 'UTC';

export interface TradingCalendar {
  readonly name: string;
  /**
   * Open around the clock (the demo profile). Sessions are then the UTC days, back to back, so the
   * day counters still reset once a day at the sequenced TradingDayOpen.
   */
  readonly alwaysOpen: boolean;
  readonly timeZone: CalendarTimeZone;
  /** Session open and close, in minutes after local midnight (open < close, same local day). */
  readonly openMinute: number;
  readonly closeMinute: number;
  /** Bit d set = sessions on weekday d (0 = Sunday … 6 = Saturday). */
  readonly weekdayMask: number;
  /** Local dates (yyyymmdd) without a session, e.g. exchange holidays. */
  readonly holidays: readonly number[];
}

/** Monday to Friday, 09:30–16:00 America/New_York: the default profile. */
export const NEW_YORK_SESSION_CALENDAR: TradingCalendar = Object.freeze({
  name: 'new-york-weekdays',
  alwaysOpen: false,
  timeZone: 'America/New_York',
  openMinute: 9 * 60 + 30,
  closeMinute: 16 * 60,
  weekdayMask: 0b0111110,
  holidays: Object.freeze([]) as readonly number[],
});

/** The demo profile: open around the clock, one session per UTC day. */
export const ALWAYS_OPEN_CALENDAR: TradingCalendar = Object.freeze({
  name: 'always-open',
  alwaysOpen: true,
  timeZone: 'UTC',
  openMinute: 0,
  closeMinute: 24 * 60,
  weekdayMask: 0b1111111,
  holidays: Object.freeze([]) as readonly number[],
});

/** How far nextOpen / nextClose look ahead before giving up (a calendar with no session at all). */
export const MAX_CALENDAR_SEARCH_DAYS = 400;

const MS_PER_MINUTE = 60_000;
const MS_PER_DAY = 86_400_000;
const MINUTES_PER_DAY = 1440;
const NEW_YORK_STANDARD_OFFSET_MIN = -5 * 60;
const NEW_YORK_DAYLIGHT_OFFSET_MIN = -4 * 60;
/** 1970-01-01 was a Thursday. */
const EPOCH_WEEKDAY = 4;

/** True when `epochMs` (UTC milliseconds) falls inside a session [open, close). */
export function isTradingTime(epochMs: number, calendar: TradingCalendar): boolean {
  if (calendar.alwaysOpen) return true;
  const offsetMin = utcOffsetMinutes(epochMs, calendar.timeZone);
  const localMs = epochMs + offsetMin * MS_PER_MINUTE;
  const day = Math.floor(localMs / MS_PER_DAY);
  if (!isSessionDay(day, calendar)) return false;
  const minuteOfDay = (localMs - day * MS_PER_DAY) / MS_PER_MINUTE;
  return minuteOfDay >= calendar.openMinute && minuteOfDay < calendar.closeMinute;
}

/** The first session open strictly after `epochMs`, in UTC ms; Infinity when none within the search bound. */
export function nextOpen(epochMs: number, calendar: TradingCalendar): number {
  return nextBoundary(epochMs, calendar, true);
}

/** The first session close strictly after `epochMs`, in UTC ms; Infinity when none within the search bound. */
export function nextClose(epochMs: number, calendar: TradingCalendar): number {
  return nextBoundary(epochMs, calendar, false);
}

/**
 * The trading day (local date, yyyymmdd) of the session that is open at `epochMs`, or 0 when no
 * session is open. This is the value a TradingDayOpen/Close command carries.
 */
export function tradingDayAt(epochMs: number, calendar: TradingCalendar): number {
  if (!isTradingTime(epochMs, calendar)) return 0;
  const localMs = epochMs + utcOffsetMinutes(epochMs, calendar.timeZone) * MS_PER_MINUTE;
  return yyyymmddOfDay(Math.floor(localMs / MS_PER_DAY));
}

/** Minutes to add to UTC to get local time at the instant `epochMs`. */
export function utcOffsetMinutes(epochMs: number, timeZone: CalendarTimeZone): number {
  if (timeZone === 'UTC') return 0;
  const year = civilYearOfDay(Math.floor((epochMs + NEW_YORK_STANDARD_OFFSET_MIN * MS_PER_MINUTE) / MS_PER_DAY));
  // Daylight time starts at 02:00 EST (07:00 UTC) on the second Sunday of March and ends at
  // 02:00 EDT (06:00 UTC) on the first Sunday of November.
  const startMs = nthSundayDay(year, 3, 2) * MS_PER_DAY + (2 * 60 - NEW_YORK_STANDARD_OFFSET_MIN) * MS_PER_MINUTE;
  const endMs = nthSundayDay(year, 11, 1) * MS_PER_DAY + (2 * 60 - NEW_YORK_DAYLIGHT_OFFSET_MIN) * MS_PER_MINUTE;
  return epochMs >= startMs && epochMs < endMs ? NEW_YORK_DAYLIGHT_OFFSET_MIN : NEW_YORK_STANDARD_OFFSET_MIN;
}

/** Days since 1970-01-01 of a civil date (proleptic Gregorian; H. Hinnant's days_from_civil). */
export function dayOfCivil(year: number, month: number, dayOfMonth: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + dayOfMonth - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** yyyymmdd of a day number (days since 1970-01-01). */
export function yyyymmddOfDay(day: number): number {
  const z = day + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  return y * 10000 + m * 100 + d;
}

function civilYearOfDay(day: number): number {
  return Math.floor(yyyymmddOfDay(day) / 10000);
}

/** Day number of the n-th Sunday of a month. */
function nthSundayDay(year: number, month: number, n: number): number {
  const first = dayOfCivil(year, month, 1);
  const weekday = (((first + EPOCH_WEEKDAY) % 7) + 7) % 7;
  return first + ((7 - weekday) % 7) + (n - 1) * 7;
}

function isSessionDay(day: number, calendar: TradingCalendar): boolean {
  const weekday = (((day + EPOCH_WEEKDAY) % 7) + 7) % 7;
  if ((calendar.weekdayMask & (1 << weekday)) === 0) return false;
  const holidays = calendar.holidays;
  if (holidays.length === 0) return true;
  const date = yyyymmddOfDay(day);
  for (let i = 0; i < holidays.length; i++) if (holidays[i] === date) return false;
  return true;
}

/** UTC ms of a local wall-clock minute on a local day. */
function localToUtcMs(day: number, minute: number, timeZone: CalendarTimeZone): number {
  const localMs = day * MS_PER_DAY + minute * MS_PER_MINUTE;
  if (timeZone === 'UTC') return localMs;
  // Session boundaries are never inside the 02:00–03:00 gap or overlap, so one of the two offsets
  // is consistent with itself.
  const asStandard = localMs - NEW_YORK_STANDARD_OFFSET_MIN * MS_PER_MINUTE;
  if (utcOffsetMinutes(asStandard, timeZone) === NEW_YORK_STANDARD_OFFSET_MIN) return asStandard;
  return localMs - NEW_YORK_DAYLIGHT_OFFSET_MIN * MS_PER_MINUTE;
}

function nextBoundary(epochMs: number, calendar: TradingCalendar, open: boolean): number {
  if (!Number.isFinite(epochMs)) throw new RangeError(`trading calendar: time ${epochMs} is not a finite number of ms`);
  if (!(calendar.openMinute >= 0 && calendar.openMinute < calendar.closeMinute && calendar.closeMinute <= MINUTES_PER_DAY)) {
    throw new RangeError(`trading calendar ${calendar.name}: open ${calendar.openMinute} / close ${calendar.closeMinute} minutes are not 0 <= open < close <= 1440`);
  }
  const offsetMin = utcOffsetMinutes(epochMs, calendar.timeZone);
  const today = Math.floor((epochMs + offsetMin * MS_PER_MINUTE) / MS_PER_DAY);
  for (let day = today - 1; day <= today + MAX_CALENDAR_SEARCH_DAYS; day++) {
    if (!calendar.alwaysOpen && !isSessionDay(day, calendar)) continue;
    const at = localToUtcMs(day, open ? calendar.openMinute : calendar.closeMinute, calendar.timeZone);
    if (at > epochMs) return at;
  }
  return Number.POSITIVE_INFINITY;
}
