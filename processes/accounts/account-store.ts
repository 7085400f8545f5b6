// Opens the account store the configuration names and brings its schema up to date.
//   IMS_DATABASE_URL=postgres://... (or postgresql://)  → PostgreSQL, schema IMS_DATABASE_SCHEMA
//                                                         (default ims_accounts)
//   otherwise                                           → SQLite file <data dir>/accounts.sqlite

import * as fs from 'node:fs';
import * as path from 'node:path';
import { systemClock, type Clock } from './clock';
import { migrate } from './migrations';
import { PostgresAccountStore } from './postgres-store';
import { SqliteAccountStore } from './sqlite-store';
import type { AccountStore } from './sql-store';

export const DEFAULT_POSTGRES_SCHEMA = 'ims_accounts';
export const SQLITE_FILE_NAME = 'accounts.sqlite';

export type OpenAccountStoreOptions =
  | { readonly kind: 'sqlite'; readonly file: string; readonly clock?: Clock }
  | { readonly kind: 'postgres'; readonly url: string; readonly schema?: string; readonly clock?: Clock };

export function isPostgresUrl(url: string | undefined): boolean {
  return url !== undefined && /^postgres(ql)?:\/\//.test(url);
}

/** The store the environment asks for (see the file comment). */
export function accountStoreOptionsFromEnv(dataDir: string, env: NodeJS.ProcessEnv = process.env): OpenAccountStoreOptions {
  const url = env['IMS_DATABASE_URL'];
  if (url !== undefined && url !== '' && !isPostgresUrl(url)) {
    throw new TypeError(`IMS_DATABASE_URL must be a postgres:// or postgresql:// URL (or unset for SQLite), got a '${url.split(':')[0]}:' URL`);
  }
  if (url !== undefined && isPostgresUrl(url)) return { kind: 'postgres', url, schema: env['IMS_DATABASE_SCHEMA'] || DEFAULT_POSTGRES_SCHEMA };
  return { kind: 'sqlite', file: path.join(dataDir, SQLITE_FILE_NAME) };
}

/** Opens the store and applies pending migrations. */
export async function openAccountStore(options: OpenAccountStoreOptions): Promise<AccountStore> {
  const clock = options.clock ?? systemClock;
  let store: AccountStore;
  if (options.kind === 'sqlite') {
    fs.mkdirSync(path.dirname(options.file), { recursive: true });
    store = new SqliteAccountStore(options.file);
  } else {
    const pgStore = new PostgresAccountStore(options.url, options.schema ?? DEFAULT_POSTGRES_SCHEMA);
    try {
      await pgStore.ensureSchema();
    } catch (err) {
      await pgStore.close();
      throw err;
    }
    store = pgStore;
  }
  try {
    await migrate(store, clock.nowMs());
  } catch (err) {
    await store.close();
    throw err;
  }
  return store;
}
