#!/usr/bin/env node
// `ims`: the operator's command line. start (the supervisor, in the foreground), status, stop.

import { Command, InvalidArgumentError, Option } from 'commander';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DEMO_PRODUCTS } from '../processes/control/demo-products';
import { formatFailoverDrillReport, runEngineFailoverDrill } from '../processes/drills/engine-failover';
import { formatPmFailoverDrillReport, runPmFailoverDrill } from '../processes/drills/pm-failover';
import { formatGatewayKillDrillReport, runGatewayKillDrill } from '../processes/drills/gateway-kill';
import { formatReporterCrashDrillReport, runReporterCrashDrill } from '../processes/drills/reporter-crash';
import { formatSequencerRestartReport, runSequencerRestartDrill } from '../processes/drills/sequencer-restart';
import { formatFullRestartReport, runFullRestartDrill } from '../processes/drills/full-restart';
import { findGatewayEndpoints } from '../processes/drills/gateway-endpoints';
import { positiveIntOption, withWsLoadOptions, wsLoadOptionsOf, type WsLoadFlags } from '../processes/drills/ws-load-options';
import { formatReconcileResult, reconcile, reportEod, reportStoreOptionsFromEnv } from '../processes/reporter';
import { formatEngineStatus } from '../processes/matching-engine/engine-status';
import { journalArchive, journalReplay, journalTail, journalVerify } from '../processes/sequencer/journal-tools';
import { configCheckCommand, systemdInstallCommand } from '../processes/operations/operator-commands';
import { startMetricsServer } from '../processes/operations/metrics';
import { formatProcessCounters, readProcessCounters } from '../processes/operations/process-counters';
import { Supervisor } from '../processes/supervisor/supervisor';
import { pidAlive, readRunState } from '../processes/supervisor/run-state';
import { collectStatus, type StatusReport } from '../processes/supervisor/system-status';
import { buildTopology, defaultLeaseTimeoutMs, type Profile, type TopologyKind } from '../processes/supervisor/topology';

const PACKAGE_ROOT = findPackageRoot(__dirname);

function findPackageRoot(start: string): string {
  let dir = start;
  for (let i = 0; i < 6; i++) {
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(path.join(dir, 'native'))) return dir;
    dir = path.dirname(dir);
  }
  throw new Error(`ims: cannot find the package root above ${start}`);
}

interface InstanceOptions {
  instance: string;
  runDir?: string;
  dataDir?: string;
}

function instanceName(v: string): string {
  if (!/^[a-z0-9][a-z0-9_-]{0,47}$/.test(v)) throw new InvalidArgumentError(`instance names are 1-48 of a-z 0-9 _ - (got '${v}')`);
  return v;
}

function nonNegativeInt(v: string): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError(`expected a non-negative integer, got '${v}'`);
  return n;
}

function runDirOf(o: InstanceOptions): string {
  return o.runDir ?? process.env['IMS_RUN_DIR'] ?? `/dev/shm/ims-${o.instance}`;
}

function dataDirOf(o: InstanceOptions): string {
  return path.resolve(o.dataDir ?? process.env['IMS_DATA_DIR'] ?? path.join(PACKAGE_ROOT, 'data', o.instance));
}

function withInstance(cmd: Command): Command {
  return cmd
    .addOption(new Option('--instance <name>', 'which IMS instance').default(process.env['IMS_INSTANCE'] ?? 'main').argParser(instanceName))
    .option('--run-dir <dir>', 'directory of the ring files (default /dev/shm/ims-<instance>)')
    .option('--data-dir <dir>', 'directory of durable data (default ./data/<instance>)');
}

