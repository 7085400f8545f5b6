// The systemd units are generated from the supervisor's topology: same processes, arguments and
// cores as `ims start`; checked by `systemd-analyze verify` (the real parser) where it exists.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import t from 'tap';
import { RingFile } from '../bus/ring';
import { loadConfig, type ImsConfig } from '../processes/operations/config';
import { assignCpus, topologyForConfig } from '../processes/operations/config-topology';
import { generateUnits, installUnits, type UnitFile } from '../processes/operations/systemd-units';
import { systemdInstallCommand } from '../processes/operations/operator-commands';
import { Supervisor } from '../processes/supervisor/supervisor';
import type { ProcessSpec, Topology } from '../processes/supervisor/topology';

const ROOT = path.resolve(__dirname, '..');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ims-systemd-'));
const instance = `sdtest${process.pid}`;
const dataDir = path.join(dir, 'data');
t.teardown(() => {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.rmSync(`/dev/shm/ims-${instance}`, { recursive: true, force: true });
});

function config(extra: NodeJS.ProcessEnv = {}): ImsConfig {
  return loadConfig({ env: { IMS_PROFILE: 'production', IMS_INSTANCE: instance, IMS_DATA_DIR: dataDir, ...extra }, machineCores: 8 });
}

/** The exchange topology plus the processes other issues add (same names and shapes they use). */
function fullTopology(c: ImsConfig): Topology {
  const base = topologyForConfig(c);
  const extra: ProcessSpec[] = [
    { name: 'engine-a', script: 'dist/processes/matching-engine/main.js', args: ['--replica', 'a', '--run-dir', c.runDir], group: 'critical' },
    { name: 'engine-b', script: 'dist/processes/matching-engine/main.js', args: ['--replica', 'b', '--run-dir', c.runDir], group: 'engine-warm' },
    { name: 'pm-a', script: 'dist/processes/product-manager/main.js', args: ['--replica', 'a'], group: 'critical' },
    { name: 'pm-b', script: 'dist/processes/product-manager/main.js', args: ['--replica', 'b'], group: 'engine-warm' },
    { name: 'market-data', script: 'dist/processes/market-data/main.js', args: ['--run-dir', c.runDir], group: 'background' },
    { name: 'reporter', script: 'dist/processes/reporter/main.js', args: ['--data-dir', c.dataDir], group: 'background' },
    ...c.gateways.tradingPorts.map((port, i): ProcessSpec => ({ name: `gateway-${i + 1}`, script: 'dist/processes/gateway/main.js', args: ['--gateway-id', String(i + 1), '--trading-port', String(port), '--public-port', String(c.gateways.publicPorts[i])], group: 'edge' })),
  ];
  return { ...base, processes: [...base.processes, ...extra] };
}

/** A strict reading of unit-file syntax: sections, Key=Value, comments; returns section → key → values. */
function parseUnit(text: string, name: string): Map<string, Map<string, string[]>> {
  const out = new Map<string, Map<string, string[]>>();
  let current: Map<string, string[]> | null = null;
  for (const [i, line] of text.split('\n').entries()) {
    if (line === '' || line.startsWith('#')) continue;
    const s = /^\[([A-Za-z]+)\]$/.exec(line);
    if (s !== null) {
      current = new Map();
      out.set(s[1]!, current);
      continue;
    }
    const kv = /^([A-Za-z][A-Za-z0-9]*)=(.*)$/.exec(line);
    if (kv === null || current === null) throw new Error(`${name}:${i + 1}: not a section or Key=Value: ${JSON.stringify(line)}`);
    current.set(kv[1]!, [...(current.get(kv[1]!) ?? []), kv[2]!]);
  }
  return out;
}

function one(units: UnitFile[], name: string): Map<string, Map<string, string[]>> {
  const f = units.find((u) => u.name === name);
  if (f === undefined) throw new Error(`no ${name} among ${units.map((u) => u.name).join(', ')}`);
  return parseUnit(f.content, name);
}

