// The automated KYC rules on their own (no database): ICAO 9303 check digits, document formats,
// the age and expiry boundaries, Jaro-Winkler sanctions screening, and field-level validation.
import t from 'tap';
import { validateApplication, type Application, type ApplicationInput } from '../processes/accounts/application-validation';
import { parseIsoDate, type CalendarDate } from '../processes/accounts/calendar-date';
import { DEMO_PEOPLE } from '../processes/accounts/demo-accounts';
import { checkDocumentNumber } from '../processes/accounts/document-number';
import { decideKyc, type KycDecision } from '../processes/accounts/kyc-checks';
import { mrzCheckDigit } from '../processes/accounts/mrz-check-digit';
import { jaroWinkler, normaliseName } from '../processes/accounts/name-matching';
import { defaultSanctionsFile, SanctionsList } from '../processes/accounts/sanctions-list';

const TODAY = parseIsoDate('2025-06-15')!;
const SANCTIONS = SanctionsList.fromCsv(
  [
    'id,name,aliases,program,listed_on',
    'T-1,Boris Quellmarsh,Boris Kvelmarsh,TEST,2021-01-01',
    'T-2,José Ñandúbar Ortelli,,TEST,2021-01-01',
    'T-3,"Garnet Lantern Trading, Ltd.",Garnet Lantern,TEST,2021-01-01',
  ].join('\n'),
  'inline-test-list',
);

function passport(field9: string): string {
  return field9 + mrzCheckDigit(field9);
}

function input(overrides: Partial<ApplicationInput> = {}): ApplicationInput {
  return {
    legalName: 'Hannah Okonjo',
    dateOfBirth: '1990-05-20',
    outletId: 7,
    document: { type: 'passport', number: passport('X12345678'), expiryDate: '2030-01-31' },
    address: { line1: '1 High Street', city: 'Leeds', postalCode: 'LS1 1AA', country: 'GB' },
    username: 'hokonjo',
    password: 'river-stone-lantern',
    ...overrides,
  };
}

function valid(i: ApplicationInput, today: CalendarDate = TODAY): Application {
  const r = validateApplication(i, today);
  if (!r.ok) throw new Error(`test application invalid: ${JSON.stringify(r.fields)}`);
  return r.application;
}

function decide(i: ApplicationInput, today: CalendarDate = TODAY, threshold = 0.9): KycDecision {
  return decideKyc(valid(i, today), today, { sanctions: SANCTIONS, reviewThreshold: threshold });
}

function codes(d: KycDecision): string[] {
  return d.reasons.map((r) => r.code);
}

t.test('ICAO 9303 7-3-1 check digits of the specimen passport MRZ are reproduced', async (t) => {
  // Doc 9303 part 4 specimen: L898902C36UTO7408122F1204159ZE184226B<<<<<10
  t.equal(mrzCheckDigit('L898902C3'), 6, 'document number');
  t.equal(mrzCheckDigit('740812'), 2, 'date of birth');
  t.equal(mrzCheckDigit('120415'), 9, 'expiry');
  t.equal(mrzCheckDigit('ZE184226B<<<<<'), 1, 'optional data');
  t.equal(mrzCheckDigit('L898902C36' + '7408122' + '1204159ZE184226B<<<<<1'), 0, 'composite');
  t.equal(mrzCheckDigit('AB12<<<<<'), mrzCheckDigit('AB1200000'), "the filler '<' counts as 0");
  t.equal(mrzCheckDigit('ab1'), -1, 'lower-case letters are not MRZ characters');
});

t.test('a passport number passes with its computed check digit and fails with each of the nine other digits', async (t) => {
  const dob = parseIsoDate('1990-05-20')!;
  const exp = parseIsoDate('2030-01-31')!;
  for (const field of ['X12345678', 'L898902C3', 'AB1234<<<', '000000001']) {
    const right = mrzCheckDigit(field);
    t.same(checkDocumentNumber('passport', `${field}${right}`, dob, exp), [], `${field}${right} passes`);
    for (let d = 0; d <= 9; d++) {
      if (d === right) continue;
      const problems = checkDocumentNumber('passport', `${field}${d}`, dob, exp);
      t.same(problems.map((p) => p.code), ['document_check_digit'], `${field}${d} fails`);
    }
  }
});

