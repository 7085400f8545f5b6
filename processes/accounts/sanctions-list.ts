// The sanctions list: loaded from a CSV file at start (the project ships a small fictional one; the
// operator replaces it with IMS_SANCTIONS_FILE) and used to screen applicants' legal names.
//
// File format (RFC 4180 CSV, UTF-8): a header line `id,name,aliases,program,listed_on`, then one
// listed party per line. `aliases` holds other names of the same party separated by ';'. Blank lines
// and lines starting with '#' are ignored. A malformed file stops the start with the line number:
// screening against half a list would be worse than not starting.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { MAX_SANCTIONS_FILE_BYTES, MAX_SANCTIONS_NAMES, MAX_SCREENING_MATCHES } from './account-limits';
import { nameSimilarity, prepareName, type PreparedName } from './name-matching';

export interface SanctionsEntry {
  readonly id: string;
  readonly name: string;
  readonly aliases: readonly string[];
  readonly program: string;
  readonly listedOn: string;
}

export interface SanctionsMatch {
  readonly entryId: string;
  /** The listed name or alias that matched. */
  readonly listedName: string;
  /** Similarity in [0, 1], rounded to 4 decimals. */
  readonly score: number;
  readonly exact: boolean;
}

export interface ScreeningResult {
  /** An exact (normalised) hit, if any. */
  readonly exact: SanctionsMatch | undefined;
  /** Matches at or above the review threshold, best first (at most MAX_SCREENING_MATCHES). */
  readonly possible: readonly SanctionsMatch[];
  /** The best score found, even below the threshold (kept in the audit trail). */
  readonly bestScore: number;
}

export const SANCTIONS_CSV_HEADER = ['id', 'name', 'aliases', 'program', 'listed_on'] as const;
export const DEFAULT_SANCTIONS_FILE_NAME = 'sanctions-list.csv';

/** The shipped list: beside this module in the source tree (also when running the compiled dist/). */
export function defaultSanctionsFile(): string {
  const candidates = [
    path.join(__dirname, 'sanctions', DEFAULT_SANCTIONS_FILE_NAME),
    path.resolve(__dirname, '..', '..', '..', 'processes', 'accounts', 'sanctions', DEFAULT_SANCTIONS_FILE_NAME),
  ];
  return candidates.find((p) => fs.existsSync(p)) ?? candidates[0]!;
}

/** Splits CSV text into records of fields (RFC 4180: quoted fields may hold commas, quotes, newlines). */
export function parseCsv(text: string): { fields: string[]; line: number }[] {
  const records: { fields: string[]; line: number }[] = [];
  let fields: string[] = [];
  let field = '';
  let quoted = false;
  let line = 1;
  let recordLine = 1;
  let fieldStarted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else {
        if (c === '\n') line++;
        field += c;
      }
      continue;
    }
    if (c === '"' && !fieldStarted) {
      quoted = true;
      fieldStarted = true;
    } else if (c === ',') {
      fields.push(field);
      field = '';
      fieldStarted = false;
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      fields.push(field);
      records.push({ fields, line: recordLine });
      fields = [];
      field = '';
      fieldStarted = false;
      line++;
      recordLine = line;
    } else {
      field += c;
      fieldStarted = true;
    }
  }
  if (quoted) throw new SyntaxError(`unterminated quoted field starting on line ${recordLine}`);
  if (field !== '' || fields.length > 0) {
    fields.push(field);
    records.push({ fields, line: recordLine });
  }
  return records;
}

function isBlankOrComment(fields: readonly string[]): boolean {
  return (fields.length === 1 && fields[0]!.trim() === '') || fields[0]!.trimStart().startsWith('#');
}

export class SanctionsList {
  private readonly names: { entry: SanctionsEntry; listedName: string; prepared: PreparedName }[] = [];
  private readonly byNormalised = new Map<string, { entry: SanctionsEntry; listedName: string }>();

  constructor(
    readonly entries: readonly SanctionsEntry[],
    /** Where the list came from (a file path), for logs and the audit trail. */
    readonly source: string,
  ) {
    for (const entry of entries) {
      for (const listedName of [entry.name, ...entry.aliases]) {
        const prepared = prepareName(listedName);
        if (prepared.tokens.length === 0) continue;
        if (this.names.length >= MAX_SANCTIONS_NAMES) throw new RangeError(`sanctions list ${source} has more than ${MAX_SANCTIONS_NAMES} names and aliases`);
        this.names.push({ entry, listedName, prepared });
        if (!this.byNormalised.has(prepared.normalised)) this.byNormalised.set(prepared.normalised, { entry, listedName });
      }
    }
  }

  get nameCount(): number {
    return this.names.length;
  }

  /** Screens a legal name: an exact hit, the possible matches at or above `threshold`, the best score. */
  screen(legalName: string, threshold: number): ScreeningResult {
    if (!(threshold > 0 && threshold <= 1)) throw new RangeError(`sanctions threshold must be in (0, 1], got ${threshold}`);
    const applicant = prepareName(legalName);
    const exactHit = this.byNormalised.get(applicant.normalised);
    const exact = exactHit && { entryId: exactHit.entry.id, listedName: exactHit.listedName, score: 1, exact: true };
    const possible: SanctionsMatch[] = [];
    let bestScore = exact ? 1 : 0;
    for (const n of this.names) {
      const score = nameSimilarity(applicant, n.prepared);
      if (score > bestScore) bestScore = score;
      if (score >= threshold && n.prepared.normalised !== applicant.normalised) {
        possible.push({ entryId: n.entry.id, listedName: n.listedName, score: Math.round(score * 10_000) / 10_000, exact: false });
      }
    }
    possible.sort((a, b) => b.score - a.score || a.entryId.localeCompare(b.entryId));
    return { exact, possible: possible.slice(0, MAX_SCREENING_MATCHES), bestScore: Math.round(bestScore * 10_000) / 10_000 };
  }

  static fromCsv(text: string, source: string): SanctionsList {
    const records = parseCsv(text).filter((r) => !isBlankOrComment(r.fields));
    const header = records.shift();
    if (header === undefined || header.fields.map((f) => f.trim()).join(',') !== SANCTIONS_CSV_HEADER.join(',')) {
      throw new SyntaxError(`${source}: the first line must be the header '${SANCTIONS_CSV_HEADER.join(',')}'`);
    }
    const entries: SanctionsEntry[] = [];
    const ids = new Set<string>();
    for (const r of records) {
      if (r.fields.length !== SANCTIONS_CSV_HEADER.length) {
        throw new SyntaxError(`${source} line ${r.line}: expected ${SANCTIONS_CSV_HEADER.length} fields, found ${r.fields.length}`);
      }
      const [id, name, aliases, program, listedOn] = r.fields.map((f) => f.trim()) as [string, string, string, string, string];
      if (id === '' || name === '') throw new SyntaxError(`${source} line ${r.line}: id and name are required`);
      if (ids.has(id)) throw new SyntaxError(`${source} line ${r.line}: duplicate id '${id}'`);
      ids.add(id);
      entries.push({ id, name, aliases: aliases.split(';').map((a) => a.trim()).filter((a) => a !== ''), program, listedOn });
    }
    return new SanctionsList(entries, source);
  }

  static load(file: string): SanctionsList {
    const size = fs.statSync(file).size;
    if (size > MAX_SANCTIONS_FILE_BYTES) throw new RangeError(`sanctions list ${file} is ${size} bytes, more than ${MAX_SANCTIONS_FILE_BYTES}`);
    return SanctionsList.fromCsv(fs.readFileSync(file, 'utf8'), file);
  }
}
