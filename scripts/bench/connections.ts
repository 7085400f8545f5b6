// bench:connections — 10,000 concurrent colleagues: the gateway holds one authenticated WebSocket
// stream per colleague, each placing orders at the seed's average 4.3 orders/s (43,000/s in all)
// and receiving its own execution reports. Target: 10,000 streams, 43,000 orders/s, p99 ≤ 5 ms,
// gateway memory ≤ 1 GiB.
//
//   node dist/scripts/bench/connections.js [--quick] [--connections N] [--seconds S] [--workers W] [--rate R] [--system-log FILE]
//   (quick: 2,000 streams, about a minute; last line: one JSON object)
//
// What runs, in order (times reported separately; only step 5 is the measured window):
//   1. provisioning: N real colleague accounts (KYC, outbox, sessions) straight into the accounts
//      database of a fresh data directory (processes/accounts/bulk-provisioning.ts: the one
//      shortcut is a cheap password hash for their random passwords);
//   2. the whole system started as in production (`ims start`, demo profile) under prlimit with the
//      open-files soft limit raised to the hard limit; the gateway keeps its production limits;
//   3. funding by the demo administrator over REST (a deposit per buyer, a stock receipt per
//      seller; funding.ts), then probe orders that prove the funds arrived;
//   4. client workers (client-worker.ts, W processes under prlimit) open the N streams, each
//      from a loopback source address shared by at most 64 colleagues (flow.ts), and the gateway's
//      memory is read before and after (memory per idle stream);
//   5. load: warm-up, then the measured window at the per-stream rate (open loop: the seed's demand
//      arrives whether or not the exchange keeps up); round-trip latency from each order's intended
//      send time to its own answer (HdrHistogram): p99_us over every answer, errors included
//      (an order never answered is charged the time waited), accepted_p99_us over accepted orders
//      only; orders_per_s counts accepted orders; execution pushes counted per stream and checked
//      to be the stream's own; gateway VmRSS sampled from /proc during the window (the maximum);
//   6. the peer, same run: a bare uWebSockets.js server (echo-server.ts) held with the same number
//      of streams at the same rate by the same workers; ratios against it.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import type * as hdr from 'hdr-histogram-js';
import { openBulkProvisioningAccounts, provisionColleagues } from '../../processes/accounts/bulk-provisioning';
import { SQLITE_FILE_NAME } from '../../processes/accounts/account-store';
import { ClientPool, type MergedRun } from './connections/client-pool';
import { CONNECTIONS_PER_SOURCE_ADDRESS, sourceAddressCount } from './connections/flow';
import { fundColleagues } from './connections/funding';
import { cpuSeconds, memoryKiB, openFilesLimit, withOpenFilesLimit } from './connections/proc-stats';
import { startSystem, type RunningSystem } from './connections/system';

const SEED_ORDERS_PER_S_PER_COLLEAGUE = 4.3;
const TARGET = { connections: 10_000, ordersPerS: 43_000, p99Us: 5_000, rssMiB: 1024 };
/** File descriptors a process needs beyond its sockets (rings, logs, node's own). */
const FD_HEADROOM = 1024;
/** How often the gateway's memory is sampled during the window. */
const RSS_SAMPLE_MS = 250;
/** Let the gateway settle after the last handshake before reading memory per idle stream. */
const IDLE_SETTLE_MS = 1_500;
/** The workers start the load this long after the command, so both start together. */
const LOAD_START_DELAY_MS = 200;

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const QUICK = process.argv.includes('--quick');
const CONNECTIONS = Number(arg('--connections') ?? (QUICK ? 2_000 : TARGET.connections));
const MEASURE_S = Number(arg('--seconds') ?? (QUICK ? 10 : 30));
const WORKERS = Number(arg('--workers') ?? 2);
const RATE = Number(arg('--rate') ?? SEED_ORDERS_PER_S_PER_COLLEAGUE);
const SYSTEM_LOG = arg('--system-log');
const WARMUP_S = QUICK ? 2 : 4;
const DRAIN_S = QUICK ? 3 : 5;
const ECHO_MEASURE_S = QUICK ? 5 : 10;

function log(s: string): void { process.stderr.write(`connections: ${s}\n`); }
const mib = (kib: number): number => Math.round(kib / 102.4) / 10;
const round1 = (x: number): number => Math.round(x * 10) / 10;

/** One load window: windowS runs from its start to the last answer (at least measureS, the sending time). */
interface Window { run: MergedRun; rssMaxKiB: number; serverCpuPct: number; clientCpuPct: number; measureS: number; windowS: number }

