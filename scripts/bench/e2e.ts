// End-to-end benchmark: the whole IMS system started as in production (`ims start`: every process,
// pinned by the supervisor), driven over the gateway's real listeners.
//   1. WebSocket, open loop at a fixed 43,000 orders/s (latency from each order's intended send time)
//   2. WebSocket step-up: the highest rate whose p99 stays under 10 ms with >= 97 % delivered
//   3. REST, keep-alive (node:http Agent, N sockets), closed loop: orders/s and p99
//   4. a bare uWebSockets.js JSON echo server driven by the same REST generator: the REST ceiling
// Usage: node dist/scripts/bench/e2e.js [--quick]      (last line: one JSON object)
// Note: the gateway's per-account/per-IP rate limits are lifted for the run (IMS_GATEWAY_* env, e2e/system.ts).
import * as os from 'node:os';
import { COLLEAGUES, login, setRiskRule } from './e2e/orders';
import { runRest, startEcho } from './e2e/rest-load';
import { startSystem, type RunningSystem } from './e2e/system';
import { connect, executions, runPhase, type Conn, type PhaseResult } from './e2e/ws-load';

const QUICK = process.argv.includes('--quick');
const TARGET = 43_000;
const P99_LIMIT_US = 10_000;
const CFG = QUICK
  ? { fixedS: 2.5, stepS: 1, steps: [1_000, 2_500, 5_000, 10_000, 15_000, 20_000, 30_000, 43_000], restS: 3, restSockets: 16, connsPerColleague: 2 }
  : { fixedS: 15, stepS: 5, steps: [1_000, 2_500, 5_000, 10_000, 15_000, 20_000, 25_000, 30_000, 35_000, 43_000, 55_000, 70_000, 85_000, 100_000, 130_000, 160_000, 215_000], restS: 10, restSockets: 32, connsPerColleague: 2 };

/** Gives the system time to work off any backlog between phases. */
function settle(): Promise<void> { return new Promise((r) => setTimeout(r, QUICK ? 700 : 2000)); }
function log(s: string): void { process.stderr.write(`e2e: ${s}\n`); }
function fmt(r: PhaseResult): string {
  return `target ${r.target}/s achieved ${r.achieved}/s sent ${r.sent} answered ${r.answered} errors ${r.errors} unanswered ${r.unanswered} p50 ${r.p50} µs p99 ${r.p99} µs p99.9 ${r.p999} µs max ${r.max} µs${r.errors ? ' ' + JSON.stringify(r.errorCodes) : ''}`;
}

async function main(): Promise<void> {
  const t0 = Date.now();
  log(`${QUICK ? 'quick' : 'full'} mode; ${os.availableParallelism()} cores, load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  let sys: RunningSystem | undefined;
  let echo: { port: number; close(): void } | undefined;
  const conns: Conn[] = [];
  const onSignal = (): void => { void (sys?.stop() ?? Promise.resolve()).finally(() => { echo?.close(); process.exit(130); }); };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    sys = await startSystem();
    log(`system up on port ${sys.tradingPort} in ${Date.now() - t0} ms`);
    const tokens: string[] = [];
    for (const [u, p] of COLLEAGUES) tokens.push(await login(sys.tradingPort, u, p));
    // The demo's per-account daily notional (1,000,000.00) is spent in well under a second at these
    // rates and 1,000 open orders per account is tight for 5 accounts standing in for many kiosks:
    // the risk admin lifts both for every account (every other check stays on).
    const risk = await login(sys.tradingPort, 'risk', 'limits-desk-demo');
    await setRiskRule(sys.tradingPort, risk, 'notional_daily', '1000000000000.00');
    await setRiskRule(sys.tradingPort, risk, 'max_open_orders', '20000');
    await new Promise((r) => setTimeout(r, 300));
    for (let k = 0; k < CFG.connsPerColleague; k++) for (const t of tokens) conns.push(await connect(sys.tradingPort, t));
    log(`${conns.length} WebSocket streams open`);

    for (const w of [2_000, 5_000, 10_000]) await runPhase(conns, w, QUICK ? 0.5 : 1.5, 1000); // warm-up (JIT, books), discarded
    let best = 0;
    let throughputCeiling = 0;
    for (const rate of CFG.steps) {
      if (QUICK && Date.now() - t0 > 30_000) { log('step-up: stopped early to stay under 60 s'); break; }
      await settle();
      const r = await runPhase(conns, rate, CFG.stepS, 1500);
      // throughput kept up: everything answered and >= 95 % of the rate; latency ok: p99 <= 10 ms
      const kept = r.answered >= 0.99 * r.sent && r.achieved >= 0.95 * rate;
      const ok = kept && r.p99 <= P99_LIMIT_US;
      log(`step: ${fmt(r)} ${ok ? 'ok' : kept ? 'throughput kept, p99 over 10 ms' : 'NOT sustained'}`);
      if (ok) best = Math.max(best, r.achieved);
      if (kept) throughputCeiling = r.achieved;
      else break;
    }
    log(`step-up: highest rate with p99 <= 10 ms ${best}/s; highest rate kept up with at any latency ${throughputCeiling}/s`);
    await settle();
    const rest = await runRest(sys.tradingPort, tokens, CFG.restSockets, CFG.restS, false);
    log(`rest (IMS POST/DELETE /v1/transact, ${CFG.restSockets} keep-alive sockets): ${rest.perS}/s p50 ${rest.p50} µs p99 ${rest.p99} µs p99.9 ${rest.p999} µs non-2xx ${rest.non2xx} ${JSON.stringify(rest.codes)}`);

    // last, because a rate the system cannot sustain leaves a backlog behind it
    await settle();
    const fixed = await runPhase(conns, TARGET, CFG.fixedS, QUICK ? 2000 : 3000);
    log(`fixed: ${fmt(fixed)}`);
    log(`execution pushes received on the streams: ${executions}`);
    for (const c of conns) c.ws.close();
    await sys.stop();
    sys = undefined;

    echo = await startEcho();
    const bare = await runRest(echo.port, tokens, CFG.restSockets, CFG.restS, true);
    log(`bare uWS echo (same generator): ${bare.perS}/s p50 ${bare.p50} µs p99 ${bare.p99} µs`);
    echo.close();
    echo = undefined;
    log(`REST / bare = ${(rest.perS / bare.perS).toFixed(2)}; total ${((Date.now() - t0) / 1000).toFixed(1)} s`);

    process.stdout.write(JSON.stringify({
      bench: 'e2e', ws_rate_target: TARGET, ws_rate_achieved: fixed.achieved, ws_p50_us: fixed.p50, ws_p99_us: fixed.p99, ws_p999_us: fixed.p999,
      ws_max_orders_per_s: best, rest_orders_per_s: rest.perS, rest_p99_us: rest.p99, bare_uws_req_per_s: bare.perS,
    }) + '\n');
  } finally {
    for (const c of conns) if (!c.closed) c.ws.terminate();
    echo?.close();
    if (sys) await sys.stop();
  }
}

main().then(() => process.exit(0), (e: unknown) => { process.stderr.write(`e2e: failed: ${(e as Error).stack ?? String(e)}\n`); process.exit(1); });
