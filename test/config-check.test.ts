// The configuration: profiles, environment overrides, and every kind of error rejected with a
// message that says what is wrong and what to do.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import t, { type Test } from 'tap';
import { checkConfig, ConfigError, configEnvironment, loadConfig, type ConfigProblem } from '../processes/operations/config';
import { configCheckCommand } from '../processes/operations/operator-commands';

const ROOT = path.resolve(__dirname, '..');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ims-config-'));
t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));

let n = 0;
function file(content: unknown): string {
  const f = path.join(dir, `c${n++}.json`);
  fs.writeFileSync(f, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  return f;
}

const dataDir = path.join(dir, 'data');
/** A machine of 4 cores, so core checks do not depend on the test host. */
const base = { machineCores: 4, cwd: dir } as const;

function problems(content: unknown, env: NodeJS.ProcessEnv = {}): ConfigProblem[] {
  return checkConfig({ ...base, file: file(content), env });
}

function expectOne(t: Test, ps: ConfigProblem[], code: ConfigProblem['code'], text: RegExp): void {
  const hit = ps.find((p) => p.code === code);
  t.ok(hit, `a ${code} problem is reported (got ${JSON.stringify(ps.map((p) => p.code))})`);
  if (hit !== undefined) {
    t.match(`${hit.where}: ${hit.message} — ${hit.fix}`, text, `${code}: the message explains it`);
    t.ok(hit.fix.length > 10, `${code}: says what to do`);
  }
}

t.test('the demo profile: open around the clock, demo data, async durability said loudly', async (t) => {
  const c = loadConfig({ ...base, env: {} });
  t.equal(c.profile, 'demo');
  t.equal(c.calendar, 'always-open');
  t.equal(c.demoData, true);
  t.equal(c.durability.mode, 'async');
  t.equal(c.runDir, '/dev/shm/ims-main');
  t.equal(c.dataDir, path.join(dir, 'data', 'main'));
  t.same(c.gateways.tradingPorts, [8080]);
  t.ok(Object.isFrozen(c) && Object.isFrozen(c.gateways) && Object.isFrozen(c.gateways.tradingPorts), 'the configuration is frozen, deeply');
  const out: string[] = [];
  t.equal(configCheckCommand({ ...base, env: {}, out: (l) => out.push(l) }), 0);
  t.match(out.join('\n'), /DURABILITY ASYNC: .*a power loss can lose orders already acknowledged/);
});

t.test('the production profile: trading calendar, fsync, no demo data; the example files are valid', async (t) => {
  const c = loadConfig({ ...base, env: { IMS_PROFILE: 'production', IMS_DATA_DIR: dataDir } });
  t.equal(c.calendar, 'trading');
  t.equal(c.demoData, false);
  t.equal(c.durability.mode, 'fsync');
  for (const example of ['ims.production.json', 'ims.demo.json']) {
    const ps = checkConfig({ ...base, file: path.join(ROOT, 'systemd', example), env: {}, checkFilesystem: false });
    t.same(ps, [], `systemd/${example} is a valid configuration`);
  }
  const prod = loadConfig({ ...base, file: path.join(ROOT, 'systemd', 'ims.production.json'), env: {}, checkFilesystem: false });
  t.same(prod.gateways.publicPorts, [8081, 8083]);
});

t.test('environment overrides win over the file, and relative paths resolve', async (t) => {
  const f = file({ profile: 'demo', dataDir: 'rel-data', gateways: { count: 2 }, metrics: { port: 9500 } });
  const c = loadConfig({ ...base, file: f, env: { IMS_METRICS_PORT: '9600', IMS_GATEWAY_TRADING_PORTS: '7000, 7002', IMS_CORES: 'sequencer=3', IMS_DEMO_DATA: 'no', IMS_DATABASE_URL: 'postgres://u@db/ims' } });
  t.equal(c.metrics.port, 9600, 'IMS_METRICS_PORT beats the file');
  t.same(c.gateways.tradingPorts, [7000, 7002]);
  t.same(c.gateways.publicPorts, [8081, 8081], 'ports not given are shared by every gateway (SO_REUSEPORT)');
  t.same(c.cores.overrides, { sequencer: '3' });
  t.equal(c.demoData, false);
  t.equal(c.dataDir, path.join(dir, 'rel-data'), 'a relative dataDir in the file resolves against the file');
  t.same([...c.source.envOverrides].sort(), ['IMS_CORES', 'IMS_DATABASE_URL', 'IMS_DEMO_DATA', 'IMS_GATEWAY_TRADING_PORTS', 'IMS_METRICS_PORT']);
  const env = configEnvironment(c);
  t.equal(env['IMS_CORES'], 'sequencer=3');
  t.equal(env['IMS_DATABASE_URL'], 'postgres://u@db/ims');
  const viaEnv = loadConfig({ ...base, env: { ...env } });
  t.equal(viaEnv.metrics.port, 9600, 'the EnvironmentFile written from a configuration reloads to the same values');
  t.same(viaEnv.gateways, c.gateways);
});

t.test('every kind of error is rejected with its message', async (t) => {
  expectOne(t, checkConfig({ ...base, file: path.join(dir, 'missing.json'), env: {} }), 'file_unreadable', /cannot be read \(ENOENT\)/);
  expectOne(t, problems('{"profile": "demo",\n  "instance": "x",}'), 'invalid_json', /not valid JSON at line 2/);
  expectOne(t, problems('[1, 2]'), 'not_an_object', /holds a list, not an object/);
  expectOne(t, problems({ profle: 'demo' }), 'unknown_key', /unknown key "profle".*did you mean "profile"/);
  expectOne(t, problems({ gateways: { cuont: 2 } }), 'unknown_key', /gateways: unknown key "cuont".*did you mean "count"/);
  expectOne(t, problems({ gateways: { count: '2' } }), 'wrong_type', /gateways.count: is string "2", expected an integer in \[1, 64\]/);
  expectOne(t, problems({ demoData: 'yes' }), 'wrong_type', /demoData: is string "yes", expected true or false/);
  expectOne(t, problems({ gateways: 3 }), 'wrong_type', /gateways: is number 3, expected an object/);
  expectOne(t, problems({ profile: 'staging' }), 'bad_value', /'staging' is not one of "demo", "production"/);
  expectOne(t, problems({ instance: 'Main Exchange' }), 'bad_value', /'Main Exchange' is not 1-48 of a-z/);
  expectOne(t, problems({ metrics: { port: 70000 } }), 'out_of_range', /metrics.port: port 70000 is outside \[1, 65535\]/);
  expectOne(t, problems({ gateways: { count: 1, tradingPorts: [0] } }), 'out_of_range', /port 0 \(entry 0\) is outside/);
  expectOne(t, problems({}, { IMS_METRICS_PORT: 'ninety' }), 'wrong_type', /environment IMS_METRICS_PORT: is 'ninety', expected an integer/);
  expectOne(t, problems({ gateways: { count: 2, tradingPorts: [8080, 8082], publicPorts: [8081, 8080] } }), 'duplicate_port', /port 8080 is also gateway 1's trading port/);
  expectOne(t, problems({ gateways: { count: 1 }, metrics: { port: 8081 } }), 'duplicate_port', /metrics port \(metrics.port\): port 8081 is also gateway 1's public port/);
  expectOne(t, problems({ gateways: { count: 3, tradingPorts: [8080, 8082] } }), 'port_count_mismatch', /lists 2 port\(s\) for 3 gateway\(s\)/);
  t.same(problems({ gateways: { count: 2, tradingPorts: [8080, 8080], publicPorts: [8081, 8081] } }), [], 'gateways may share a port of one kind');
  expectOne(t, problems({ cores: { count: 64 } }), 'core_beyond_machine', /plans for 64 cores, but this machine has 4/);
  expectOne(t, problems({ cores: { overrides: { sequencer: '2-7' } } }), 'core_beyond_machine', /"sequencer": core 7 is beyond the 4 cores/);
  expectOne(t, problems({}, { IMS_CORES: 'sequencer=9' }), 'core_beyond_machine', /environment IMS_CORES: "sequencer": core 9/);
  expectOne(t, problems({ cores: { overrides: { sequencr: '1' } } }), 'unknown_process', /names process "sequencr".*did you mean "sequencer"/);
  expectOne(t, problems({ cores: { overrides: { sequencer: 'one' } } }), 'wrong_type', /entry "sequencer" is string "one"/);
  const aFile = file('{}');
  expectOne(t, problems({ dataDir: path.join(aFile, 'data') }), 'data_dir_not_writable', /cannot be a directory: .* is a file/);
  if (process.getuid?.() !== 0) {
    const locked = path.join(dir, 'locked');
    fs.mkdirSync(locked, { mode: 0o500 });
    expectOne(t, problems({ dataDir: path.join(locked, 'data') }), 'data_dir_not_writable', /is not writable \(EACCES\).*install -d/);
  }
  expectOne(t, problems({ profile: 'production', dataDir, demoData: true }), 'demo_data_in_production', /production profile must not list demo products.*"demoData": false/);
  expectOne(t, problems({ profile: 'production', dataDir, durability: { mode: 'async' } }), 'fsync_disabled_in_production', /durability "async" in production: a power loss would lose acknowledged orders/);
  expectOne(t, problems({ profile: 'production', dataDir }, { IMS_DURABILITY: 'async' }), 'fsync_disabled_in_production', /environment IMS_DURABILITY/);
  expectOne(t, problems({ profile: 'production', dataDir, calendar: 'always-open' }), 'calendar_in_production', /open around the clock.*"calendar": "trading"/);
  expectOne(t, problems({ profile: 'production', dataDir: '/dev/shm/ims-journal' }), 'data_dir_on_tmpfs', /gone after a reboot/);
  expectOne(t, problems({ runDir: dataDir }), 'run_dir_not_tmpfs', /is not on tmpfs/);
  expectOne(t, problems({ leases: { heartbeatMs: 40, engineTimeoutMs: 50 } }), 'lease_too_tight', /lease timeout 50 ms is less than two heartbeats/);
  expectOne(t, problems({ databaseUrl: 'mysql://db/ims' }), 'bad_database_url', /'mysql:' is not a database IMS can use.*postgres:\/\//);
});

t.test('all problems are reported at once, and loadConfig throws them', async (t) => {
  const f = file({ profile: 'production', dataDir, demoData: true, durability: { mode: 'async' }, extra: 1 });
  const ps = checkConfig({ ...base, file: f, env: {} });
  t.same(ps.map((p) => p.code).sort(), ['demo_data_in_production', 'fsync_disabled_in_production', 'unknown_key']);
  t.throws(() => loadConfig({ ...base, file: f, env: {} }), ConfigError);
  try {
    loadConfig({ ...base, file: f, env: {} });
  } catch (e) {
    t.match((e as Error).message, /3 problem\(s\):\n {2}- .*unknown key "extra"/);
  }
  const err: string[] = [];
  t.equal(configCheckCommand({ ...base, file: f, env: {}, err: (l) => err.push(l) }), 1, 'ims config check exits 1');
  t.equal(err.length, 4, 'a heading and one line per problem');
  const json: string[] = [];
  t.equal(configCheckCommand({ ...base, file: f, env: {}, json: true, out: (l) => json.push(l) }), 1);
  t.equal(JSON.parse(json[0]!).problems.length, 3);
});
