// GET /v1/execution and GET /v1/orders through the real system with PostgreSQL
// (IMS_DATABASE_URL): the accounts store, the reporter's database and the market-data history each
// in a fresh schema of the `test` database, dropped afterwards. With CI=true PostgreSQL is
// required; elsewhere the test says clearly that it did not run. The scenario:
// test/support/execution-history-scenario.ts (the same one the SQLite file runs).
import * as crypto from 'node:crypto';
import pg from 'pg';
import t from 'tap';
import { dropPostgresSchema } from '../processes/accounts/postgres-store';
import { findTestPostgres, postgresMissingMessage, postgresRequired } from '../processes/reporter/report-test-database';
import { executionHistoryScenario } from './support/execution-history-scenario';

t.test('the execution history routes against PostgreSQL', async (t) => {
  const found = await findTestPostgres();
  if (found.url === undefined) {
    if (postgresRequired()) t.fail(postgresMissingMessage(found.why));
    else t.skip(postgresMissingMessage(found.why), () => undefined);
    return;
  }
  const url = found.url;
  const tag = `${process.pid}_${crypto.randomBytes(4).toString('hex')}`;
  const schemas = { IMS_DATABASE_SCHEMA: `ims_hist_acc_${tag}`, IMS_REPORTER_DATABASE_SCHEMA: `ims_hist_rep_${tag}`, IMS_MARKET_DATA_DATABASE_SCHEMA: `ims_hist_md_${tag}` };
  // The supervisor passes this process's environment to every process it starts.
  Object.assign(process.env, { IMS_DATABASE_URL: url, ...schemas });
  t.comment(`PostgreSQL ${url}, schemas ${Object.values(schemas).join(', ')}`);
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  t.teardown(() => db.end());
  executionHistoryScenario(t, {
    label: 'hist-pg',
    // The market-data publisher writes its history into PostgreSQL too, in its own schema.
    storedTrades: async () => {
      const r = await db.query(`SELECT COUNT(*)::int AS n FROM ${schemas.IMS_MARKET_DATA_DATABASE_SCHEMA}.md_trades`).catch(() => ({ rows: [{ n: 0 }] }));
      return Number(r.rows[0].n);
    },
    cleanup: async () => {
      for (const schema of Object.values(schemas)) await dropPostgresSchema(url, schema);
    },
  });
});
