// The trading calendar used by whoever sequences TradingDayOpen / TradingDayClose: Mon–Fri
// 09:30–16:00 America/New_York across both daylight-saving changes, weekends and holidays, and
// the demo profile's "always open" (one session per UTC day).
import t from 'tap';
import fc from 'fast-check';
import {
  ALWAYS_OPEN_CALENDAR,
  NEW_YORK_SESSION_CALENDAR as NY,
  dayOfCivil,
  isTradingTime,
  nextClose,
  nextOpen,
  tradingDayAt,
  utcOffsetMinutes,
  yyyymmddOfDay,
} from '../processes/product-manager/trading-calendar';

const SEED = Number(process.env.IMS_TEST_SEED ?? 0xca1e_2025);
t.comment(`seed ${SEED} (set IMS_TEST_SEED to change)`);

const utc = (iso: string): number => Date.parse(iso);

t.test('a New York session is 09:30 to 16:00 local time, in winter (UTC−5) and in summer (UTC−4)', (t) => {
  t.notOk(isTradingTime(utc('2025-01-06T14:29:59.999Z'), NY), 'Monday 09:29:59.999 EST');
  t.ok(isTradingTime(utc('2025-01-06T14:30:00.000Z'), NY), 'Monday 09:30 EST');
  t.ok(isTradingTime(utc('2025-01-06T20:59:59.999Z'), NY), 'Monday 15:59:59.999 EST');
  t.notOk(isTradingTime(utc('2025-01-06T21:00:00.000Z'), NY), 'Monday 16:00 EST');
  t.notOk(isTradingTime(utc('2025-07-07T13:29:59.999Z'), NY), 'Monday 09:29:59.999 EDT');
  t.ok(isTradingTime(utc('2025-07-07T13:30:00.000Z'), NY), 'Monday 09:30 EDT');
  t.notOk(isTradingTime(utc('2025-07-07T20:00:00.000Z'), NY), 'Monday 16:00 EDT');
  t.notOk(isTradingTime(utc('2025-01-04T15:00:00.000Z'), NY), 'Saturday');
  t.notOk(isTradingTime(utc('2025-01-05T15:00:00.000Z'), NY), 'Sunday');
  t.equal(tradingDayAt(utc('2025-01-06T15:00:00.000Z'), NY), 20250106);
  t.equal(tradingDayAt(utc('2025-01-06T22:00:00.000Z'), NY), 0, 'no session after the close');
  t.end();
});

t.test('daylight saving starts on the second Sunday of March and ends on the first Sunday of November', (t) => {
  t.equal(utcOffsetMinutes(utc('2025-03-09T06:59:59.999Z'), 'America/New_York'), -300);
  t.equal(utcOffsetMinutes(utc('2025-03-09T07:00:00.000Z'), 'America/New_York'), -240);
  t.equal(utcOffsetMinutes(utc('2025-11-02T05:59:59.999Z'), 'America/New_York'), -240);
  t.equal(utcOffsetMinutes(utc('2025-11-02T06:00:00.000Z'), 'America/New_York'), -300);
  t.equal(utcOffsetMinutes(utc('2024-03-10T07:00:00.000Z'), 'America/New_York'), -240, '2024: March 10');
  t.equal(utcOffsetMinutes(utc('2024-11-03T05:59:00.000Z'), 'America/New_York'), -240, '2024: November 3');
  t.equal(utcOffsetMinutes(utc('2025-07-01T00:00:00.000Z'), 'UTC'), 0);
  t.end();
});

t.test('next open and next close skip weekends, holidays and cross the clock changes', (t) => {
  t.equal(nextOpen(utc('2025-01-04T12:00:00Z'), NY), utc('2025-01-06T14:30:00Z'), 'Saturday → Monday 09:30 EST');
  t.equal(nextOpen(utc('2025-01-06T14:30:00Z'), NY), utc('2025-01-07T14:30:00Z'), 'strictly after: at the open, the next is tomorrow');
  t.equal(nextClose(utc('2025-01-06T15:00:00Z'), NY), utc('2025-01-06T21:00:00Z'), 'during a session: today 16:00');
  t.equal(nextClose(utc('2025-01-10T22:00:00Z'), NY), utc('2025-01-13T21:00:00Z'), 'Friday evening → Monday close');
  t.equal(nextOpen(utc('2025-03-07T21:00:00Z'), NY), utc('2025-03-10T13:30:00Z'), 'Friday EST close → Monday EDT open');
  t.equal(nextOpen(utc('2025-10-31T20:00:00Z'), NY), utc('2025-11-03T14:30:00Z'), 'Friday EDT close → Monday EST open');
  const withHoliday = { ...NY, holidays: [20250120] };
  t.equal(nextOpen(utc('2025-01-17T21:00:00Z'), withHoliday), utc('2025-01-21T14:30:00Z'), 'Martin Luther King Day is skipped');
  t.notOk(isTradingTime(utc('2025-01-20T15:00:00Z'), withHoliday));
  t.equal(nextOpen(0, { ...NY, weekdayMask: 0 }), Number.POSITIVE_INFINITY, 'a calendar without sessions never opens');
  t.end();
});

t.test('the demo profile is always open, with one session per UTC day', (t) => {
  t.ok(isTradingTime(utc('2025-01-04T03:00:00Z'), ALWAYS_OPEN_CALENDAR), 'Saturday night');
  t.equal(nextClose(utc('2025-01-04T03:00:00Z'), ALWAYS_OPEN_CALENDAR), utc('2025-01-05T00:00:00Z'));
  t.equal(nextOpen(utc('2025-01-04T03:00:00Z'), ALWAYS_OPEN_CALENDAR), utc('2025-01-05T00:00:00Z'));
  t.equal(tradingDayAt(utc('2025-01-04T23:59:59.999Z'), ALWAYS_OPEN_CALENDAR), 20250104);
  t.end();
});

t.test('civil dates and day numbers round-trip (against Date.UTC)', (t) => {
  fc.assert(
    fc.property(fc.integer({ min: -200_000, max: 200_000 }), (day) => {
      const date = yyyymmddOfDay(day);
      const y = Math.floor(date / 10000);
      const m = Math.floor(date / 100) % 100;
      const d = date % 100;
      return dayOfCivil(y, m, d) === day && Date.UTC(y, m - 1, d) === day * 86_400_000;
    }),
    { seed: SEED, numRuns: 2000 },
  );
  t.pass('2000 days round-trip');
  t.end();
});