/** Runs the load on `pool` while sampling `serverPid`'s memory and CPU over the measured window. */
async function measure(pool: ClientPool, serverPid: number, warmupS: number, measureS: number, drainS: number): Promise<Window> {
  const startInMs = LOAD_START_DELAY_MS;
  let rssMaxKiB = 0;
  let cpu0 = 0; let cpu1 = 0; let ccpu0 = 0; let ccpu1 = 0;
  const clientCpu = (): number => pool.pids.reduce((a, p) => a + (cpuSeconds(p) ?? 0), 0);
  let sampler: NodeJS.Timeout | undefined;
  const begin = setTimeout(() => {
    cpu0 = cpuSeconds(serverPid) ?? 0; ccpu0 = clientCpu();
    sampler = setInterval(() => { rssMaxKiB = Math.max(rssMaxKiB, memoryKiB(serverPid)?.rssKiB ?? 0); }, RSS_SAMPLE_MS);
  }, startInMs + warmupS * 1000);
  const end = setTimeout(() => {
    cpu1 = cpuSeconds(serverPid) ?? 0; ccpu1 = clientCpu();
    rssMaxKiB = Math.max(rssMaxKiB, memoryKiB(serverPid)?.rssKiB ?? 0);
    if (sampler) clearInterval(sampler);
  }, startInMs + (warmupS + measureS) * 1000);
  try {
    const run = await pool.run({ ratePerConn: RATE, warmupMs: warmupS * 1000, measureMs: measureS * 1000, drainMs: drainS * 1000, startInMs });
    const windowS = Math.max(measureS, run.lastAnswerMs / 1000);
    return { run, rssMaxKiB, serverCpuPct: Math.round(((cpu1 - cpu0) / measureS) * 100), clientCpuPct: Math.round(((ccpu1 - ccpu0) / measureS) * 100), measureS, windowS };
  } finally {
    clearTimeout(begin); clearTimeout(end); if (sampler) clearInterval(sampler);
  }
}

function pct(h: hdr.Histogram, p: number): number { return h.totalCount === 0 ? 0 : h.getValueAtPercentile(p); }

function describe(name: string, w: Window): string {
  const r = w.run;
  const errs = Object.entries(r.errors).map(([k, v]) => `${k} ×${v}`).join(', ');
  return `${name}: offered ${Math.round(r.sent / w.measureS)}/s, answered ok ${Math.round(r.ok / w.windowS)}/s (window ${w.windowS.toFixed(1)} s), errors ${sumOf(r.errors)}${errs ? ` [${errs}]` : ''}, unanswered ${r.unanswered}; ` +
    `latency (every answer) p50 ${pct(r.latency, 50)} µs p99 ${pct(r.latency, 99)} µs p99.9 ${pct(r.latency, 99.9)} µs max ${r.latency.maxValue} µs; accepted orders only p50 ${pct(r.okLatency, 50)} µs p99 ${pct(r.okLatency, 99)} µs; generator send lag p99 ${pct(r.sendLag, 99)} µs; ` +
    `server RSS max ${mib(w.rssMaxKiB)} MiB, server CPU ${w.serverCpuPct} %, client CPU ${w.clientCpuPct} %; streams open at end ${r.openAtEnd}, closed during run ${r.closedDuringRun}`;
}
function sumOf(o: Record<string, number>): number { return Object.values(o).reduce((a, b) => a + b, 0); }

function startEcho(nofile: number): Promise<{ child: ChildProcess; port: number }> {
  const cmd = withOpenFilesLimit(nofile, nofile, process.execPath, [path.join(__dirname, 'connections', 'echo-server.js')]);
  const child = spawn(cmd.command, cmd.args, { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error('the uWS echo server did not start in 10 s')); }, 10_000);
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const m = /port (\d+)/.exec(buf);
      if (m) { clearTimeout(timer); resolve({ child, port: Number(m[1]) }); }
    });
    child.once('exit', (c) => { clearTimeout(timer); reject(new Error(`the uWS echo server exited ${c}`)); });
  });
}

