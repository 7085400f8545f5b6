// Loads and checks the IMS configuration: one JSON file, then IMS_* environment overrides, then the
// profile's defaults for whatever neither gave. checkConfig() returns every problem at once, each
// saying what is wrong and what to do; loadConfig() returns a frozen configuration or throws
// ConfigError carrying that list. The keys, types, bounds and variables are in config-schema.ts.
//
// Precedence: environment > file > profile default. The profile itself comes from IMS_PROFILE,
// else the file's "profile", else demo.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseCoreOverrides } from '../supervisor/core-plan';
import {
  CONFIG_FIELDS,
  DEFAULT_PUBLIC_PORT,
  DEFAULT_TRADING_PORT,
  FIELD_BY_PATH,
  MAX_CONFIG_FILE_BYTES,
  SECTIONS,
  type FieldSpec,
  type FieldType,
  type ProfileName,
} from './config-schema';
import { coreOverridesText, knownProcessNames, machineCores } from './config-topology';

export interface ImsConfig {
  readonly profile: ProfileName;
  readonly instance: string;
  readonly runDir: string;
  readonly dataDir: string;
  /** null: SQLite files in the data directory. */
  readonly databaseUrl: string | null;
  readonly calendar: 'always-open' | 'trading';
  readonly demoData: boolean;
  readonly cores: { readonly count: number | null; readonly overrides: Readonly<Record<string, string>> };
  readonly gateways: { readonly count: number; readonly host: string; readonly tradingPorts: readonly number[]; readonly publicPorts: readonly number[] };
  readonly durability: { readonly mode: 'fsync' | 'async'; readonly asyncFsyncIntervalMs: number };
  readonly leases: { readonly heartbeatMs: number; readonly engineTimeoutMs: number; readonly pmTimeoutMs: number };
  readonly rateLimits: { readonly ordersPerSecond: number; readonly ipRequestsPerSecond: number; readonly ipWsConnections: number; readonly credentialCallsPerMinute: number };
  readonly metrics: { readonly host: string; readonly port: number };
  readonly service: { readonly user: string; readonly group: string; readonly limitNoFile: number };
  /** Where it came from: the file (absolute) and the IMS_* variables that overrode it. */
  readonly source: { readonly file: string | null; readonly envOverrides: readonly string[] };
}

export type ConfigProblemCode =
  | 'file_unreadable'
  | 'file_too_large'
  | 'invalid_json'
  | 'not_an_object'
  | 'unknown_key'
  | 'wrong_type'
  | 'out_of_range'
  | 'bad_value'
  | 'duplicate_port'
  | 'port_count_mismatch'
  | 'core_beyond_machine'
  | 'unknown_process'
  | 'data_dir_not_writable'
  | 'data_dir_on_tmpfs'
  | 'run_dir_not_tmpfs'
  | 'demo_data_in_production'
  | 'fsync_disabled_in_production'
  | 'calendar_in_production'
  | 'lease_too_tight'
  | 'bad_database_url';

export interface ConfigProblem {
  readonly code: ConfigProblemCode;
  /** "ims.json: gateways.tradingPorts[1]" or "environment IMS_METRICS_PORT" or "configuration". */
  readonly where: string;
  readonly message: string;
  /** What the operator should do. */
  readonly fix: string;
}

export function formatProblem(p: ConfigProblem): string {
  return `${p.where}: ${p.message} — ${p.fix}`;
}