const hasVerify = spawnSync('systemd-analyze', ['--version'], { stdio: 'ignore' }).status === 0;

function verify(unitDir: string, names: string[]): { code: number | null; output: string } {
  const r = spawnSync('systemd-analyze', ['verify', '--man=no', ...names.map((n) => `./${n}`)], { cwd: unitDir, encoding: 'utf8', timeout: 20_000 });
  return { code: r.status, output: `${r.stdout}${r.stderr}`.trim() };
}

t.test('every process of the exchange topology gets a hardened unit on the cores the supervisor would give it', async (t) => {
  const c = config();
  const topology = topologyForConfig(c);
  const units = generateUnits({ prefix: path.join(dir, 'prefix'), config: c, cores: 8 });
  const supervisor = new Supervisor({ instance, runDir: c.runDir, dataDir, packageRoot: ROOT, topology, cores: 8, log: () => undefined });
  // Processes with several instances (gateway-n, engine-x, pm-x) run from templates, checked with
  // their drop-ins in the next test; here every process with a unit of its own.
  const unitOf = (name: string): string => {
    const m = /^(gateway|engine|pm)-([a-z0-9]+)$/.exec(name);
    return m === null ? `ims-${name}.service` : `ims-${m[1]}@${m[2]}.service`;
  };
  for (const p of supervisor.snapshot().processes) {
    if (unitOf(p.name).includes('@')) continue;
    const unit = one(units, `ims-${p.name}.service`);
    const service = unit.get('Service')!;
    t.same(service.get('CPUAffinity'), [p.cpus.join(' ')], `${p.name}: CPUAffinity= is the supervisor's cores ${p.cpus}`);
    const spec = topology.processes.find((s) => s.name === p.name)!;
    t.ok(service.get('ExecStart')![0]!.startsWith(`${process.execPath} ${path.join(dir, 'prefix', spec.script)} `), `${p.name}: runs the topology's script under the install prefix`);
    t.ok(service.get('ExecStart')![0]!.includes(spec.args.join(' ')), `${p.name}: with the topology's arguments`);
    for (const [k, v] of [['Restart', 'on-failure'], ['NoNewPrivileges', 'yes'], ['ProtectSystem', 'strict'], ['PrivateTmp', 'yes'], ['User', 'ims'], ['StandardOutput', 'journal']] as const) {
      t.same(service.get(k), [v], `${p.name}: ${k}=${v}`);
    }
    t.ok(Number(service.get('LimitNOFILE')![0]) >= 65_536, `${p.name}: LimitNOFILE is enough for 10,000+ sockets`);
    t.same(service.get('ReadWritePaths'), [`${dataDir} /dev/shm`], `${p.name}: writes only the data dir and /dev/shm`);
    t.ok(service.get('EnvironmentFile')!.includes(path.join(dir, 'prefix', 'etc', 'ims.env')), `${p.name}: reads the EnvironmentFile`);
    t.same(unit.get('Unit')!.get('StartLimitBurst'), ['10'], `${p.name}: StartLimitBurst from the supervisor's restart policy`);
    t.same(unit.get('Unit')!.get('Requires'), ['ims-bus.service'], `${p.name}: needs the bus`);
  }
  t.same(one(units, 'ims-sequencer.service').get('Service')!.get('RestartPreventExitStatus'), ['3'], 'a sequencer that refuses to start is not restarted in a loop');
  const target = one(units, 'ims.target').get('Unit')!;
  t.same(target.get('Wants')![0]!.split(' ').sort(), [...topology.processes.map((p) => unitOf(p.name)), 'ims-metrics.service'].sort(), 'ims.target wants every process and the metrics');
  const bus = one(units, 'ims-bus.service').get('Service')!;
  t.same(bus.get('Type'), ['oneshot']);
  t.match(bus.get('ExecStop')![0]!, /create-bus\.js --remove$/);
  const env = units.find((u) => u.kind === 'env')!.content;
  t.match(env, /^IMS_DURABILITY="fsync"$/m, 'the EnvironmentFile carries the configuration');
});

