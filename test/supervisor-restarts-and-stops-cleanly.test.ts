// The supervisor is the real one the system uses: these tests start it through the `ims` CLI as
// an operator would, kill a child with SIGKILL, and check `ims stop` leaves nothing behind.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import t from 'tap';
import { defaultCorePlan, parseCoreOverrides } from '../processes/supervisor/core-plan';

const ROOT = path.resolve(__dirname, '..');
const IMS = path.join(ROOT, 'dist', 'scripts', 'ims.js');
const instance = `test-sup-${process.pid}-${Math.floor(Math.random() * 1e6)}`;
const runDir = `/dev/shm/ims-${instance}`;
const dataDir = fs.mkdtempSync('/tmp/ims-test-sup-');

function ims(...args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [IMS, ...args, '--instance', instance, '--data-dir', dataDir], { encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function status(): any {
  const r = ims('status', '--json');
  return JSON.parse(r.out);
}

async function until<T>(what: string, fn: () => T | undefined | false, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

let supervisor: ChildProcess | null = null;
const seenPids = new Set<number>();

t.teardown(() => {
  for (const pid of seenPids) if (alive(pid)) process.kill(pid, 'SIGKILL');
  if (supervisor?.pid && alive(supervisor.pid)) supervisor.kill('SIGKILL');
  fs.rmSync(runDir, { recursive: true, force: true });
  fs.rmSync(dataDir, { recursive: true, force: true });
});

t.test('the core plan gives every group a core on 1, 2, 4 and 16 cores, and rejects bad overrides', async (t) => {
  for (const cores of [1, 2, 4, 16]) {
    const plan = defaultCorePlan(cores);
    for (const [group, cpus] of Object.entries(plan.groups)) {
      t.ok(cpus.length > 0, `${cores} cores: group ${group} has cores`);
      t.ok(cpus.every((c) => c >= 0 && c < cores), `${cores} cores: group ${group} stays within the machine`);
    }
  }
  t.same([...parseCoreOverrides('a=1,b=0-1', 2, ['a', 'b']).entries()], [['a', [1]], ['b', [0, 1]]]);
  t.throws(() => parseCoreOverrides('nosuch=1', 2, ['a']), /not a process/);
  t.throws(() => parseCoreOverrides('a=7', 2, ['a']), /within 0\.\.1/);
  t.throws(() => parseCoreOverrides('a:1', 2, ['a']), /name=core/);
});

t.test('ims start runs every process pinned, restarts a SIGKILLed one, and ims stop leaves no process or file', async (t) => {
  supervisor = spawn(process.execPath, [IMS, 'start', '--instance', instance, '--data-dir', dataDir, '--topology', 'exercise', '--exercise-rate', '2000'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  supervisor.stdout!.on('data', (d) => (log += d));
  supervisor.stderr!.on('data', (d) => (log += d));

  const first = await until('all processes running', () => {
    if (!fs.existsSync(path.join(runDir, 'supervisor.json'))) return undefined;
    const s = status();
    return s.running && s.processes.every((p: any) => p.alive) ? s : undefined;
  });
  t.equal(first.processes.length, 3, 'three processes run');
  const online = defaultCorePlan(require('node:os').availableParallelism());
  for (const p of first.processes) {
    seenPids.add(p.pid);
    t.equal(p.cpus.length, 1, `${p.name} is pinned to one core`);
    t.ok(Object.values(online.groups).some((g) => g.includes(p.cpus[0])), `${p.name} runs on a planned core`);
  }
  const ring = await until('records flowing', () => {
    const s = status();
    const r = s.rings.find((x: any) => x.name === 'exercise');
    return r && r.records > 100 ? r : undefined;
  });
  t.equal(ring.consumers.length, 2, 'both consumers are registered');

  const victim = first.processes.find((p: any) => p.name === 'exercise-gating');
  process.kill(victim.pid, 'SIGKILL');
  const after = await until('the killed process restarted', () => {
    const s = status();
    const p = s.processes.find((x: any) => x.name === 'exercise-gating');
    return p.restarts === 1 && p.alive && p.pid !== victim.pid ? p : undefined;
  });
  seenPids.add(after.pid);
  t.match(after.lastExit, /SIGKILL/, 'the status names how it died');
  await until('the restarted consumer logs its start', () => (log.match(/exercise-gating\] \{"event":"consumer-start"/g) ?? []).length >= 2);
  t.pass('the restarted consumer started again and its output reaches the supervisor log');

  const before = status().rings[0].consumers.find((c: any) => c.name === 'exercise-gating');
  await until('the restarted gating consumer keeps up', () => {
    const c = status().rings[0].consumers.find((x: any) => x.name === 'exercise-gating');
    return c.position !== before.position ? c : undefined;
  });

  const stop = ims('stop');
  t.equal(stop.code, 0, 'ims stop exits 0');
  t.match(stop.out, /stopped/);
  await until('supervisor exited', () => supervisor!.exitCode !== null);
  t.equal(supervisor.exitCode, 0, 'the supervisor exits cleanly');
  for (const pid of [...seenPids, supervisor.pid!]) t.notOk(alive(pid), `pid ${pid} is gone`);
  t.notOk(fs.existsSync(runDir), 'the ring directory on /dev/shm is removed');
  t.equal(ims('status').code, 3, 'status of a stopped instance exits 3');
});