export class ConfigError extends Error {
  readonly problems: readonly ConfigProblem[];
  constructor(problems: readonly ConfigProblem[]) {
    super(`the IMS configuration has ${problems.length} problem(s):\n${problems.map((p) => `  - ${formatProblem(p)}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

export interface LoadConfigOptions {
  /** A JSON configuration file; without it, environment and profile defaults only. */
  readonly file?: string | undefined;
  /** Environment to read IMS_* overrides from (process.env by default). */
  readonly env?: NodeJS.ProcessEnv;
  /** Relative paths in the environment and defaults resolve against this (default process.cwd()). */
  readonly cwd?: string;
  /** The machine the configuration is for (default: this machine's online CPUs). */
  readonly machineCores?: number;
  /** Check that the data directory is writable (default true). */
  readonly checkFilesystem?: boolean;
}

interface Collected {
  readonly values: Map<string, unknown>;
  readonly origins: Map<string, string>;
  readonly problems: ConfigProblem[];
  readonly envOverrides: string[];
}

// ---------------------------------------------------------------------------------------------
// Reading one value (file JSON value or environment text) against its field type.

type Parsed = { ok: true; value: unknown } | { ok: false; code: ConfigProblemCode; message: string; fix: string };

function describe(type: FieldType): string {
  switch (type.kind) {
    case 'string':
      return type.patternText === undefined ? 'a string' : `a string (${type.patternText})`;
    case 'path':
      return 'a path string';
    case 'nullable-string':
      return 'a string or null';
    case 'int':
      return `an integer in [${type.min}, ${type.max}]${type.nullable ? ' or null' : ''}`;
    case 'bool':
      return 'true or false';
    case 'enum':
      return `one of ${type.values.map((v) => `"${v}"`).join(', ')}`;
    case 'int-list':
      return `a list of up to ${type.maxLength} integers in [${type.min}, ${type.max}]`;
    case 'core-map':
      return 'an object of process name → "core" or "first-last"';
  }
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  return typeof v === 'object' ? 'an object' : `${typeof v} ${JSON.stringify(v)}`;
}

function parseFileValue(field: FieldSpec, v: unknown): Parsed {
  const t = field.type;
  const wrong = (): Parsed => ({ ok: false, code: 'wrong_type', message: `is ${typeName(v)}, expected ${describe(t)}`, fix: `write ${describe(t)} (${field.help})` });
  switch (t.kind) {
    case 'string':
    case 'path':
      if (typeof v !== 'string') return wrong();
      return checkString(field, v);
    case 'nullable-string':
      if (v === null) return { ok: true, value: null };
      if (typeof v !== 'string') return wrong();
      return { ok: true, value: v === '' ? null : v };
    case 'int':
      if (v === null && t.nullable) return { ok: true, value: null };
      if (typeof v !== 'number' || !Number.isInteger(v)) return wrong();
      return checkInt(field, v);
    case 'bool':
      return typeof v === 'boolean' ? { ok: true, value: v } : wrong();
    case 'enum':
      if (typeof v !== 'string') return wrong();
      return checkEnum(field, v);
    case 'int-list': {
      if (!Array.isArray(v) || v.some((x) => typeof x !== 'number' || !Number.isInteger(x))) return wrong();
      return checkIntList(field, v as number[]);
    }
    case 'core-map': {
      if (v === null || typeof v !== 'object' || Array.isArray(v)) return wrong();
      const out: Record<string, string> = {};
      for (const [name, cpus] of Object.entries(v as Record<string, unknown>)) {
        const text = typeof cpus === 'number' && Number.isInteger(cpus) ? String(cpus) : cpus;
        if (typeof text !== 'string' || !/^\d+(-\d+)?$/.test(text)) {
          return { ok: false, code: 'wrong_type', message: `entry "${name}" is ${typeName(cpus)}, expected a core number or "first-last"`, fix: `write e.g. "${name}": "3" or "${name}": "2-3"` };
        }
        out[name] = text;
      }
      return { ok: true, value: out };
    }
  }
}

function parseEnvValue(field: FieldSpec, text: string): Parsed {
  const t = field.type;
  const wrong = (): Parsed => ({ ok: false, code: 'wrong_type', message: `is '${text}', expected ${describe(t)}`, fix: `set ${field.env} to ${describe(t)}, or unset it (${field.help})` });
  switch (t.kind) {
    case 'string':
    case 'path':
      return checkString(field, text);
    case 'nullable-string':
      return { ok: true, value: text === '' ? null : text };
    case 'int': {
      if (t.nullable && (text === '' || text === 'null')) return { ok: true, value: null };
      const n = Number(text);
      if (!/^-?\d+$/.test(text.trim()) || !Number.isSafeInteger(n)) return wrong();
      return checkInt(field, n);
    }
    case 'bool': {
      const lower = text.trim().toLowerCase();
      if (['1', 'true', 'yes', 'on'].includes(lower)) return { ok: true, value: true };
      if (['0', 'false', 'no', 'off'].includes(lower)) return { ok: true, value: false };
      return wrong();
    }
    case 'enum':
      return checkEnum(field, text.trim());
    case 'int-list': {
      const parts = text.split(',').map((s) => s.trim());
      if (parts.some((p) => !/^\d+$/.test(p))) return wrong();
      return checkIntList(field, parts.map(Number));
    }
    case 'core-map': {
      const out: Record<string, string> = {};
      if (text.trim() === '') return { ok: true, value: out };
      for (const entry of text.split(',')) {
        const m = /^\s*([a-z0-9-]+)\s*=\s*(\d+(?:-\d+)?)\s*$/.exec(entry);
        if (m === null) return { ok: false, code: 'wrong_type', message: `entry '${entry}' is not name=core or name=first-last`, fix: `write IMS_CORES like "sequencer=3,gateway-1=4-5"` };
        out[m[1]!] = m[2]!;
      }
      return { ok: true, value: out };
    }
  }
}

function checkString(field: FieldSpec, v: string): Parsed {
  const t = field.type;
  if (v.length === 0) return { ok: false, code: 'bad_value', message: 'is empty', fix: `give ${field.help}` };
  if (t.kind === 'string' && t.pattern !== undefined && !t.pattern.test(v)) {
    return { ok: false, code: 'bad_value', message: `'${v}' is not ${t.patternText}`, fix: `use ${t.patternText}` };
  }
  return { ok: true, value: v };
}

function checkInt(field: FieldSpec, n: number): Parsed {
  const t = field.type as Extract<FieldType, { kind: 'int' }>;
  if (n < t.min || n > t.max) {
    const what = field.path.endsWith('port') || field.path.endsWith('Port') ? 'port' : 'value';
    return { ok: false, code: 'out_of_range', message: `${what} ${n} is outside [${t.min}, ${t.max}]`, fix: `choose a value from ${t.min} to ${t.max} (${field.help})` };
  }
  return { ok: true, value: n };
}

function checkEnum(field: FieldSpec, v: string): Parsed {
  const t = field.type as Extract<FieldType, { kind: 'enum' }>;
  if (!t.values.includes(v)) return { ok: false, code: 'bad_value', message: `'${v}' is not ${describe(t)}`, fix: `use ${describe(t)} (${field.help})` };
  return { ok: true, value: v };
}

function checkIntList(field: FieldSpec, list: number[]): Parsed {
  const t = field.type as Extract<FieldType, { kind: 'int-list' }>;
  if (list.length > t.maxLength) return { ok: false, code: 'out_of_range', message: `has ${list.length} entries, at most ${t.maxLength}`, fix: `list at most ${t.maxLength}` };
  const bad = list.findIndex((n) => n < t.min || n > t.max);
  if (bad >= 0) return { ok: false, code: 'out_of_range', message: `port ${list[bad]} (entry ${bad}) is outside [${t.min}, ${t.max}]`, fix: `choose ports from ${t.min} to ${t.max}` };
  return { ok: true, value: list };
}

// ---------------------------------------------------------------------------------------------
// Collecting values from the file and the environment.

/** The closest known key, for "did you mean" (edit distance ≤ 3). */
function closest(key: string, candidates: readonly string[]): string | null {
  let best: string | null = null;
  let bestD = 4;
  for (const c of candidates) {
    const d = editDistance(key.toLowerCase(), c.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}

function unknownKey(where: string, key: string, known: readonly string[]): ConfigProblem {
  const guess = closest(key, known);
  return {
    code: 'unknown_key',
    where,
    message: `unknown key "${key}"`,
    fix: guess !== null ? `did you mean "${guess}"? (known here: ${known.join(', ')})` : `remove it (known here: ${known.join(', ')})`,
  };
}

function readFile(file: string, c: Collected): void {
  const label = path.basename(file);
  let text: string;
  try {
    const size = fs.statSync(file).size;
    if (size > MAX_CONFIG_FILE_BYTES) {
      c.problems.push({ code: 'file_too_large', where: file, message: `is ${size} bytes, more than ${MAX_CONFIG_FILE_BYTES}`, fix: 'give the IMS configuration file, not another file' });
      return;
    }
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    c.problems.push({ code: 'file_unreadable', where: file, message: `cannot be read (${err.code ?? err.message})`, fix: err.code === 'ENOENT' ? 'check the path, or create it (see processes/operations/config-schema.ts for the keys)' : 'check its permissions' });
    return;
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    const m = /position (\d+)/.exec((e as Error).message);
    let where = '';
    if (m !== null) {
      const before = text.slice(0, Number(m[1]));
      const line = before.split('\n').length;
      where = ` at line ${line}, column ${before.length - before.lastIndexOf('\n')}`;
    }
    c.problems.push({ code: 'invalid_json', where: file, message: `is not valid JSON${where}: ${(e as Error).message}`, fix: 'fix the syntax (JSON: double-quoted keys, no trailing commas, no comments)' });
    return;
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    c.problems.push({ code: 'not_an_object', where: file, message: `holds ${typeName(raw)}, not an object`, fix: 'write one JSON object {"profile": "demo", …}' });
    return;
  }
  const topKnown = [...new Set(CONFIG_FIELDS.map((f) => f.path.split('.')[0]!))];
  for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
    if (SECTIONS.has(key)) {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        c.problems.push({ code: 'wrong_type', where: `${label}: ${key}`, message: `is ${typeName(value)}, expected an object`, fix: `write "${key}": { … } with keys ${CONFIG_FIELDS.filter((f) => f.path.startsWith(key + '.')).map((f) => f.path.slice(key.length + 1)).join(', ')}` });
        continue;
      }
      const subKnown = CONFIG_FIELDS.filter((f) => f.path.startsWith(key + '.')).map((f) => f.path.slice(key.length + 1));
      for (const [sub, subValue] of Object.entries(value as Record<string, unknown>)) {
        const field = FIELD_BY_PATH.get(`${key}.${sub}`);
        if (field === undefined) c.problems.push(unknownKey(`${label}: ${key}`, sub, subKnown));
        else take(field, parseFileValue(field, subValue), `${label}: ${field.path}`, c);
      }
      continue;
    }
    const field = FIELD_BY_PATH.get(key);
    if (field === undefined) c.problems.push(unknownKey(label, key, topKnown));
    else take(field, parseFileValue(field, value), `${label}: ${field.path}`, c);
  }
}

function take(field: FieldSpec, parsed: Parsed, where: string, c: Collected): void {
  if (parsed.ok) {
    c.values.set(field.path, parsed.value);
    c.origins.set(field.path, where);
  } else {
    c.problems.push({ code: parsed.code, where, message: parsed.message, fix: parsed.fix });
  }
}

function readEnv(env: NodeJS.ProcessEnv, c: Collected): void {
  for (const field of CONFIG_FIELDS) {
    if (field.env === undefined) continue;
    const text = env[field.env];
    if (text === undefined) continue;
    // An empty variable is "not set", except where empty has a meaning (no database URL).
    if (text === '' && field.type.kind !== 'nullable-string') continue;
    c.envOverrides.push(field.env);
    take(field, parseEnvValue(field, text), `environment ${field.env}`, c);
  }
}

// ---------------------------------------------------------------------------------------------
// Building and checking.

function resolveDir(p: string, base: string): string {
  return path.resolve(base, p);
}

function build(c: Collected, file: string | null, cwd: string): ImsConfig {
  const profile = (c.values.get('profile') as ProfileName | undefined) ?? 'demo';
  const get = <T>(p: string): T => {
    if (c.values.has(p)) return c.values.get(p) as T;
    const d = FIELD_BY_PATH.get(p)!.default;
    return (typeof d === 'function' ? (d as (p: ProfileName) => unknown)(profile) : d) as T;
  };
  const instance = get<string>('instance');
  // Paths from the file resolve against the file's directory; from the environment, the cwd.
  const baseFor = (p: string): string => (c.origins.get(p)?.startsWith('environment') || file === null ? cwd : path.dirname(file));
  const runDir = c.values.has('runDir') ? resolveDir(get<string>('runDir'), baseFor('runDir')) : `/dev/shm/ims-${instance}`;
  const dataDir = c.values.has('dataDir') ? resolveDir(get<string>('dataDir'), baseFor('dataDir')) : profile === 'production' ? `/var/lib/ims/${instance}` : path.resolve(cwd, 'data', instance);
  const count = get<number>('gateways.count');
  // Not given: every gateway listens on the same port (uWS binds with SO_REUSEPORT, the kernel
  // spreads connections, and clients of a gateway that dies reconnect to the same address).
  const ports = (p: string, first: number): number[] => (c.values.has(p) ? get<number[]>(p) : Array.from({ length: count }, () => first));
  return {
    profile,
    instance,
    runDir,
    dataDir,
    databaseUrl: get<string | null>('databaseUrl'),
    calendar: get('calendar'),
    demoData: get('demoData'),
    cores: { count: get('cores.count'), overrides: get('cores.overrides') },
    gateways: { count, host: get('gateways.host'), tradingPorts: ports('gateways.tradingPorts', DEFAULT_TRADING_PORT), publicPorts: ports('gateways.publicPorts', DEFAULT_PUBLIC_PORT) },
    durability: { mode: get('durability.mode'), asyncFsyncIntervalMs: get('durability.asyncFsyncIntervalMs') },
    leases: { heartbeatMs: get('leases.heartbeatMs'), engineTimeoutMs: get('leases.engineTimeoutMs'), pmTimeoutMs: get('leases.pmTimeoutMs') },
    rateLimits: {
      ordersPerSecond: get('rateLimits.ordersPerSecond'),
      ipRequestsPerSecond: get('rateLimits.ipRequestsPerSecond'),
      ipWsConnections: get('rateLimits.ipWsConnections'),
      credentialCallsPerMinute: get('rateLimits.credentialCallsPerMinute'),
    },
    metrics: { host: get('metrics.host'), port: get('metrics.port') },
    service: { user: get('service.user'), group: get('service.group'), limitNoFile: get('service.limitNoFile') },
    source: { file, envOverrides: [...c.envOverrides] },
  };
}

/** Where a resolved field came from, for messages about combinations. */
function origin(c: Collected, p: string, fallback: string): string {
  return c.origins.get(p) ?? fallback;
}

/** The nearest existing ancestor of dir (dir itself if it exists). */
function nearestExisting(dir: string): string {
  let d = dir;
  for (let i = 0; i < 256 && !fs.existsSync(d); i++) d = path.dirname(d);
  return d;
}

function isTmpfs(dir: string): boolean {
  // /proc/mounts is the truth on Linux; the paths are a fallback for containers without it.
  const abs = path.resolve(dir);
  try {
    let best = '';
    let bestType = '';
    for (const line of fs.readFileSync('/proc/mounts', 'utf8').split('\n')) {
      const [, mount, type] = line.split(' ');
      if (mount === undefined || type === undefined) continue;
      if ((abs === mount || abs.startsWith(mount.endsWith('/') ? mount : mount + '/')) && mount.length > best.length) {
        best = mount;
        bestType = type;
      }
    }
    if (best !== '') return bestType === 'tmpfs' || bestType === 'ramfs';
  } catch {
    // no /proc/mounts: fall through
  }
  return abs === '/dev/shm' || abs.startsWith('/dev/shm/') || abs.startsWith('/run/');
}

function semanticChecks(config: ImsConfig, c: Collected, o: LoadConfigOptions): void {
  const problems = c.problems;
  const prod = config.profile === 'production';
  const profileWhere = origin(c, 'profile', 'profile (default)');
  if (prod) {
    if (config.demoData) {
      problems.push({ code: 'demo_data_in_production', where: origin(c, 'demoData', 'demoData'), message: 'the production profile must not list demo products or fund demo accounts', fix: `set "demoData": false (or run the demo profile); the profile comes from ${profileWhere}` });
    }
    if (config.durability.mode !== 'fsync') {
      problems.push({ code: 'fsync_disabled_in_production', where: origin(c, 'durability.mode', 'durability.mode'), message: `durability "${config.durability.mode}" in production: a power loss would lose acknowledged orders`, fix: 'set "durability": {"mode": "fsync"} (group commit: nothing is acknowledged before it is on disk)' });
    }
    if (config.calendar !== 'trading') {
      problems.push({ code: 'calendar_in_production', where: origin(c, 'calendar', 'calendar'), message: 'production is open around the clock', fix: 'set "calendar": "trading" (the exchange session calendar)' });
    }
    if (isTmpfs(config.dataDir)) {
      problems.push({ code: 'data_dir_on_tmpfs', where: origin(c, 'dataDir', 'dataDir'), message: `data dir ${config.dataDir} is in memory (tmpfs): the journal would be gone after a reboot`, fix: 'put the data dir on a disk, e.g. /var/lib/ims/<instance>' });
    }
  }
  if (!isTmpfs(config.runDir)) {
    problems.push({ code: 'run_dir_not_tmpfs', where: origin(c, 'runDir', 'runDir'), message: `run dir ${config.runDir} is not on tmpfs: every ring write would go to disk`, fix: 'put the ring files on /dev/shm (the default /dev/shm/ims-<instance>)' });
  }

  // Ports: one per gateway of each kind. Gateways may share a port of the same kind (SO_REUSEPORT),
  // but a port serves one kind only: trading, public market data, or metrics.
  const g = config.gateways;
  for (const [p, list] of [['gateways.tradingPorts', g.tradingPorts], ['gateways.publicPorts', g.publicPorts]] as const) {
    if (list.length !== g.count) {
      problems.push({ code: 'port_count_mismatch', where: origin(c, p, p), message: `lists ${list.length} port(s) for ${g.count} gateway(s)`, fix: `give exactly one port per gateway (gateways.count = ${g.count}; repeat a port to share it), or leave it out for every gateway on ${p.endsWith('tradingPorts') ? DEFAULT_TRADING_PORT : DEFAULT_PUBLIC_PORT}` });
    }
  }
  const owners = new Map<number, { kind: string; owner: string }>();
  const claim = (port: number, kind: string, owner: string): void => {
    const first = owners.get(port);
    if (first === undefined) owners.set(port, { kind, owner });
    else if (first.kind !== kind) problems.push({ code: 'duplicate_port', where: owner, message: `port ${port} is also ${first.owner}`, fix: 'give trading, public and metrics listeners ports of their own (gateways may share a port of one kind)' });
  };
  g.tradingPorts.forEach((port, i) => claim(port, 'trading', `gateway ${i + 1}'s trading port (gateways.tradingPorts[${i}])`));
  g.publicPorts.forEach((port, i) => claim(port, 'public', `gateway ${i + 1}'s public port (gateways.publicPorts[${i}])`));
  claim(config.metrics.port, 'metrics', 'the metrics port (metrics.port)');

  // Cores: the plan must fit the machine it runs on, and overrides must name real processes.
  const machine = o.machineCores ?? machineCores();
  const planned = config.cores.count ?? machine;
  if (config.cores.count !== null && config.cores.count > machine) {
    problems.push({ code: 'core_beyond_machine', where: origin(c, 'cores.count', 'cores.count'), message: `plans for ${config.cores.count} cores, but this machine has ${machine}`, fix: `set cores.count to at most ${machine}, or null to use this machine's` });
  }
  const known = knownProcessNames(config);
  for (const [name, cpus] of Object.entries(config.cores.overrides)) {
    const where = origin(c, 'cores.overrides', 'cores.overrides');
    if (!known.includes(name)) {
      const guess = closest(name, known);
      problems.push({ code: 'unknown_process', where, message: `names process "${name}", which the topology does not run`, fix: `${guess !== null ? `did you mean "${guess}"? ` : ''}known processes: ${known.join(', ')}` });
      continue;
    }
    const [first, last] = cpus.split('-').map(Number);
    const top = last ?? first!;
    if (top < first!) problems.push({ code: 'bad_value', where, message: `"${name}": "${cpus}" is an empty range`, fix: 'write "first-last" with first ≤ last' });
    else if (top >= planned) problems.push({ code: 'core_beyond_machine', where, message: `"${name}": core ${top} is beyond the ${planned} cores (0..${planned - 1})`, fix: `pin ${name} to a core from 0 to ${planned - 1}` });
  }
  // The supervisor's own parser must accept what we accepted (one grammar for IMS_CORES).
  if (!problems.some((p) => p.code === 'unknown_process' || p.code === 'core_beyond_machine' || p.code === 'bad_value')) {
    try {
      parseCoreOverrides(coreOverridesText(config.cores.overrides), planned, known);
    } catch (e) {
      problems.push({ code: 'bad_value', where: origin(c, 'cores.overrides', 'cores.overrides'), message: (e as Error).message, fix: 'fix the core override' });
    }
  }

  // Leases: a failover must not fire because one heartbeat was a little late.
  for (const p of ['leases.engineTimeoutMs', 'leases.pmTimeoutMs'] as const) {
    const timeout = p === 'leases.engineTimeoutMs' ? config.leases.engineTimeoutMs : config.leases.pmTimeoutMs;
    if (timeout < 2 * config.leases.heartbeatMs) {
      problems.push({ code: 'lease_too_tight', where: origin(c, p, p), message: `lease timeout ${timeout} ms is less than two heartbeats (${config.leases.heartbeatMs} ms each): one late heartbeat would start a failover`, fix: `make it at least ${2 * config.leases.heartbeatMs} ms, or shorten leases.heartbeatMs` });
    }
  }

  if (config.databaseUrl !== null && !/^postgres(ql)?:\/\/./.test(config.databaseUrl)) {
    problems.push({ code: 'bad_database_url', where: origin(c, 'databaseUrl', 'databaseUrl'), message: `'${config.databaseUrl.split(':')[0]}:' is not a database IMS can use`, fix: 'give a postgres:// or postgresql:// URL, or null for SQLite files in the data dir' });
  }

  if (o.checkFilesystem !== false) {
    const existing = nearestExisting(config.dataDir);
    const where = origin(c, 'dataDir', 'dataDir');
    let stat: fs.Stats | null = null;
    try {
      stat = fs.statSync(existing);
    } catch {
      stat = null;
    }
    if (stat === null || !stat.isDirectory()) {
      problems.push({ code: 'data_dir_not_writable', where, message: `${config.dataDir} cannot be a directory: ${existing} is ${stat === null ? 'unreadable' : 'a file'}`, fix: 'choose another data dir, or move that file away' });
    } else {
      try {
        fs.accessSync(existing, fs.constants.W_OK);
      } catch (e) {
        const what = existing === config.dataDir ? config.dataDir : `${existing} (where ${config.dataDir} would be created)`;
        problems.push({ code: 'data_dir_not_writable', where, message: `${what} is not writable (${(e as NodeJS.ErrnoException).code})`, fix: `create it and give it to the service user: install -d -o ${config.service.user} -g ${config.service.group} ${config.dataDir}` });
      }
    }
  }
}

function collect(o: LoadConfigOptions): { config: ImsConfig; collected: Collected } {
  const c: Collected = { values: new Map(), origins: new Map(), problems: [], envOverrides: [] };
  const file = o.file === undefined ? null : path.resolve(o.cwd ?? process.cwd(), o.file);
  if (file !== null) readFile(file, c);
  readEnv(o.env ?? process.env, c);
  const config = build(c, file, o.cwd ?? process.cwd());
  semanticChecks(config, c, o);
  return { config, collected: c };
}

/** Every problem with the configuration (empty when it is good), each with what to do. */
export function checkConfig(options: LoadConfigOptions = {}): ConfigProblem[] {
  return collect(options).collected.problems;
}

function deepFreeze<T>(v: T): T {
  if (v !== null && typeof v === 'object' && !Object.isFrozen(v)) {
    for (const x of Object.values(v as object)) deepFreeze(x);
    Object.freeze(v);
  }
  return v;
}

/** The validated, frozen configuration; throws ConfigError listing every problem. */
export function loadConfig(options: LoadConfigOptions = {}): ImsConfig {
  const { config, collected } = collect(options);
  if (collected.problems.length > 0) throw new ConfigError(collected.problems);
  return deepFreeze(config);
}

/**
 * The environment the processes read (IMS_*), for the systemd EnvironmentFile and the supervisor.
 * Only what the processes need; the unit files carry the rest (cores, limits).
 */
export function configEnvironment(config: ImsConfig): Record<string, string> {
  const env: Record<string, string> = {
    IMS_PROFILE: config.profile,
    IMS_INSTANCE: config.instance,
    IMS_RUN_DIR: config.runDir,
    IMS_DATA_DIR: config.dataDir,
    IMS_CALENDAR: config.calendar,
    IMS_DEMO_DATA: String(config.demoData),
    IMS_DURABILITY: config.durability.mode,
    IMS_ASYNC_FSYNC_INTERVAL_MS: String(config.durability.asyncFsyncIntervalMs),
    IMS_GATEWAY_COUNT: String(config.gateways.count),
    IMS_GATEWAY_HOST: config.gateways.host,
    IMS_GATEWAY_TRADING_PORTS: config.gateways.tradingPorts.join(','),
    IMS_GATEWAY_PUBLIC_PORTS: config.gateways.publicPorts.join(','),
    IMS_LEASE_HEARTBEAT_MS: String(config.leases.heartbeatMs),
    IMS_ENGINE_LEASE_TIMEOUT_MS: String(config.leases.engineTimeoutMs),
    IMS_PM_LEASE_TIMEOUT_MS: String(config.leases.pmTimeoutMs),
    IMS_ORDERS_PER_SECOND: String(config.rateLimits.ordersPerSecond),
    IMS_IP_REQUESTS_PER_SECOND: String(config.rateLimits.ipRequestsPerSecond),
    IMS_IP_WS_CONNECTIONS: String(config.rateLimits.ipWsConnections),
    IMS_CREDENTIAL_CALLS_PER_MINUTE: String(config.rateLimits.credentialCallsPerMinute),
    IMS_METRICS_HOST: config.metrics.host,
    IMS_METRICS_PORT: String(config.metrics.port),
  };
  if (config.databaseUrl !== null) env['IMS_DATABASE_URL'] = config.databaseUrl;
  if (config.cores.count !== null) env['IMS_CORE_COUNT'] = String(config.cores.count);
  const cores = coreOverridesText(config.cores.overrides);
  if (cores !== '') env['IMS_CORES'] = cores;
  return env;
}

/** A one-screen summary of the profile's consequences, printed by `ims config check`. */
export function describeConfig(config: ImsConfig): string[] {
  const lines = [`instance ${config.instance}, profile ${config.profile}${config.source.file ? ` (from ${config.source.file}${config.source.envOverrides.length ? ` + ${config.source.envOverrides.join(', ')}` : ''})` : ''}`];
  if (config.durability.mode === 'async') {
    lines.push(`DURABILITY ASYNC: the journal is fsynced up to ${config.durability.asyncFsyncIntervalMs} ms after each write; a power loss can lose orders already acknowledged. Production runs fsync.`);
  } else {
    lines.push('durability fsync: group commit, nothing is acknowledged before it is on disk');
  }
  lines.push(`calendar ${config.calendar}${config.demoData ? ', demo products and accounts' : ', no demo data'}`);
  lines.push(`rings in ${config.runDir}, data in ${config.dataDir}, database ${config.databaseUrl === null ? 'SQLite in the data dir' : config.databaseUrl.replace(/\/\/[^@/]*@/, '//***@')}`);
  lines.push(`${config.gateways.count} gateway(s) on ${config.gateways.host}: trading ${config.gateways.tradingPorts.join(',')}, public ${config.gateways.publicPorts.join(',')}; metrics on ${config.metrics.host}:${config.metrics.port}`);
  return lines;
}