function formatAge(ms: number): string {
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)}m${Math.floor((ms % 60_000) / 1000)}s`;
  return `${Math.floor(ms / 3_600_000)}h${Math.floor((ms % 3_600_000) / 60_000)}m`;
}

function printStatus(s: StatusReport): void {
  const out: string[] = [];
  out.push(`instance ${s.instance}: ${s.running ? `running, supervisor pid ${s.supervisorPid}, up ${formatAge(s.uptimeMs)}` : 'NOT running'}`);
  out.push('');
  out.push(`${'PROCESS'.padEnd(24)}${'PID'.padStart(8)}  ${'CORES'.padEnd(8)}${'STATUS'.padEnd(10)}${'RESTARTS'.padStart(8)}  LAST EXIT`);
  for (const p of s.processes) {
    out.push(`${p.name.padEnd(24)}${String(p.pid).padStart(8)}  ${p.cpus.join(',').padEnd(8)}${p.status.padEnd(10)}${String(p.restarts).padStart(8)}  ${p.lastExit ?? '-'}`);
  }
  for (const r of s.rings) {
    out.push('');
    out.push(`ring ${r.name}: tail ${r.tail}, ${r.records} records, producer pid ${r.producerPid || '-'}`);
    for (const c of r.consumers) {
      out.push(`  ${c.name.padEnd(22)} position ${String(c.position).padStart(12)}  lag ${String(c.lag).padStart(10)} B  ${c.gating ? 'gating' : 'non-gating'}${c.lapped ? `  lapped ${c.lapped}x` : ''}${c.alive ? '' : '  (detached)'}`);
    }
  }
  const j = s.journal;
  if (j !== null) {
    out.push('');
    out.push(`journal: ${j.state}, ${j.durability}, head ${j.headSeq}, durable ${j.durableSeq}, visible ${j.visibleSeq}, engine epoch ${j.engineEpoch}, fsync avg ${j.syncAvgUs} µs max ${j.maxSyncUs} µs${j.fault ? `, FAULT: ${j.fault}` : ''}`);
    for (const c of j.consumers) out.push(`  ${c.name.padEnd(22)} last seq ${String(c.lastSeq).padStart(12)}  lag ${String(c.lagEntries).padStart(8)} entries  (${c.mode})`);
  }
  if (s.engines !== null) {
    out.push('');
    out.push(formatEngineStatus(s.engines));
  }
  const pms = s.productManagers;
  if (pms !== null) {
    out.push('');
    out.push(`product managers: leader ${pms.leader ?? 'NONE'}, epoch ${pms.lease?.epoch ?? '-'}`);
    for (const i of pms.instances) {
      if (i === null) continue;
      out.push(`  pm-${i.instance}: ${i.role}, epoch ${i.epoch}, last seq ${i.lastSeq}, in flight ${i.inFlight}, state hash ${i.stateHash} at seq ${i.hashSeq}`);
    }
  }
  process.stdout.write(out.join('\n') + '\n');
}

async function stopInstance(o: InstanceOptions, timeoutMs: number): Promise<number> {
  const runDir = runDirOf(o);
  const state = readRunState(runDir);
  if (state === null) {
    process.stdout.write(`ims: instance '${o.instance}' is not running (no ${runDir}/supervisor.json)\n`);
    return 0;
  }
  if (pidAlive(state.supervisorPid)) {
    process.kill(state.supervisorPid, 'SIGTERM');
    const deadline = Date.now() + timeoutMs;
    while (pidAlive(state.supervisorPid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    if (pidAlive(state.supervisorPid)) {
      process.stderr.write(`ims: supervisor pid ${state.supervisorPid} did not stop within ${timeoutMs} ms; killing it and its processes\n`);
      process.kill(state.supervisorPid, 'SIGKILL');
    }
  }
  // Whatever the supervisor could not clean up (it was killed), we do: no process, no stale file.
  let killed = 0;
  for (const p of state.processes) {
    if (pidAlive(p.pid) && fs.existsSync(`/proc/${p.pid}/cmdline`) && fs.readFileSync(`/proc/${p.pid}/cmdline`, 'utf8').includes(PACKAGE_ROOT)) {
      process.kill(p.pid, 'SIGKILL');
      killed++;
    }
  }
  fs.rmSync(runDir, { recursive: true, force: true });
  process.stdout.write(`ims: instance '${o.instance}' stopped${killed ? ` (killed ${killed} orphaned processes)` : ''}\n`);
  return 0;
}

export function buildProgram(): Command {
  const program = new Command('ims').description('IMS inventory exchange: operate a running instance').showHelpAfterError();

  withInstance(program.command('start'))
    .description('create the bus and start every process, pinned, under a supervisor (foreground; Ctrl-C stops all)')
    .addOption(new Option('--profile <name>', 'demo: open around the clock, demo accounts and products, async journal; production: trading calendar, fsync journal, no demo data').choices(['demo', 'production']).default(process.env['IMS_PROFILE'] ?? 'demo'))
    .addOption(new Option('--topology <kind>', 'exchange (the trading system) or exercise (a bus load with no trading)').choices(['exchange', 'exercise']).default('exchange'))
    .option('--exercise-rate <n>', 'records/s the bus exerciser publishes (exercise topology)', nonNegativeInt, 1000)
    .option('--cores <n>', 'plan for this many cores (default: this machine)', nonNegativeInt)
    .option('--gateways <n>', 'gateway processes, each with its own rings to the product manager, all on the same trading and public ports (SO_REUSEPORT)', nonNegativeInt, 1)
    .option('--trading-port <n>', 'trading listener of every gateway (kiosk portal, REST, WebSocket; 0 = each gateway any free port of its own)', nonNegativeInt, Number(process.env['IMS_GATEWAY_TRADING_PORT'] ?? 8080))
    .option('--public-port <n>', 'public market-data listener of every gateway (0 = each gateway any free port of its own)', nonNegativeInt, Number(process.env['IMS_GATEWAY_PUBLIC_PORT'] ?? 8081))
    .option('--products <file>', 'product list JSON for the gateways (the demo profile writes its own)')
    .option('--metrics-port <n>', 'serve Prometheus /metrics on this port (0 = any free port; default: IMS_METRICS_PORT, else no metrics server)', nonNegativeInt)
    .action((o: InstanceOptions & { exerciseRate: number; cores?: number; profile: Profile; topology: TopologyKind; gateways: number; tradingPort: number; publicPort: number; products?: string; metricsPort?: number }) => {
      const runDir = runDirOf(o);
      const dataDir = dataDirOf(o);
      let productsFile = o.products;
      if (productsFile === undefined && o.profile === 'demo') {
        fs.mkdirSync(dataDir, { recursive: true });
        productsFile = path.join(dataDir, 'products.json');
        fs.writeFileSync(productsFile, JSON.stringify({ priceDecimals: 2, products: DEMO_PRODUCTS.map(({ referencePrice: _r, ...p }) => p) }, null, 1));
      }
      if (o.topology === 'exchange' && productsFile === undefined) {
        process.stderr.write('ims start: the production profile needs --products <file> (the product list the gateways validate against)\n');
        process.exitCode = 2;
        return;
      }
      const topology = buildTopology({
        kind: o.topology,
        runDir,
        dataDir,
        profile: o.profile,
        exerciseRate: o.exerciseRate,
        gateways: Math.max(1, o.gateways),
        leaseTimeoutMs: Number(process.env['IMS_LEASE_TIMEOUT_MS'] ?? defaultLeaseTimeoutMs(o.cores ?? os.availableParallelism())),
        tradingPort: o.tradingPort,
        publicPort: o.publicPort,
        ...(productsFile !== undefined ? { productsFile } : {}),
      });
      const supervisor = new Supervisor({
        instance: o.instance,
        runDir,
        dataDir,
        packageRoot: PACKAGE_ROOT,
        topology,
        ...(o.cores !== undefined ? { cores: o.cores } : {}),
        ...(process.env['IMS_CORES'] !== undefined ? { coreOverrides: process.env['IMS_CORES'] } : {}),
      });
      supervisor.handleSignals();
      try {
        supervisor.start();
      } catch (e) {
        process.stderr.write(`${(e as Error).message}\n`);
        void supervisor.stop('start failed').then(() => process.exit(1));
        return;
      }
      for (const line of topology.banner) process.stdout.write(`ims: ${line}\n`);
      // The configuration's metrics settings arrive as IMS_METRICS_PORT / IMS_METRICS_HOST (the
      // EnvironmentFile); the flag wins. The server reads the run dir only, so it dies with us.
      const metricsPort = o.metricsPort ?? (process.env['IMS_METRICS_PORT'] !== undefined ? nonNegativeInt(process.env['IMS_METRICS_PORT']) : undefined);
      if (metricsPort !== undefined) {
        const host = process.env['IMS_METRICS_HOST'] ?? '127.0.0.1';
        startMetricsServer({ runDir, port: metricsPort, host }).then(
          (m) => process.stdout.write(`ims: metrics: http://${m.host}:${m.port}/metrics\n`),
          (e: Error) => process.stderr.write(`ims: the metrics server could not start on ${host}:${metricsPort}: ${e.message} (the exchange runs on without it)\n`),
        );
      }
      process.stdout.write(`ims: 'ims status --instance ${o.instance}' shows the processes; Ctrl-C or 'ims stop --instance ${o.instance}' stops them\n`);
    });

  withInstance(program.command('status'))
    .description('show each process (pid, cores, restarts) and each ring (positions, consumer lag)')
    .option('--json', 'print one JSON object')
    .option('--watch [ms]', 'refresh until interrupted (default every 1000 ms)')
    .action(async (o: InstanceOptions & { json?: boolean; watch?: string | boolean }) => {
      const runDir = runDirOf(o);
      let lastCounters: { readings: ReturnType<typeof readProcessCounters>; atMs: number } | null = null;
      const once = (): boolean => {
        const state = readRunState(runDir);
        if (state === null) {
          if (o.json) process.stdout.write(JSON.stringify({ instance: o.instance, running: false }) + '\n');
          else process.stdout.write(`ims: instance '${o.instance}' is not running (start it with 'npm start' or 'ims start --instance ${o.instance}')\n`);
          return false;
        }
        const report = collectStatus(state);
        if (o.json) process.stdout.write(JSON.stringify(report) + '\n');
        else {
          printStatus(report);
          // Per-process counters (orders in, orders/s between two refreshes of --watch, p99 round trip).
          const readings = readProcessCounters(runDir);
          const lines = formatProcessCounters(readings, lastCounters, Date.now());
          lastCounters = { readings, atMs: Date.now() };
          if (lines.length > 0) process.stdout.write(['', ...lines].join('\n') + '\n');
        }
        return report.running;
      };
      const running = once();
      if (o.watch === undefined || o.watch === false) {
        process.exitCode = running ? 0 : 3;
        return;
      }
      const every = typeof o.watch === 'string' ? nonNegativeInt(o.watch) : 1000;
      for (;;) {
        await new Promise((r) => setTimeout(r, every));
        if (!o.json) process.stdout.write('\x1b[2J\x1b[H');
        once();
      }
    });

  withInstance(program.command('stop'))
    .description('stop every process of the instance and remove its ring files')
    .option('--timeout <ms>', 'how long to wait for a clean stop', nonNegativeInt, 10_000)
    .action(async (o: InstanceOptions & { timeout: number }) => {
      process.exitCode = await stopInstance(o, o.timeout);
    });

  const config = program.command('config').description('the configuration file and IMS_* environment');
  config
    .command('check')
    .description('validate the configuration; print every problem with what to do')
    .option('--file <file>', 'configuration file (JSON)', process.env['IMS_CONFIG'])
    .option('--json', 'one JSON object')
    .action((o: { file?: string; json?: boolean }) => {
      process.exitCode = configCheckCommand({ file: o.file, env: process.env, cwd: PACKAGE_ROOT, json: o.json === true });
    });

  const systemd = program.command('systemd').description('run IMS under systemd');
  systemd
    .command('install')
    .description('write the systemd units and EnvironmentFile for the installed location')
    .option('--prefix <dir>', 'where the package is installed (ExecStart runs <prefix>/dist/...)', PACKAGE_ROOT)
    .option('--file <file>', 'configuration file (JSON)', process.env['IMS_CONFIG'])
    .option('--dir <dir>', 'unit directory', '/etc/systemd/system')
    .option('--env-file <file>', 'EnvironmentFile (default <prefix>/etc/ims.env)')
    .action((o: { prefix: string; file?: string; dir: string; envFile?: string }) => {
      process.exitCode = systemdInstallCommand({ prefix: o.prefix, file: o.file, dir: o.dir, env: process.env, ...(o.envFile !== undefined ? { envFile: o.envFile } : {}) });
    });

  const drill = program.command('drill').description('failover drills against a running instance under load');
  withInstance(drill.command('engine-failover').alias('failover'))
    .description('SIGKILL the hot matching engine, time the takeover, and audit the journal (no gap, no duplicate, equals a clean replay)')
    .option('--wait-for-restart <ms>', 'wait for the killed engine to come back as the warm', nonNegativeInt, 10_000)
    .action(async (o: InstanceOptions & { waitForRestart: number }) => {
      const report = await runEngineFailoverDrill({ runDir: runDirOf(o), waitForRestartMs: o.waitForRestart });
      process.stdout.write(formatFailoverDrillReport(report) + '\n');
      process.exitCode = report.ok ? 0 : 1;
    });

  withInstance(drill.command('pm-failover'))
    .description('SIGKILL the hot product manager, time the takeover, audit the journal and compare the new leader\'s state hash with a replay')
    .option('--wait-for-restart <ms>', 'wait for the killed instance to come back as the warm', nonNegativeInt, 10_000)
    .action(async (o: InstanceOptions & { waitForRestart: number }) => {
      const report = await runPmFailoverDrill({ runDir: runDirOf(o), waitForRestartMs: o.waitForRestart });
      process.stdout.write(formatPmFailoverDrillReport(report) + '\n');
      process.exitCode = report.ok ? 0 : 1;
    });

  withWsLoadOptions(withInstance(drill.command('gateway-kill')), { clients: 8, ordersPerSecond: 200 })
    .description('SIGKILL a gateway under a WebSocket order load (start with --gateways 2): its clients reconnect to another gateway and resend unanswered orders with the same clientOrderId; time detection and RTO, audit every acknowledged order against the journal')
    .option('--gateway <n>', 'the gateway to kill', positiveIntOption, 1)
    .option('--load-ms <ms>', 'load before the kill, and after it (longer if no engine checkpoint covers the kill yet)', positiveIntOption, 3_000)
    .option('--wait-for-restart <ms>', 'wait for the supervisor to bring the killed gateway back (0: do not)', nonNegativeInt, 20_000)
    .action(async (o: InstanceOptions & WsLoadFlags & { gateway: number; loadMs: number; waitForRestart: number }) => {
      const report = await runGatewayKillDrill({ runDir: runDirOf(o), ...wsLoadOptionsOf(o), gatewayId: o.gateway, loadBeforeKillMs: o.loadMs, loadAfterKillMs: o.loadMs, waitForRestartMs: o.waitForRestart });
      process.stdout.write((o.json ? JSON.stringify(report) : formatGatewayKillDrillReport(report)) + '\n');
      process.exitCode = report.ok ? 0 : 1;
    });

  withWsLoadOptions(withInstance(drill.command('reporter-crash')), { clients: 4, ordersPerSecond: 200 })
    .description('SIGKILL the reporter under an order load (again while it catches up, with --kills 2); the supervisor restarts it, it resumes from its stored seq; time detection and catch-up, then reconcile the report database with the journal')
    .option('--kills <n>', 'how many times to kill it', positiveIntOption, 2)
    .option('--load-ms <ms>', 'load before the first kill', positiveIntOption, 1_500)
    .action(async (o: InstanceOptions & WsLoadFlags & { kills: number; loadMs: number }) => {
      const report = await runReporterCrashDrill({ runDir: runDirOf(o), ...wsLoadOptionsOf(o), kills: o.kills, loadBeforeKillMs: o.loadMs });
      process.stdout.write((o.json ? JSON.stringify(report) : formatReporterCrashDrillReport(report)) + '\n');
      process.exitCode = report.ok ? 0 : 1;
    });

  // sequencer-restart and full-restart load the exchange through REST (processes/drills/drill-load.ts).
  const restLoadUrl = async (o: InstanceOptions & { url?: string }): Promise<string> => {
    if (o.url !== undefined) return o.url;
    const gateway = (await findGatewayEndpoints(runDirOf(o)))[0];
    if (gateway === undefined) throw new Error(`no gateway answers for instance '${o.instance}'; pass --url http://host:port`);
    return `http://${gateway.host}:${gateway.port}`;
  };
  const withRestLoad = (cmd: Command): Command =>
    cmd
      .option('--url <url>', "the gateway's trading listener (default: gateway-1 of the instance)")
      .option('--orders-per-second <n>', 'steady order load over the demo colleagues', positiveIntOption, 200)
      .option('--client-timeout-ms <ms>', 'a request unanswered this long is sent again with the same clientOrderId', positiveIntOption, 10_000)
      .option('--load-ms <ms>', 'load before the kill, and after orders are acknowledged again', positiveIntOption, 3_000)
      .option('--json', 'print the report as one JSON object', false);
  type RestLoadFlags = { url?: string; ordersPerSecond: number; clientTimeoutMs: number; loadMs: number; json: boolean };

  withRestLoad(withInstance(drill.command('sequencer-restart')))
    .description('SIGKILL the sequencer under a REST order load; the supervisor restarts it and it recovers the journal from disk; time detection, recovery and RTO, audit every acknowledged order (journaled once), the state hashes against a replay, conservation')
    .action(async (o: InstanceOptions & RestLoadFlags) => {
      const report = await runSequencerRestartDrill({ runDir: runDirOf(o), gatewayUrl: await restLoadUrl(o), load: { ordersPerSecond: o.ordersPerSecond, attemptTimeoutMs: o.clientTimeoutMs }, loadBeforeKillMs: o.loadMs, loadAfterRecoveryMs: o.loadMs });
      process.stdout.write((o.json ? JSON.stringify(report) : formatSequencerRestartReport(report)) + '\n');
      process.exitCode = report.ok ? 0 : 1;
    });

  withRestLoad(withInstance(drill.command('full-restart')))
    .description('kill -9 every process of the instance (supervisor included), wipe its /dev/shm run directory as a reboot would, start it again from disk with the same command; time the RTO, audit every order acknowledged before and after, balances before and after, state hashes against a replay')
    .option('--restart-timeout <ms>', 'how long the system may take to come back and acknowledge orders', positiveIntOption, 180_000)
    .action(async (o: InstanceOptions & RestLoadFlags & { restartTimeout: number }) => {
      const report = await runFullRestartDrill({ runDir: runDirOf(o), gatewayUrl: await restLoadUrl(o), load: { ordersPerSecond: o.ordersPerSecond, attemptTimeoutMs: o.clientTimeoutMs }, loadBeforeKillMs: o.loadMs, loadAfterRecoveryMs: o.loadMs, restartTimeoutMs: o.restartTimeout });
      process.stdout.write((o.json ? JSON.stringify(report) : formatFullRestartReport(report)) + '\n');
      process.exitCode = report.ok ? 0 : 1;
    });

  withInstance(program.command('reconcile'))
    .description('compare the report database with the journal (orders, executions, quantities, cash and inventory per product and account); prints every difference')
    .action(async (o: InstanceOptions) => {
      const dataDir = dataDirOf(o);
      const result = await reconcile({ database: reportStoreOptionsFromEnv(dataDir, process.env, true), journalDir: path.join(dataDir, 'journal'), archiveDir: path.join(dataDir, 'journal-archive') });
      process.stdout.write(formatReconcileResult(result) + '\n');
      process.exitCode = result.ok ? 0 : 1;
    });

  const report = program.command('report').description('reports from the report database');
  withInstance(report.command('eod'))
    .description('end-of-day statements per outlet and a per-product summary (volume, VWAP, high, low) as CSV')
    .requiredOption('--date <date>', 'trading day, 2026-11-25 or 20261125')
    .option('--outlet <id>', 'only this outlet', nonNegativeInt)
    .option('--csv', 'write CSV files (the only format today)', true)
    .option('--out-dir <dir>', 'where the files go (default <data dir>/reports)')
    .action(async (o: InstanceOptions & { date: string; outlet?: number; outDir?: string }) => {
      const dataDir = dataDirOf(o);
      const result = await reportEod({ database: reportStoreOptionsFromEnv(dataDir, process.env, true), date: o.date, csv: true, outDir: o.outDir ?? path.join(dataDir, 'reports'), ...(o.outlet !== undefined ? { outlet: o.outlet } : {}) });
      process.stdout.write(JSON.stringify(result, null, 2) + '\n');
    });

  const journal = program.command('journal').description('read, verify and archive the journal (the event store)');
  const journalDirs = (o: InstanceOptions): { dataDir: string; archiveDir: string; ringPath: string; statusPath: string } => {
    const runDir = runDirOf(o);
    const dataDir = dataDirOf(o);
    return { dataDir: path.join(dataDir, 'journal'), archiveDir: path.join(dataDir, 'journal-archive'), ringPath: path.join(runDir, 'journal.ring'), statusPath: path.join(runDir, 'journal.status') };
  };
  const liveDirs = (o: InstanceOptions): ReturnType<typeof journalDirs> | Omit<ReturnType<typeof journalDirs>, 'ringPath' | 'statusPath'> => {
    const d = journalDirs(o);
    return fs.existsSync(d.statusPath) ? d : { dataDir: d.dataDir, archiveDir: d.archiveDir };
  };
  withInstance(journal.command('tail'))
    .description('print the last entries (and follow new ones with --follow)')
    .option('-n, --count <n>', 'how many of the last entries', nonNegativeInt, 10)
    .option('--follow', 'keep printing new entries until interrupted')
    .option('--product <p>', 'only entries about this product (id or symbol)')
    .option('--json', 'one JSON object per line')
    .action(async (o: InstanceOptions & { count: number; follow?: boolean; product?: string; json?: boolean }) => {
      const controller = new AbortController();
      process.once('SIGINT', () => controller.abort());
      await journalTail({ ...liveDirs(o), count: o.count, follow: o.follow === true, json: o.json === true, ...(o.product !== undefined ? { product: o.product } : {}), signal: controller.signal });
    });
  withInstance(journal.command('replay'))
    .description('a readable dump of entries --from SEQ --to SEQ')
    .option('--from <seq>', 'first seq', nonNegativeInt, 1)
    .option('--to <seq>', 'last seq (default: the head)', nonNegativeInt)
    .option('--product <p>', 'only entries about this product (id or symbol)')
    .option('--json', 'one JSON object per line')
    .action((o: InstanceOptions & { from: number; to?: number; product?: string; json?: boolean }) => {
      journalReplay({ ...liveDirs(o), from: o.from, ...(o.to !== undefined ? { to: o.to } : {}), json: o.json === true, ...(o.product !== undefined ? { product: o.product } : {}) });
    });
  withInstance(journal.command('verify'))
    .description('check every CRC, the gap-free sequence, and replay the commands through a fresh engine against the recorded outputs')
    .option('--no-engine', 'skip the determinism replay')
    .action((o: InstanceOptions & { engine: boolean }) => {
      const report = journalVerify({ ...liveDirs(o), engine: o.engine });
      process.stdout.write(JSON.stringify(report, null, 2) + '\n');
      process.exitCode = report.ok ? 0 : 1;
    });
  withInstance(journal.command('archive'))
    .description('move closed trading days to the archive, compressed (they stay readable by replay)')
    .option('--dry-run', 'list what would move')
    .action((o: InstanceOptions & { dryRun?: boolean }) => {
      const d = journalDirs(o);
      const result = journalArchive({ dataDir: d.dataDir, archiveDir: d.archiveDir, dryRun: o.dryRun === true, out: (line) => process.stdout.write(line + '\n') });
      process.stdout.write(`archived ${result.archived.length} segment(s), kept ${result.kept}\n`);
    });

  return program;
}

if (require.main === module) {
  buildProgram()
    .parseAsync(process.argv)
    .catch((e: Error) => {
      process.stderr.write(`ims: ${e.message}\n`);
      process.exit(1);
    });
}
