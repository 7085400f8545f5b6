// systemd units generated from the supervisor's topology, so what systemd runs cannot drift from
// what `ims start` runs: the same processes, arguments and cores (config-topology.ts assigns them
// for both), the same restart limits (DEFAULT_RESTART_POLICY) and stop grace (STOP_GRACE_MS).
//
//   ims.target ─ Requires ─► ims-bus.service (oneshot: creates the rings, removes them on stop)
//      │                         ▲ After/Requires
//      └─ Wants ─► ims-sequencer ─► ims-engine@a|b ─► ims-pm@a|b ─► control, market-data, reporter, … ─► ims-gateway@1..N
//                  (each unit is After= every unit of an earlier rank)        + ims-metrics.service
//
// Processes that come in several (gateway-N, engine-x, pm-x) become one template unit and an
// instance drop-in each (ims-gateway@1.service.d/10-instance.conf) carrying that instance's cores
// and arguments: a template cannot hold per-instance CPUAffinity= or ring paths itself.
//
// Type=simple: systemd orders starts, not readiness; each process waits for what it needs (the
// control process waits for the sequencer's status file), as under the supervisor.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { DEFAULT_RESTART_POLICY, STOP_GRACE_MS } from '../supervisor/supervisor';
import type { ProcessSpec, Topology } from '../supervisor/topology';
import { configEnvironment, type ImsConfig } from './config';
import { assignCpus, coreOverridesText, machineCores, topologyForConfig } from './config-topology';

export interface UnitFile {
  /** Relative to the unit directory: "ims-sequencer.service", "ims-gateway@1.service.d/10-instance.conf". */
  readonly name: string;
  readonly content: string;
  /** 'unit' files go to the unit directory; the 'env' file goes to envFile. */
  readonly kind: 'unit' | 'dropin' | 'env';
}

export interface GenerateUnitsOptions {
  /** Where the package is installed: ExecStart runs <prefix>/dist/…. */
  readonly prefix: string;
  readonly config: ImsConfig;
  /** The node binary (default: the one running this). */
  readonly nodePath?: string;
  /** The EnvironmentFile (default <prefix>/etc/ims.env). */
  readonly envFile?: string;
  /** Defaults to the exchange topology of the configuration; tests pass others. */
  readonly topology?: Topology;
  /** Cores of the machine the units are for (default: config.cores.count, else this machine). */
  readonly cores?: number;
}

/** Unit name prefix; one instance per host (the instance name is in the EnvironmentFile). */
export const UNIT_PREFIX = 'ims';
export const TARGET_UNIT = `${UNIT_PREFIX}.target`;
export const BUS_UNIT = `${UNIT_PREFIX}-bus.service`;
export const METRICS_UNIT = `${UNIT_PREFIX}-metrics.service`;
export const CREATE_BUS_SCRIPT = 'dist/processes/operations/create-bus.js';
export const METRICS_SCRIPT = 'dist/processes/operations/metrics-main.js';
/** The sequencer's "must not start" exit code (processes/sequencer/README.md): restarting cannot help. */
const SEQUENCER_REFUSED_EXIT = 3;

/**
 * Process families that run as templates. The instance is what follows the family's name in the
 * process name (gateway-2 → ims-gateway@2); rank orders starts (lower first).
 */
const FAMILIES: ReadonlyArray<{ readonly unit: string; readonly match: RegExp; readonly rank: number }> = [
  { unit: 'engine', match: /^(?:matching-)?engine-([a-z0-9]+)$/, rank: 2 },
  { unit: 'pm', match: /^(?:pm|product-manager)-([a-z0-9]+)$/, rank: 3 },
  { unit: 'gateway', match: /^gateway-([0-9]+)$/, rank: 5 },
];
const SINGLE_RANKS: Readonly<Record<string, number>> = { sequencer: 1 };
const DEFAULT_RANK = 4;

interface PlacedProcess {
  readonly spec: ProcessSpec;
  /** "ims-sequencer.service" or "ims-gateway@2.service". */
  readonly unitName: string;
  /** For templates: "ims-gateway@.service" and the instance "2". */
  readonly template: { readonly file: string; readonly instance: string } | null;
  readonly rank: number;
  readonly cpus: readonly number[];
}

function place(topology: Topology, cpus: ReadonlyMap<string, readonly number[]>): PlacedProcess[] {
  return topology.processes.map((spec) => {
    for (const f of FAMILIES) {
      const m = f.match.exec(spec.name);
      if (m !== null) {
        return { spec, unitName: `${UNIT_PREFIX}-${f.unit}@${m[1]}.service`, template: { file: `${UNIT_PREFIX}-${f.unit}@.service`, instance: m[1]! }, rank: f.rank, cpus: cpus.get(spec.name)! };
      }
    }
    return { spec, unitName: `${UNIT_PREFIX}-${spec.name}.service`, template: null, rank: SINGLE_RANKS[spec.name] ?? DEFAULT_RANK, cpus: cpus.get(spec.name)! };
  });
}

