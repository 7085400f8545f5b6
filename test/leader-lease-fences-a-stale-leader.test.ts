import t from 'tap';
import { emptyLeaseSnapshot, LeaderLease, PID_CHECK_GRACE_MS } from '../bus/leader-lease';
import { native } from '../native/addon';

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

t.test('a claim made on a reading loses to a claim made after that reading', async (t) => {
  const lease = LeaderLease.open(path);
  lease.heartbeat(lease.epoch);
  await new Promise((r) => setTimeout(r, 60));
  const judgedByB = emptyLeaseSnapshot();
  t.ok(lease.leaderLooksDead(40, judgedByB), 'b judges the silent leader dead');
  const a = LeaderLease.open(path);
  const won = a.tryAcquire(a.snapshot());
  t.equal(won, judgedByB.epoch + 1, 'a claims first, from its own reading');
  t.equal(lease.tryAcquire(judgedByB), -1, "b's claim of the state it judged fails: it does not take the epoch after a's");
  t.equal(lease.epoch, won, 'the epoch stays with a');
});

t.test('a leader that beats after a claimant judged it dead keeps the lease', async (t) => {
  const leader = LeaderLease.open(path);
  const mine = leader.epoch;
  leader.heartbeat(mine);
  await new Promise((r) => setTimeout(r, 60));
  const judged = emptyLeaseSnapshot();
  t.ok(leader.leaderLooksDead(40, judged));
  await new Promise((r) => setTimeout(r, 2));
  t.ok(leader.heartbeat(mine), 'the late leader beats again');
  t.equal(LeaderLease.open(path).tryAcquire(judged), -1, 'the claim on the stale reading fails');
  t.ok(leader.heartbeat(mine), 'and the leader is not fenced');
});

t.test('a claim half written (heartbeat and epoch moved, pid not yet) does not look like a dead leader', async (t) => {
  const lease = LeaderLease.open(path);
  const i32 = new Int32Array(native.mapFile(path, 128, false));
  const before = lease.snapshot();
  // The claimant's first two steps, done by hand, with a pid that no longer exists left in place.
  const deadPid = 0x3fffffff;
  Atomics.store(i32, 3, deadPid);
  const fresh = emptyLeaseSnapshot();
  lease.heartbeat(before.epoch);
  lease.snapshot(fresh);
  t.equal(Atomics.compareExchange(i32, 2, before.epoch, before.epoch + 1), before.epoch, 'epoch moved');
  t.notOk(lease.leaderLooksDead(1_000), `within ${PID_CHECK_GRACE_MS} ms of the heartbeat a vanished pid is a claim in progress`);
  await new Promise((r) => setTimeout(r, PID_CHECK_GRACE_MS + 5));
  t.ok(lease.leaderLooksDead(1_000), 'after the grace, a vanished pid is a dead leader');
});

t.test('a file that is not a lease is refused with a clear error', async (t) => {
  const { native } = await import('../native/addon');
  const other = `${path}-other`;
  const buf = native.mapFile(other, 128, true);
  new Int32Array(buf)[0] = 12345;
  t.throws(() => LeaderLease.open(other), /not an IMS lease file/);
  native.unlinkFile(other);
});
