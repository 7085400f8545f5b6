import t from 'tap';
import { LeaderLease } from '../bus/leader-lease';

const path = `/dev/shm/ims-test-lease-${process.pid}-${Math.floor(Math.random() * 1e9)}`;
t.teardown(() => LeaderLease.unlink(path));

t.test('a fresh lease has no leader and the first claim takes epoch 1', async (t) => {
  const lease = LeaderLease.open(path);
  t.equal(lease.epoch, 0);
  t.ok(lease.leaderLooksDead(50), 'no leader yet');
  t.equal(lease.tryAcquire(0), 1);
  t.equal(lease.leaderPid, process.pid);
  t.notOk(lease.leaderLooksDead(50), 'a fresh heartbeat from a live pid is a live leader');
});

t.test('two claimants racing for the same epoch: exactly one wins', async (t) => {
  const a = LeaderLease.open(path);
  const b = LeaderLease.open(path);
  const seen = a.epoch;
  const first = a.tryAcquire(seen);
  const second = b.tryAcquire(seen);
  t.equal(first, seen + 1);
  t.equal(second, -1, 'the loser is told to re-read');
});

t.test('a superseded leader is fenced: its heartbeat reports false', async (t) => {
  const old = LeaderLease.open(path);
  const mine = old.epoch;
  t.ok(old.heartbeat(mine));
  const taker = LeaderLease.open(path);
  t.equal(taker.tryAcquire(mine), mine + 1);
  t.notOk(old.heartbeat(mine), 'the old leader learns it lost');
});

t.test('a silent leader looks dead after the timeout', async (t) => {
  const lease = LeaderLease.open(path);
  lease.heartbeat(lease.epoch);
  t.notOk(lease.leaderLooksDead(40));
  await new Promise((r) => setTimeout(r, 80));
  t.ok(lease.heartbeatAgeMs() >= 70, `age ${lease.heartbeatAgeMs()} ms`);
  t.ok(lease.leaderLooksDead(40));
});

t.test('a file that is not a lease is refused with a clear error', async (t) => {
  const { native } = await import('../native/addon');
  const other = `${path}-other`;
  const buf = native.mapFile(other, 128, true);
  new Int32Array(buf)[0] = 12345;
  t.throws(() => LeaderLease.open(other), /not an IMS lease file/);
  native.unlinkFile(other);
});