t.test('an application with a wrong passport check digit is rejected with document_check_digit', async (t) => {
  const right = mrzCheckDigit('X12345678');
  const d = decide(input({ document: { type: 'passport', number: `X12345678${(right + 1) % 10}`, expiryDate: '2030-01-31' } }));
  t.equal(d.status, 'rejected');
  t.same(codes(d), ['document_check_digit']);
  t.match(d.reasons[0]!.detail, /machine-readable zone/);
});

t.test('a full MRZ line 2 passes when every check digit is right and its dates match the application', async (t) => {
  const line = 'L898902C36UTO7408122F1204159ZE184226B<<<<<10';
  t.same(checkDocumentNumber('passport', line, parseIsoDate('1974-08-12')!, parseIsoDate('2012-04-15')!), []);
  const corrupted = 'L898902C36UTO7408123F1204159ZE184226B<<<<<10'; // date-of-birth digit 2 → 3
  t.same(
    checkDocumentNumber('passport', corrupted, parseIsoDate('1974-08-12')!, parseIsoDate('2012-04-15')!).map((p) => p.code),
    ['mrz_check_digit', 'mrz_check_digit'],
    'the date-of-birth digit and the composite digit both fail',
  );
  t.same(
    checkDocumentNumber('passport', line, parseIsoDate('1974-08-13')!, parseIsoDate('2012-04-15')!).map((p) => p.code),
    ['mrz_mismatch'],
    'a date of birth that disagrees with the MRZ is caught',
  );
  // Composite check digits over an all-filler optional field may carry '<' as the optional-data digit.
  const body = 'X12345678' + mrzCheckDigit('X12345678') + 'GBR' + '900520' + mrzCheckDigit('900520') + 'F' + '300131' + mrzCheckDigit('300131') + '<<<<<<<<<<<<<<' + '<';
  const composite = mrzCheckDigit(body.slice(0, 10) + body.slice(13, 20) + body.slice(21, 43));
  t.same(checkDocumentNumber('passport', body + composite, parseIsoDate('1990-05-20')!, parseIsoDate('2030-01-31')!), [], 'all-filler optional data with < digit');
});

t.test('document numbers of the wrong shape are rejected with document_number_format', async (t) => {
  const dob = parseIsoDate('1990-05-20')!;
  const exp = parseIsoDate('2030-01-31')!;
  t.same(checkDocumentNumber('passport', 'X1234567', dob, exp).map((p) => p.code), ['document_number_format'], 'too short');
  t.same(checkDocumentNumber('passport', '<X12345670', dob, exp).map((p) => p.code), ['document_number_format'], 'filler before the number');
  t.same(checkDocumentNumber('national_id', 'AB12345', dob, exp), [], 'national id of letters and digits');
  t.same(checkDocumentNumber('national_id', 'ABCDEFG', dob, exp).map((p) => p.code), ['document_number_format'], 'national id without a digit');
  t.same(checkDocumentNumber('driving_licence', 'MORGA753116SM9IJ', dob, exp), [], 'UK-style driving licence');
  t.same(checkDocumentNumber('driving_licence', 'AB1', dob, exp).map((p) => p.code), ['document_number_format'], 'too short');
  const d = decide(input({ document: { type: 'national_id', number: 'ab-12 34-5', expiryDate: '2030-01-31' } }));
  t.equal(d.status, 'approved', 'spaces, hyphens and case of a national id are normalised');
});

t.test('an applicant is under age the day before the 18th birthday and of age on it and after', async (t) => {
  const birth = '2007-06-15'; // 18 on 2025-06-15
  const before = decide(input({ dateOfBirth: birth }), parseIsoDate('2025-06-14')!);
  t.equal(before.status, 'rejected');
  t.same(codes(before), ['under_age']);
  t.match(before.reasons[0]!.detail, /from 2025-06-15/);
  t.equal(decide(input({ dateOfBirth: birth }), parseIsoDate('2025-06-15')!).status, 'approved', 'on the birthday');
  t.equal(decide(input({ dateOfBirth: birth }), parseIsoDate('2025-06-16')!).status, 'approved', 'the day after');
});

t.test('someone born on 29 February comes of age on 1 March of a common year', async (t) => {
  const birth = '2004-02-29'; // 2022 is a common year
  t.same(codes(decide(input({ dateOfBirth: birth }), parseIsoDate('2022-02-28')!)), ['under_age']);
  t.equal(decide(input({ dateOfBirth: birth }), parseIsoDate('2022-03-01')!).status, 'approved');
});