/**
 * One ExecStart word: systemd expands % specifiers and $ variables and splits on whitespace, so
 * those are escaped and anything with whitespace or quotes is double-quoted.
 */
export function execWord(word: string): string {
  if (word.includes('\n')) throw new TypeError(`an ExecStart argument cannot hold a newline: ${JSON.stringify(word)}`);
  const escaped = word.replace(/%/g, '%%').replace(/\$/g, '$$$$');
  return /[\s"'\\;]/.test(escaped) || escaped === '' ? `"${escaped.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"` : escaped;
}

/** Environment= in a unit: % specifiers are expanded there (escape them); $ is not. */
function environmentLine(key: string, value: string): string {
  return `Environment="${key}=${value.replace(/%/g, '%%').replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

function envFileLine(key: string, value: string): string {
  // systemd EnvironmentFile: KEY="value" with \" and \\ escaped.
  return `${key}="${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

function hardening(config: ImsConfig, readWrite: readonly string[]): string[] {
  const lines = [
    `User=${config.service.user}`,
    `Group=${config.service.group}`,
    'NoNewPrivileges=yes',
    'ProtectSystem=strict',
    // Read-only, not hidden: an install or a node binary under a home directory must stay runnable.
    'ProtectHome=read-only',
    'PrivateTmp=yes',
    'ProtectKernelTunables=yes',
    'ProtectKernelModules=yes',
    'ProtectControlGroups=yes',
    'RestrictSUIDSGID=yes',
    'RestrictNamespaces=yes',
    'LockPersonality=yes',
    // Not MemoryDenyWriteExecute: V8's JIT needs writable executable memory.
    'SystemCallArchitectures=native',
    'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK',
    'UMask=0027',
    `ReadWritePaths=${readWrite.map(execWord).join(' ')}`,
  ];
  // Under /var/lib, systemd creates the data dir owned by the service user before the sandbox.
  const stateDir = /^\/var\/lib\/(.+)$/.exec(config.dataDir);
  if (stateDir !== null) lines.push(`StateDirectory=${stateDir[1]}`, 'StateDirectoryMode=0750');
  return lines;
}

function readWritePaths(config: ImsConfig): string[] {
  const paths = [config.dataDir, '/dev/shm'];
  if (!config.runDir.startsWith('/dev/shm/')) paths.push(config.runDir);
  return paths;
}

function restartLines(): string[] {
  return ['Restart=on-failure', `RestartSec=${DEFAULT_RESTART_POLICY.minBackoffMs}ms`, `TimeoutStopSec=${Math.ceil(STOP_GRACE_MS / 1000)}s`, 'KillSignal=SIGTERM', 'KillMode=mixed'];
}

function startLimitLines(): string[] {
  // The supervisor's rule: more than maxRestartsInWindow crashes within windowMs → give up loudly.
  return [`StartLimitIntervalSec=${Math.ceil(DEFAULT_RESTART_POLICY.windowMs / 1000)}s`, `StartLimitBurst=${DEFAULT_RESTART_POLICY.maxRestartsInWindow}`];
}

function journalLines(identifier: string): string[] {
  return ['StandardOutput=journal', 'StandardError=journal', `SyslogIdentifier=${identifier}`];
}

function section(name: string, lines: readonly string[]): string {
  return `[${name}]\n${lines.join('\n')}\n`;
}

function header(config: ImsConfig): string {
  return `# Generated by 'ims systemd install' from the ${config.profile} configuration of instance '${config.instance}'${config.source.file ? ` (${config.source.file})` : ''}.\n# Do not edit: change the configuration or the topology and install again.\n`;
}

/** Every unit (and the EnvironmentFile) for the configured instance. */
export function generateUnits(options: GenerateUnitsOptions): UnitFile[] {
  const { config } = options;
  if (!path.isAbsolute(options.prefix)) throw new TypeError(`the install prefix must be an absolute path, got '${options.prefix}'`);
  const prefix = path.resolve(options.prefix);
  const node = options.nodePath ?? process.execPath;
  const envFile = options.envFile ?? path.join(prefix, 'etc', 'ims.env');
  const localEnvFile = path.join(path.dirname(envFile), 'ims.local.env');
  const topology = options.topology ?? topologyForConfig(config);
  const cores = options.cores ?? config.cores.count ?? machineCores();
  const overrides = coreOverridesText(config.cores.overrides);
  const { cpus } = assignCpus(topology.processes, cores, overrides === '' ? undefined : overrides);
  const placed = place(topology, cpus);
  const rw = readWritePaths(config);
  const files: UnitFile[] = [];
  const head = header(config);
  const envLines = [`EnvironmentFile=${envFile}`, `EnvironmentFile=-${localEnvFile}`];
  const exec = (script: string, args: readonly string[]): string => [node, path.join(prefix, script), ...args].map(execWord).join(' ');

  // The EnvironmentFile: what every process reads (IMS_*), from the same configuration.
  const env = configEnvironment(config);
  files.push({ name: 'ims.env', kind: 'env', content: `# Generated by 'ims systemd install'; secrets (IMS_DATABASE_URL with a password) belong in ${localEnvFile}.\n${Object.entries(env).map(([k, v]) => envFileLine(k, v)).join('\n')}\n` });

  files.push({
    name: BUS_UNIT,
    kind: 'unit',
    content:
      head +
      section('Unit', [`Description=IMS ${config.instance}: the bus (ring files in ${config.runDir})`, `PartOf=${TARGET_UNIT}`, 'DefaultDependencies=yes', 'After=local-fs.target']) +
      '\n' +
      section('Service', [
        'Type=oneshot',
        'RemainAfterExit=yes',
        ...envLines,
        `WorkingDirectory=${execWord(prefix)}`,
        `ExecStart=${exec(CREATE_BUS_SCRIPT, [])}`,
        `ExecStop=${exec(CREATE_BUS_SCRIPT, ['--remove'])}`,
        ...hardening(config, rw),
        ...journalLines('ims-bus'),
      ]) +
      '\n' +
      section('Install', [`WantedBy=${TARGET_UNIT}`]),
  });

  const unitNames = placed.map((p) => p.unitName);
  const templatesDone = new Set<string>();
  for (const p of placed) {
    const after = [BUS_UNIT, ...placed.filter((q) => q.rank < p.rank).map((q) => q.unitName)];
    const unitLines = [
      `Description=IMS ${config.instance}: ${p.template === null ? p.spec.name : `${p.template.file.replace('@.service', '').slice(UNIT_PREFIX.length + 1)} %i`}`,
      `Documentation=file://${prefix}/systemd/README.md`,
      `PartOf=${TARGET_UNIT}`,
      `Requires=${BUS_UNIT}`,
      `After=${[...new Set(after)].join(' ')}`,
      ...startLimitLines(),
    ];
    const serviceCommon = [
      'Type=simple',
      ...envLines,
      `WorkingDirectory=${execWord(prefix)}`,
      ...restartLines(),
      ...(p.spec.name === 'sequencer' ? [`RestartPreventExitStatus=${SEQUENCER_REFUSED_EXIT}`] : []),
      `LimitNOFILE=${config.service.limitNoFile}`,
      ...hardening(config, rw),
    ];
    if (p.template === null) {
      files.push({
        name: p.unitName,
        kind: 'unit',
        content:
          head +
          section('Unit', unitLines) +
          '\n' +
          section('Service', [...serviceCommon, `Environment=IMS_PROCESS_NAME=${p.spec.name}`, `CPUAffinity=${p.cpus.join(' ')}`, `ExecStart=${exec(p.spec.script, p.spec.args)}`, ...journalLines(`ims-${p.spec.name}`)]) +
          '\n' +
          section('Install', [`WantedBy=${TARGET_UNIT}`]),
      });
      continue;
    }
    // Template: the per-instance parts come from the instance drop-in.
    if (!templatesDone.has(p.template.file)) {
      templatesDone.add(p.template.file);
      const family = placed.filter((q) => q.template?.file === p.template!.file);
      const scripts = new Set(family.map((q) => q.spec.script));
      if (scripts.size !== 1) throw new Error(`processes ${family.map((q) => q.spec.name).join(', ')} share ${p.template.file} but run different scripts (${[...scripts].join(', ')}); name them apart in topology.ts`);
      for (const q of family) for (const a of q.spec.args) if (/\s/.test(a)) throw new Error(`process ${q.spec.name}: argument ${JSON.stringify(a)} holds whitespace, which a template's $IMS_UNIT_ARGS cannot carry`);
      files.push({
        name: p.template.file,
        kind: 'unit',
        content:
          head +
          section('Unit', [...unitLines.filter((l) => !l.startsWith('After=')), `After=${[...new Set([BUS_UNIT, ...placed.filter((q) => q.rank < p.rank).map((q) => q.unitName)])].join(' ')}`]) +
          '\n' +
          section('Service', [
            ...serviceCommon,
            // The instance drop-in sets IMS_PROCESS_NAME, IMS_UNIT_ARGS and CPUAffinity=; an instance
            // without one has no arguments and fails loudly instead of running half-configured.
            `ExecStart=${exec(p.spec.script, [])} $IMS_UNIT_ARGS`,
            `SyslogIdentifier=${p.template.file.replace('@.service', '')}-%i`,
            'StandardOutput=journal',
            'StandardError=journal',
          ]) +
          '\n' +
          section('Install', [`WantedBy=${TARGET_UNIT}`]),
      });
    }
    files.push({
      name: `${p.unitName}.d/10-instance.conf`,
      kind: 'dropin',
      content: head + section('Service', [`Environment=IMS_PROCESS_NAME=${p.spec.name}`, environmentLine('IMS_UNIT_ARGS', p.spec.args.join(' ')), `CPUAffinity=${p.cpus.join(' ')}`]),
    });
  }

  files.push({
    name: METRICS_UNIT,
    kind: 'unit',
    content:
      head +
      section('Unit', [`Description=IMS ${config.instance}: Prometheus metrics on ${config.metrics.host}:${config.metrics.port}`, `PartOf=${TARGET_UNIT}`, `After=${BUS_UNIT}`, ...startLimitLines()]) +
      '\n' +
      section('Service', ['Type=simple', ...envLines, `WorkingDirectory=${execWord(prefix)}`, ...restartLines(), `ExecStart=${exec(METRICS_SCRIPT, [])}`, ...hardening(config, rw), ...journalLines('ims-metrics')]) +
      '\n' +
      section('Install', [`WantedBy=${TARGET_UNIT}`]),
  });

  files.push({
    name: TARGET_UNIT,
    kind: 'unit',
    content:
      head +
      section('Unit', [
        `Description=IMS inventory exchange '${config.instance}' (${config.profile}${config.durability.mode === 'async' ? ', ASYNC journal durability' : ''})`,
        `Requires=${BUS_UNIT}`,
        `Wants=${[...unitNames, METRICS_UNIT].join(' ')}`,
        `After=${BUS_UNIT}`,
      ]) +
      '\n' +
      section('Install', ['WantedBy=multi-user.target']),
  });
  return files;
}

export interface InstallUnitsOptions extends GenerateUnitsOptions {
  /** The unit directory (default /etc/systemd/system). */
  readonly dir?: string;
}

export interface InstalledUnits {
  readonly unitDir: string;
  readonly envFile: string;
  readonly written: readonly string[];
  /** What the operator runs next. */
  readonly next: readonly string[];
}

function writeAtomically(file: string, content: string, mode: number): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, content, { mode });
  fs.renameSync(tmp, file);
}

/**
 * Writes the units into dir and the EnvironmentFile to envFile. Units of an earlier install that
 * the topology no longer has (a removed gateway's drop-in) are removed, so no stale unit lingers.
 */
export function installUnits(options: InstallUnitsOptions): InstalledUnits {
  const unitDir = path.resolve(options.dir ?? '/etc/systemd/system');
  const envFile = options.envFile ?? path.join(path.resolve(options.prefix), 'etc', 'ims.env');
  const files = generateUnits({ ...options, envFile });
  const written: string[] = [];
  const wanted = new Set<string>();
  for (const f of files) {
    const target = f.kind === 'env' ? envFile : path.join(unitDir, f.name);
    writeAtomically(target, f.content, f.kind === 'env' ? 0o640 : 0o644);
    written.push(target);
    wanted.add(target);
  }
  if (fs.existsSync(unitDir)) {
    for (const entry of fs.readdirSync(unitDir)) {
      if (!/^ims[-.]/.test(entry)) continue;
      const full = path.join(unitDir, entry);
      if (entry.endsWith('.d') && fs.statSync(full).isDirectory()) {
        const conf = path.join(full, '10-instance.conf');
        if (fs.existsSync(conf) && !wanted.has(conf) && fs.readFileSync(conf, 'utf8').includes("Generated by 'ims systemd install'")) fs.rmSync(full, { recursive: true, force: true });
      } else if (!wanted.has(full) && /\.(service|target)$/.test(entry) && fs.readFileSync(full, 'utf8').includes("Generated by 'ims systemd install'")) {
        fs.rmSync(full);
      }
    }
  }
  return {
    unitDir,
    envFile,
    written,
    next: [
      `getent passwd ${options.config.service.user} >/dev/null || useradd --system --home-dir ${options.config.dataDir} --shell /usr/sbin/nologin ${options.config.service.user}`,
      `install -d -o ${options.config.service.user} -g ${options.config.service.group} -m 0750 ${options.config.dataDir}`,
      'systemctl daemon-reload',
      `systemctl enable --now ${TARGET_UNIT}`,
    ],
  };
}
