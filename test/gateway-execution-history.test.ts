// GET /v1/execution and GET /v1/orders through the real system with the default databases, SQLite
// in the data directory (the scenario: test/support/execution-history-scenario.ts).
import * as fs from 'node:fs';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import t from 'tap';
import { executionHistoryScenario } from './support/execution-history-scenario';

delete process.env['IMS_DATABASE_URL'];
executionHistoryScenario(t, {
  label: 'hist-sqlite',
  storedTrades: async (inst) => {
    const file = path.join(inst.dataDir, 'marketdata.sqlite');
    if (!fs.existsSync(file)) return 0;
    const db = new Database(file, { readonly: true });
    try {
      return (db.prepare('SELECT COUNT(*) AS n FROM md_trades').get() as { n: number }).n;
    } finally {
      db.close();
    }
  },
});
