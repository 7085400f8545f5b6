// CSV text (RFC 4180) for the end-of-day reports: a header line, then one line per row, CRLF line
// ends. A text cell with a comma, a quote or a line break is quoted (quotes doubled). A text cell
// that a spreadsheet would run as a formula (leading = + - @, tab or CR) gets a leading apostrophe:
// client order ids come from kiosk users, and a statement opened in a spreadsheet must not
// execute what a user typed. Numbers are written as they are.

export type CsvCell = string | number | null;

const NEEDS_QUOTES = /[",\r\n]/;
const FORMULA_START = /^[=+\-@\t\r]/;

export function csvCell(value: CsvCell): string {
  if (value === null) return '';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new RangeError(`CSV cell ${value} is not a finite number`);
    return String(value);
  }
  const text = FORMULA_START.test(value) ? `'${value}` : value;
  return NEEDS_QUOTES.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export class CsvTable {
  private readonly lines: string[];
  rows = 0;

  constructor(readonly header: readonly string[]) {
    this.lines = [header.map(csvCell).join(',')];
  }

  add(row: readonly CsvCell[]): void {
    if (row.length !== this.header.length) throw new RangeError(`CSV row has ${row.length} cells, the header ${this.header.length}`);
    this.lines.push(row.map(csvCell).join(','));
    this.rows++;
  }

  toString(): string {
    return this.lines.join('\r\n') + '\r\n';
  }
}

/** Splits CSV text made by CsvTable back into cells (for tests and tools; quoted cells allowed). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(cell);
      cell = '';
    } else if (ch === '\n') {
      row.push(cell.endsWith('\r') ? cell.slice(0, -1) : cell);
      rows.push(row);
      row = [];
      cell = '';
    } else cell += ch;
  }
  if (cell !== '' || row.length > 0) rows.push([...row, cell]);
  return rows;
}

/** `numerator / denominator` rounded half-up to `decimals` places, exactly (BigInt), as text. */
export function formatRatio(numerator: number, denominator: number, decimals: number): string {
  if (denominator === 0) return '';
  const scale = 10n ** BigInt(decimals);
  const n = BigInt(numerator) * scale;
  const d = BigInt(denominator);
  const negative = n < 0n !== d < 0n;
  const an = n < 0n ? -n : n;
  const ad = d < 0n ? -d : d;
  const q = (2n * an + ad) / (2n * ad);
  const digits = q.toString().padStart(decimals + 1, '0');
  const text = decimals === 0 ? digits : `${digits.slice(0, -decimals)}.${digits.slice(-decimals)}`;
  return negative && q !== 0n ? `-${text}` : text;
}

/** A journal timestamp (µs since the epoch) as ISO 8601 UTC with microseconds. */
export function isoTimeOfUs(us: number): string {
  const ms = Math.floor(us / 1000);
  const iso = new Date(ms).toISOString(); // 2025-01-06T14:30:00.123Z
  return `${iso.slice(0, -1)}${String(us - ms * 1000).padStart(3, '0')}Z`;
}