t.test('a document that expired yesterday is rejected; one expiring today or tomorrow is accepted', async (t) => {
  const doc = (expiryDate: string) => ({ document: { type: 'passport' as const, number: passport('X12345678'), expiryDate } });
  const yesterday = decide(input(doc('2025-06-14')));
  t.equal(yesterday.status, 'rejected');
  t.same(codes(yesterday), ['document_expired']);
  t.match(yesterday.reasons[0]!.detail, /expired on 2025-06-14/);
  t.equal(decide(input(doc('2025-06-15'))).status, 'approved', 'valid through its expiry date');
  t.equal(decide(input(doc('2025-06-16'))).status, 'approved');
});

t.test('several hard failures are all reported', async (t) => {
  const d = decide(input({ legalName: 'Boris Quellmarsh', dateOfBirth: '2010-01-01', document: { type: 'passport', number: 'X123456780', expiryDate: '2020-01-01' } }));
  t.equal(d.status, 'rejected');
  t.same(codes(d).sort(), ['document_expired', 'sanctions_match', 'under_age', ...(mrzCheckDigit('X12345678') === 0 ? [] : ['document_check_digit'])].sort());
});

t.test('an exact sanctions hit (ignoring case, accents and spacing) is rejected', async (t) => {
  for (const name of ['Boris Quellmarsh', 'BORIS   quellmarsh', 'Jose Nandubar Ortelli', 'José Ñandúbar-Ortelli', 'Boris Kvelmarsh']) {
    const d = decide(input({ legalName: name }));
    t.equal(d.status, 'rejected', name);
    t.same(codes(d), ['sanctions_match'], name);
    t.ok(d.sanctionsMatches.some((m) => m.exact), `${name}: the exact match is kept for the audit trail`);
  }
});

t.test('a fuzzy sanctions hit (transposed letters, reordered names) goes to pending review', async (t) => {
  for (const name of ['Boris Quellmrash', 'Quellmarsh Boris', 'Quellmrash Boris', 'Boriss Quelmarsh', 'Ortelli Jose Nandubar']) {
    const d = decide(input({ legalName: name }));
    t.equal(d.status, 'pending_review', name);
    t.same(codes(d), ['sanctions_possible_match'], name);
    t.ok(d.sanctionsMatches.length > 0 && d.sanctionsMatches[0]!.score >= 0.9, `${name}: scored ${d.sanctionsMatches[0]?.score}`);
  }
});

t.test('a clean name is approved and its best score is still recorded', async (t) => {
  for (const name of ['Hannah Okonjo', 'Boris Smith', 'Garnet Jones', 'Quell']) {
    const d = decide(input({ legalName: name }));
    t.equal(d.status, 'approved', `${name} (best score ${d.sanctionsBestScore})`);
    t.ok(d.sanctionsBestScore < 0.9);
  }
});

t.test('the review threshold is configurable', async (t) => {
  t.equal(decide(input({ legalName: 'Boris Quellmrash' }), TODAY, 0.995).status, 'approved', 'a stricter threshold clears a 0.99 match');
  t.equal(decide(input({ legalName: 'Boris Smith' }), TODAY, 0.8).status, 'pending_review', 'a looser threshold flags more');
});

t.test('Jaro-Winkler reproduces the published reference values', async (t) => {
  const round = (x: number) => Math.round(x * 10_000) / 10_000;
  t.equal(round(jaroWinkler('martha', 'marhta')), 0.9611);
  t.equal(round(jaroWinkler('dwayne', 'duane')), 0.84);
  t.equal(round(jaroWinkler('dixon', 'dicksonx')), 0.8133);
  t.equal(jaroWinkler('abc', 'abc'), 1);
  t.equal(jaroWinkler('abc', 'xyz'), 0);
  t.equal(normaliseName('  Greta  Østerholm-Weiß '), 'greta osterholm weiss');
});

t.test('the shipped sanctions list loads and clears every demo person', async (t) => {
  const list = SanctionsList.load(defaultSanctionsFile());
  t.ok(list.entries.length >= 20, `${list.entries.length} entries`);
  t.equal(list.entries.find((e) => e.id === 'IMS-0020')?.name, 'Garnet Lantern Trading, Ltd.', 'quoted field with a comma');
  for (const p of DEMO_PEOPLE) t.ok(list.screen(p.legalName, 0.9).possible.length === 0, `${p.legalName} is clear`);
});

