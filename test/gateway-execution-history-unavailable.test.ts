// Before the reporter has created its database (a fresh data directory), the history routes of a
// real gateway process answer 503 history_unavailable with a retry hint instead of failing, and
// the first request after the database appears (and the retry interval passed) is served from it.
import * as path from 'node:path';
import t from 'tap';
import { openReportStore } from '../processes/reporter/report-store';
import { SQLITE_FILE_NAME } from '../processes/reporter/reporter-limits';
import { startGateway } from './support/gateway-harness';

delete process.env['IMS_DATABASE_URL'];

t.test('no report database yet: 503 history_unavailable, then served once the reporter created it', async (t) => {
  const gw = await startGateway(t);
  const alice = await gw.tokenOf('alice');
  for (const route of ['/v1/execution', '/v1/orders']) {
    const r = await gw.request('GET', route, { token: alice });
    t.equal(r.status, 503, `${route} before the database exists: 503 (${r.text.slice(0, 200)})`);
    t.equal(r.json?.error, 'history_unavailable');
    t.ok(Number(r.headers['retry-after']) >= 1, 'with Retry-After');
    t.match(r.json?.detail, /retry/, 'and a detail that says to retry');
  }
  const anonymous = await gw.request('GET', '/v1/execution');
  t.equal(anonymous.status, 401, 'authentication comes first');

  // The reporter creates the database (the writable open applies the migrations).
  const store = await openReportStore({ kind: 'sqlite', file: path.join(gw.dataDir, SQLITE_FILE_NAME) });
  t.teardown(() => store.close());
  let answer = await gw.request('GET', '/v1/execution', { token: alice });
  for (const deadline = Date.now() + 20_000; answer.status !== 200 && Date.now() < deadline; answer = await gw.request('GET', '/v1/execution', { token: alice })) {
    await new Promise((r) => setTimeout(r, 200));
  }
  t.same({ status: answer.status, json: answer.json }, { status: 200, json: { executions: [], nextCursor: null } }, 'once the database exists the route answers from it');
  const orders = await gw.request('GET', '/v1/orders', { token: alice });
  t.same(orders.json, { orders: [], nextCursor: null });
});
