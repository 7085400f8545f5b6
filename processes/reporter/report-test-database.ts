// Where the reporter's tests and benchmark find their databases: a fresh SQLite file in a temp
// directory, and PostgreSQL at 127.0.0.1:5432 database `test` (trust auth; user postgres or the
// current user; IMS_TEST_DATABASE_URL overrides) in a fresh schema per test. With CI=true
// PostgreSQL is required: the test fails with the reason instead of skipping. Test tooling, kept
// beside the reporter so every test file (and the benchmark) uses the same rules.

import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { probePostgres } from '../accounts/postgres-store';
import { dropPostgresSchema } from '../accounts/postgres-store';
import type { ReportStoreOptions } from './report-store';

let found: Promise<{ url?: string; why: string }> | undefined;

/** The first PostgreSQL server that answers, or why none did. Memoized per process. */
export function findTestPostgres(): Promise<{ url?: string; why: string }> {
  found ??= (async () => {
    const env = process.env['IMS_TEST_DATABASE_URL'];
    const candidates = env ? [env] : ['postgres://postgres@127.0.0.1:5432/test', `postgres://${os.userInfo().username}@127.0.0.1:5432/test`];
    const reasons: string[] = [];
    for (const url of candidates) {
      const why = await probePostgres(url);
      if (why === undefined) return { url, why: '' };
      reasons.push(why);
    }
    return { why: reasons.join('; ') };
  })();
  return found;
}

export function postgresRequired(): boolean {
  return process.env['CI'] === 'true';
}

/** What to say when PostgreSQL is missing (a skip message, or with CI=true a failure). */
export function postgresMissingMessage(why: string): string {
  return postgresRequired()
    ? `PostgreSQL is required when CI=true, but none is reachable: ${why}`
    : `PostgreSQL tests NOT RUN: no server reachable (${why}); start PostgreSQL at 127.0.0.1:5432 (database test) or set IMS_TEST_DATABASE_URL`;
}

export interface TestDatabase {
  readonly name: 'sqlite' | 'postgres';
  readonly options: ReportStoreOptions;
  /** For a spawned reporter process: the environment and data directory that select this database. */
  readonly env: NodeJS.ProcessEnv;
  readonly dataDir: string;
  /** Removes the file or the schema. */
  remove(): Promise<void>;
}

/** A fresh SQLite database in a new temp directory. */
export function sqliteTestDatabase(label: string): TestDatabase {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `ims-test-reporter-${label}-`));
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env['IMS_DATABASE_URL'];
  return {
    name: 'sqlite',
    options: { kind: 'sqlite', file: path.join(dataDir, 'reports.sqlite') },
    env,
    dataDir,
    remove: async () => fs.rmSync(dataDir, { recursive: true, force: true }),
  };
}

/** A fresh schema on the PostgreSQL server at `url`. */
export function postgresTestDatabase(url: string, label: string): TestDatabase {
  const schema = `ims_rep_${label.replace(/[^a-z0-9]/g, '_')}_${process.pid}_${crypto.randomBytes(4).toString('hex')}`.slice(0, 63);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `ims-test-reporter-${label}-`));
  return {
    name: 'postgres',
    options: { kind: 'postgres', url, schema },
    env: { ...process.env, IMS_DATABASE_URL: url, IMS_REPORTER_DATABASE_SCHEMA: schema },
    dataDir,
    remove: async () => {
      await dropPostgresSchema(url, schema);
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