t.test('a malformed sanctions file is refused with its line number', async (t) => {
  t.throws(() => SanctionsList.fromCsv('id,name\nX,Y', 'bad.csv'), /first line must be the header/);
  t.throws(() => SanctionsList.fromCsv('id,name,aliases,program,listed_on\nA,Name,,P,2020-01-01\nB,Other,P,2020-01-01', 'bad.csv'), /line 3: expected 5 fields, found 4/);
  t.throws(() => SanctionsList.fromCsv('id,name,aliases,program,listed_on\nA,Name,,P,2020-01-01\nA,Other,,P,2020-01-01', 'bad.csv'), /duplicate id 'A'/);
  t.throws(() => SanctionsList.fromCsv('id,name,aliases,program,listed_on\nA,"Name,,P,2020-01-01', 'bad.csv'), /unterminated/);
});

t.test('validation reports every wrong field at once as {field, code, detail}', async (t) => {
  const r = validateApplication(
    {
      legalName: 'X',
      dateOfBirth: '2023-02-29',
      outletId: -3,
      document: { type: 'visa', number: '', expiryDate: '31/01/2030' },
      address: { line1: '', city: 'Leeds', postalCode: 'LS1 1AA', country: 'Britain' },
      username: '9lives',
      password: 'short',
      status: 'approved',
    },
    TODAY,
  );
  t.equal(r.ok, false);
  if (r.ok) return;
  const byField = new Map(r.fields.map((f) => [f.field, f.code]));
  t.same(Object.fromEntries(byField), {
    status: 'unknown_field',
    legalName: 'too_short',
    dateOfBirth: 'invalid_date',
    outletId: 'out_of_range',
    'document.type': 'invalid_value',
    'document.number': 'required',
    'document.expiryDate': 'invalid_date',
    'address.line1': 'required',
    'address.country': 'too_long',
    username: 'invalid_format',
    password: 'password_too_weak',
  });
  for (const f of r.fields) t.ok(f.detail.length > 10, `${f.field} has a helpful detail: ${f.detail}`);
});

t.test('password rules name the rule that was broken', async (t) => {
  const problems = (password: string) => {
    const r = validateApplication(input({ password }), TODAY);
    return r.ok ? [] : r.fields.filter((f) => f.field === 'password').map((f) => f.detail);
  };
  t.match(problems('short-one')[0], /at least 12 characters/);
  t.match(problems('my-name-is-hokonjo')[0], /must not contain the username/);
  t.match(problems('password1234')[0], /most common/);
  t.match(problems('aaaaaaaaaaaaab')[0], /different characters/);
  t.match(problems('x'.repeat(129)).join(' '), /at most 128/);
  t.same(problems('correct horse battery staple'), []);
});

t.test('dates of birth in the future or implausibly old are field errors, not KYC decisions', async (t) => {
  const r1 = validateApplication(input({ dateOfBirth: '2025-06-16' }), TODAY);
  t.same(r1.ok ? [] : r1.fields.map((f) => [f.field, f.code]), [['dateOfBirth', 'date_in_future']]);
  const r2 = validateApplication(input({ dateOfBirth: '1890-01-01' }), TODAY);
  t.same(r2.ok ? [] : r2.fields.map((f) => [f.field, f.code]), [['dateOfBirth', 'out_of_range']]);
});

t.test('staff roles carry no outlet; colleagues must name one', async (t) => {
  const staff = validateApplication({ ...input(), role: 'analyst', outletId: undefined }, TODAY);
  t.ok(staff.ok && staff.application.outletId === 0 && staff.application.role === 'analyst');
  const staffWithOutlet = validateApplication({ ...input(), role: 'admin' }, TODAY);
  t.same(staffWithOutlet.ok ? [] : staffWithOutlet.fields.map((f) => f.code), ['invalid_value']);
  const { outletId: _omit, ...noOutlet } = input();
  const colleague = validateApplication(noOutlet, TODAY);
  t.same(colleague.ok ? [] : colleague.fields.map((f) => [f.field, f.code]), [['outletId', 'required']]);
});