async function main(): Promise<void> {
  const t0 = Date.now();
  if (!(Number.isInteger(CONNECTIONS) && CONNECTIONS >= 1 && Number.isInteger(WORKERS) && WORKERS >= 1 && MEASURE_S > 0 && RATE > 0)) {
    throw new Error('--connections and --workers take positive integers, --seconds and --rate positive numbers');
  }
  const limits = openFilesLimit('self');
  const needGateway = CONNECTIONS + FD_HEADROOM;
  const needWorker = Math.ceil(CONNECTIONS / WORKERS) + FD_HEADROOM;
  if (limits.hard < Math.max(needGateway, needWorker)) {
    throw new Error(`the hard open-files limit is ${limits.hard}; ${CONNECTIONS} streams need ${needGateway} in the gateway: raise it (ulimit -Hn as root, LimitNOFILE= in a unit) or run fewer --connections`);
  }
  // Everything this run starts gets soft = hard: the gateway and each worker hold one socket per stream.
  const nofile = limits.hard;
  log(`${QUICK ? 'quick' : 'full'} mode: ${CONNECTIONS} colleagues at ${RATE} orders/s each (${Math.round(CONNECTIONS * RATE)}/s), ${WORKERS} client workers, ` +
    `${sourceAddressCount(CONNECTIONS)} source addresses × ≤${CONNECTIONS_PER_SOURCE_ADDRESS}; open-files limit ${nofile} (soft was ${limits.soft}); ` +
    `${os.availableParallelism()} cores, load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);

  const instance = `bench-conn-${process.pid}-${Date.now().toString(36)}`;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ims-bench-connections-'));
  let sys: RunningSystem | undefined;
  let pool: ClientPool | undefined;
  let echo: ChildProcess | undefined;
  const cleanup = async (): Promise<void> => {
    pool?.kill();
    echo?.kill('SIGKILL');
    if (sys) await sys.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  };
  const onSignal = (): void => { void cleanup().finally(() => process.exit(130)); };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    // 1. provisioning
    let t = performance.now();
    const accounts = await openBulkProvisioningAccounts({ kind: 'sqlite', file: path.join(dataDir, SQLITE_FILE_NAME) });
    let lastLog = 0;
    const colleagues = await provisionColleagues(accounts, {
      count: CONNECTIONS, usernamePrefix: 'bench',
      onProgress: (n) => { if (n - lastLog >= 2_000) { lastLog = n; log(`provisioned ${n}`); } },
    });
    await accounts.close();
    const provisionS = (performance.now() - t) / 1000;
    log(`provisioned ${colleagues.length} colleague accounts with sessions in ${provisionS.toFixed(1)} s`);

    // 2. the system
    t = performance.now();
    sys = await startSystem({ instance, dataDir, nofile, logFile: SYSTEM_LOG });
    const systemS = (performance.now() - t) / 1000;
    const gwLimits = openFilesLimit(sys.gatewayPid);
    log(`system up in ${systemS.toFixed(1)} s: gateway pid ${sys.gatewayPid} on port ${sys.tradingPort}, its open-files limit ${gwLimits.soft}`);
    if (gwLimits.soft < needGateway) throw new Error(`the gateway runs with an open-files limit of ${gwLimits.soft}, below the ${needGateway} it needs`);

    // 3. funding
    const funding = await fundColleagues(sys.tradingPort, colleagues.map((c) => c.accountId), colleagues.map((c) => c.token));
    log(`funded ${funding.submitted} colleagues in ${funding.seconds.toFixed(1)} s (${funding.retried} retries), probes accepted`);

    // 4. streams
    const before = memoryKiB(sys.gatewayPid)!;
    pool = ClientPool.start(WORKERS, nofile);
    const conn = await pool.connect(`ws://127.0.0.1:${sys.tradingPort}/v1/stream`, colleagues.map((c) => c.token), CONNECTIONS_PER_SOURCE_ADDRESS);
    log(`opened ${conn.opened} of ${CONNECTIONS} streams in ${(conn.ms / 1000).toFixed(1)} s${conn.failed ? `; ${conn.failed} failed: ${JSON.stringify(conn.failures)}` : ''}`);
    await new Promise((r) => setTimeout(r, IDLE_SETTLE_MS));
    const idle = memoryKiB(sys.gatewayPid)!;
    const kibPerIdle = conn.opened === 0 ? 0 : (idle.rssKiB - before.rssKiB) / conn.opened;
    log(`gateway RSS ${mib(before.rssKiB)} MiB before the streams, ${mib(idle.rssKiB)} MiB with ${conn.opened} idle streams (${kibPerIdle.toFixed(1)} KiB each)`);

    // 5. load
    const ims = await measure(pool, sys.gatewayPid, WARMUP_S, MEASURE_S, DRAIN_S);
    log(describe('ims', ims));
    log(`execution pushes: ${ims.run.executions} received (per stream ${ims.run.executionsPerStreamMin}..${ims.run.executionsPerStreamMax}), ${ims.run.foreign} for another colleague's order, ${ims.run.unattributed} without a clientOrderId${ims.run.unattributedSamples.length ? ` (e.g. ${ims.run.unattributedSamples[0]})` : ''}`);
    await pool.close();
    pool = undefined;
    await sys.stop();
    sys = undefined;

    // 6. the peer: bare uWS, same streams, same rate
    const e = await startEcho(nofile);
    echo = e.child;
    const echoBefore = memoryKiB(echo.pid!)!;
    pool = ClientPool.start(WORKERS, nofile);
    const echoConn = await pool.connect(`ws://127.0.0.1:${e.port}/v1/stream`, colleagues.map((c) => c.token), CONNECTIONS_PER_SOURCE_ADDRESS);
    await new Promise((r) => setTimeout(r, IDLE_SETTLE_MS));
    const echoIdle = memoryKiB(echo.pid!)!;
    const echoKibPerIdle = echoConn.opened === 0 ? 0 : (echoIdle.rssKiB - echoBefore.rssKiB) / echoConn.opened;
    log(`bare uWS: ${echoConn.opened} streams in ${(echoConn.ms / 1000).toFixed(1)} s; RSS ${mib(echoBefore.rssKiB)} → ${mib(echoIdle.rssKiB)} MiB (${echoKibPerIdle.toFixed(1)} KiB per idle stream)`);
    const bare = await measure(pool, echo.pid!, 1, ECHO_MEASURE_S, 2);
    log(describe('bare uWS', bare));
    await pool.close();
    pool = undefined;
    echo.kill('SIGTERM');
    echo = undefined;

    const r = ims.run;
    const ordersPerS = Math.round(r.ok / ims.windowS);
    const p99 = pct(r.latency, 99);
    const rssMiB = mib(ims.rssMaxKiB);
    const targetRate = Math.round(CONNECTIONS * RATE);
    // Failures: 5xx answers (overloaded, timed out) and orders never answered. 4xx answers are the
    // exchange answering correctly (e.g. 409 already_filled when a remove races a fill): counted apart.
    const failures = Object.entries(r.errors).filter(([k]) => k.startsWith('5')).reduce((a, [, v]) => a + v, 0) + r.unanswered;
    const rejects = sumOf(r.errors) - Object.entries(r.errors).filter(([k]) => k.startsWith('5')).reduce((a, [, v]) => a + v, 0);
    const errorFraction = r.sent === 0 ? 0 : failures / r.sent;
    // Met: every stream held, the seed's rate accepted (95 %), at most 1 % failures, p99 and memory in bounds.
    const meets = conn.opened === TARGET.connections && r.openAtEnd === conn.opened && ordersPerS >= 0.95 * TARGET.ordersPerS && errorFraction <= 0.01 && p99 <= TARGET.p99Us && rssMiB <= TARGET.rssMiB;
    const bareP99 = pct(bare.run.latency, 99);
    const bareRate = Math.round(bare.run.ok / bare.windowS);
    log(`total ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    process.stdout.write(JSON.stringify({
      bench: 'connections', connections: conn.opened, orders_per_s: ordersPerS, p99_us: p99, gateway_rss_mb: rssMiB,
      mode: QUICK ? 'quick' : 'full', connections_held: r.openAtEnd, connections_closed_during_run: r.closedDuringRun,
      offered_orders_per_s: Math.round(r.sent / MEASURE_S), load_target_orders_per_s: targetRate,
      p50_us: pct(r.latency, 50), p999_us: pct(r.latency, 99.9), max_us: r.latency.maxValue, accepted_p50_us: pct(r.okLatency, 50), accepted_p99_us: pct(r.okLatency, 99),
      failed_pct: Math.round(errorFraction * 1000) / 10, rejected_4xx: rejects, gateway_rss_before_streams_mb: mib(before.rssKiB), gateway_rss_idle_streams_mb: mib(idle.rssKiB), gateway_kib_per_idle_stream: round1(kibPerIdle),
      errors_by_code: r.errors, unanswered: r.unanswered, executions: r.executions, cross_deliveries: r.foreign, unattributed_executions: r.unattributed,
      gateway_cpu_pct: ims.serverCpuPct, client_cpu_pct: ims.clientCpuPct, client_send_lag_p99_us: pct(r.sendLag, 99),
      nofile_limit: nofile, provision_s: round1(provisionS), system_start_s: round1(systemS), fund_s: round1(funding.seconds), connect_s: round1(conn.ms / 1000),
      bare_uws_orders_per_s: bareRate, bare_uws_p99_us: bareP99, bare_uws_rss_mb: mib(bare.rssMaxKiB), bare_uws_kib_per_idle_stream: round1(echoKibPerIdle),
      p99_vs_bare: bareP99 === 0 ? null : round1(p99 / bareP99), rss_vs_bare: bare.rssMaxKiB === 0 ? null : round1(ims.rssMaxKiB / bare.rssMaxKiB),
      orders_per_s_vs_bare: bareRate === 0 ? null : Math.round((ordersPerS / bareRate) * 100) / 100,
      meets_target: meets,
    }) + '\n');
  } finally {
    await cleanup();
  }
}

main().then(() => process.exit(0), (e: unknown) => { process.stderr.write(`connections: failed: ${(e as Error).stack ?? String(e)}\n`); process.exit(1); });