t.test('several gateways, engines and product managers become templates with per-instance drop-ins, started in order', async (t) => {
  const c = config({ IMS_GATEWAY_COUNT: '2' });
  const topology = fullTopology(c);
  const units = generateUnits({ prefix: path.join(dir, 'prefix'), config: c, topology, cores: 8 });
  const names = units.map((u) => u.name);
  for (const f of ['ims-gateway@.service', 'ims-engine@.service', 'ims-pm@.service', 'ims-market-data.service', 'ims-reporter.service', 'ims-sequencer.service', 'ims-control.service', 'ims-bus.service', 'ims.target']) t.ok(names.includes(f), `${f} is generated`);
  const { cpus } = assignCpus(topology.processes, 8, undefined);
  for (const [proc, unit] of [['gateway-2', 'ims-gateway@2'], ['engine-b', 'ims-engine@b'], ['pm-a', 'ims-pm@a']] as const) {
    const dropin = one(units, `${unit}.service.d/10-instance.conf`).get('Service')!;
    t.same(dropin.get('CPUAffinity'), [cpus.get(proc)!.join(' ')], `${unit}: the instance's own cores`);
    const spec = topology.processes.find((p) => p.name === proc)!;
    t.same(dropin.get('Environment'), [`IMS_PROCESS_NAME=${proc}`, `"IMS_UNIT_ARGS=${spec.args.join(' ')}"`], `${unit}: the instance's own arguments`);
  }
  t.match(one(units, 'ims-gateway@.service').get('Service')!.get('ExecStart')![0]!, /gateway\/main\.js \$IMS_UNIT_ARGS$/);
  const gwAfter = one(units, 'ims-gateway@.service').get('Unit')!.get('After')![0]!.split(' ');
  for (const before of ['ims-bus.service', 'ims-sequencer.service', 'ims-engine@a.service', 'ims-pm@b.service']) t.ok(gwAfter.includes(before), `gateways start after ${before}`);
  const engineAfter = one(units, 'ims-engine@.service').get('Unit')!.get('After')![0]!.split(' ');
  t.same(engineAfter, ['ims-bus.service', 'ims-sequencer.service'], 'engines start right after the sequencer');
  t.ok(one(units, 'ims.target').get('Unit')!.get('Wants')![0]!.split(' ').includes('ims-gateway@2.service'), 'the target wants each instance');
});

t.test('systemd-analyze verify accepts every unit (or the units at least parse)', async (t) => {
  const c = config({ IMS_GATEWAY_COUNT: '2' });
  const unitDir = path.join(dir, 'verify-units');
  const installed = installUnits({ prefix: path.join(dir, 'prefix'), config: c, dir: unitDir, topology: fullTopology(c), cores: 8 });
  const all = installed.written.filter((f) => f.startsWith(unitDir + path.sep));
  for (const f of all) t.doesNotThrow(() => parseUnit(fs.readFileSync(f, 'utf8'), f), `${path.relative(unitDir, f)} parses`);
  if (!hasVerify) {
    t.comment('systemd-analyze verify NOT RUN: systemd-analyze is not installed here (apt-get install systemd); the units were parse-checked only');
    return;
  }
  // Instances stand for their template (verify loads the template and the instance drop-in).
  const names = fs.readdirSync(unitDir).filter((n) => /\.(service|target)$/.test(n) && !n.includes('@.'));
  names.push('ims-gateway@1.service', 'ims-gateway@2.service', 'ims-engine@a.service', 'ims-engine@b.service', 'ims-pm@a.service', 'ims-pm@b.service');
  const r = verify(unitDir, names);
  t.equal(r.code, 0, 'systemd-analyze verify exits 0');
  t.equal(r.output, '', `systemd-analyze verify has nothing to say (unknown keys and bad values only print): ${r.output}`);
  // The check is real: a broken drop-in is reported.
  fs.appendFileSync(path.join(unitDir, 'ims-gateway@2.service.d', '10-instance.conf'), 'CPUAffinity=not-a-core\n');
  t.match(verify(unitDir, ['ims-gateway@2.service']).output, /Failed to parse CPU affinity/, 'a bad value is caught by verify');
});

t.test('install rewrites the units of a changed topology and removes the ones it no longer has', async (t) => {
  const unitDir = path.join(dir, 'reinstall');
  const two = config({ IMS_GATEWAY_COUNT: '2' });
  installUnits({ prefix: path.join(dir, 'prefix'), config: two, dir: unitDir, topology: fullTopology(two), cores: 8 });
  t.ok(fs.existsSync(path.join(unitDir, 'ims-gateway@2.service.d', '10-instance.conf')));
  fs.writeFileSync(path.join(unitDir, 'ims-operator-own.service'), '[Service]\nExecStart=/bin/true\n');
  const oneGw = config({ IMS_GATEWAY_COUNT: '1' });
  installUnits({ prefix: path.join(dir, 'prefix'), config: oneGw, dir: unitDir, topology: fullTopology(oneGw), cores: 8 });
  t.notOk(fs.existsSync(path.join(unitDir, 'ims-gateway@2.service.d')), 'the removed gateway instance is gone');
  t.ok(fs.existsSync(path.join(unitDir, 'ims-gateway@1.service.d', '10-instance.conf')));
  t.ok(fs.existsSync(path.join(unitDir, 'ims-operator-own.service')), 'a unit the operator wrote is left alone');
});

t.test('ims systemd install refuses a bad configuration and writes nothing', async (t) => {
  const unitDir = path.join(dir, 'refused');
  const err: string[] = [];
  const code = systemdInstallCommand({ prefix: path.join(dir, 'prefix'), dir: unitDir, env: { IMS_PROFILE: 'production', IMS_DATA_DIR: dataDir, IMS_DEMO_DATA: 'true' }, err: (l) => err.push(l), out: () => undefined });
  t.equal(code, 1);
  t.match(err.join('\n'), /nothing was written[\s\S]*demo products/);
  t.notOk(fs.existsSync(unitDir));
  const out: string[] = [];
  t.equal(systemdInstallCommand({ prefix: path.join(dir, 'prefix'), dir: unitDir, env: { IMS_PROFILE: 'production', IMS_INSTANCE: instance, IMS_DATA_DIR: dataDir }, out: (l) => out.push(l) }), 0);
  t.match(out.join('\n'), /wrote .*ims\.target[\s\S]*systemctl enable --now ims\.target/);
});

t.test('create-bus makes the rings and consumer slots the supervisor would, and removes them', async (t) => {
  const script = path.join(ROOT, 'dist', 'processes', 'operations', 'create-bus.js');
  const env = { ...process.env, IMS_PROFILE: 'demo', IMS_INSTANCE: instance, IMS_DATA_DIR: dataDir };
  const made = spawnSync(process.execPath, [script, '--topology', 'exercise'], { env, encoding: 'utf8', timeout: 20_000 });
  t.equal(made.status, 0, made.stderr);
  const ring = RingFile.open(`/dev/shm/ims-${instance}/exercise.ring`);
  t.same(ring.consumers().map((c) => c.name).sort(), ['exercise-gating', 'exercise-tap']);
  const again = spawnSync(process.execPath, [script, '--topology', 'exercise'], { env, encoding: 'utf8', timeout: 20_000 });
  t.equal(again.status, 0, 'running it again (a restart of ims-bus) keeps the rings');
  t.equal(RingFile.open(`/dev/shm/ims-${instance}/exercise.ring`).consumers().length, 2, 'and registers no slot twice');
  const removed = spawnSync(process.execPath, [script, '--remove'], { env, encoding: 'utf8', timeout: 20_000 });
  t.equal(removed.status, 0);
  t.notOk(fs.existsSync(`/dev/shm/ims-${instance}`));
});
