// What a ring file must be before anyone uses it: the right magic, layout version and size, a valid
// geometry, one live producer and one live process per consumer name. Each refusal says what is
// wrong and what to do.

import * as fs from 'node:fs';
import t from 'tap';
import { RingConsumer, RingFile, RingProducer } from '../bus/ring';
import { Meta, RING_LAYOUT_VERSION, ringFileBytes } from '../bus/ring-layout';
import { leftoverShmEntries, shmPath } from './support/shm';
import { liveChildren, spawnDist } from './support/spawn';

const EXERCISER = 'processes/exerciser/main.ts';
const CAPACITY = 4096;
const START_TIMEOUT_MS = 10_000;

t.test('opening a file without the ring magic fails with "bad magic ... not an IMS ring file"', async (t) => {
  const zeros = shmPath(t, 'zero-magic');
  fs.writeFileSync(zeros, Buffer.alloc(ringFileBytes(CAPACITY, 2)));
  t.throws(() => RingFile.open(zeros), { message: /bad magic 0x0 \(expected 0x52534d49\); it is not an IMS ring file — remove it and restart/ });
  const junk = shmPath(t, 'junk-magic');
  fs.writeFileSync(junk, Buffer.alloc(ringFileBytes(CAPACITY, 2), 0xee));
  t.throws(() => RingFile.open(junk), { message: /bad magic 0xeeeeeeee/ });
  t.throws(() => RingFile.create(junk, { capacityBytes: CAPACITY, maxConsumers: 2 }), { message: /bad magic 0xeeeeeeee/ }, 'create refuses it too, without overwriting it');
  t.equal(fs.readFileSync(junk)[0], 0xee);
});

t.test('opening a ring of another layout version fails naming both versions and the fix', async (t) => {
  const file = shmPath(t, 'version');
  const ring = RingFile.create(file, { capacityBytes: CAPACITY, maxConsumers: 2 });
  ring.view.setUint32(Meta.LAYOUT_VERSION, RING_LAYOUT_VERSION + 1, true);
  t.throws(() => RingFile.open(file), {
    message: new RegExp(`layout version ${RING_LAYOUT_VERSION + 1}, this build reads ${RING_LAYOUT_VERSION}; stop every process and recreate the bus`),
  });
});

t.test('opening a ring whose file size disagrees with its header fails as damaged', async (t) => {
  const longer = shmPath(t, 'longer');
  RingFile.create(longer, { capacityBytes: CAPACITY, maxConsumers: 2 });
  fs.truncateSync(longer, ringFileBytes(CAPACITY, 2) + 4096);
  t.throws(() => RingFile.open(longer), { message: /header says capacity 4096, 2 consumers, data at 4096, but the file has 12288 bytes; the file is damaged/ });
  const shorter = shmPath(t, 'shorter');
  RingFile.create(shorter, { capacityBytes: 8192, maxConsumers: 2 });
  fs.truncateSync(shorter, ringFileBytes(8192, 2) - 4096);
  t.throws(() => RingFile.open(shorter), { message: /header says capacity 8192, .* but the file has 8192 bytes; the file is damaged/ });
});

t.test('creating over an existing ring with another geometry is refused, naming both, and leaves that ring intact', async (t) => {
  for (const [existing, asked] of [
    [{ capacityBytes: 4096, maxConsumers: 2 }, { capacityBytes: 8192, maxConsumers: 2 }],
    [{ capacityBytes: 8192, maxConsumers: 2 }, { capacityBytes: 4096, maxConsumers: 2 }],
    [{ capacityBytes: 4096, maxConsumers: 2 }, { capacityBytes: 4096, maxConsumers: 8 }],
  ] as const) {
    const file = shmPath(t, 'geometry');
    const ring = RingFile.create(file, existing);
    new RingProducer(ring).offer(7, 1, Uint8Array.of(1, 2, 3), 0, 3);
    const sizeBefore = fs.statSync(file).size;
    t.throws(() => RingFile.create(file, asked), {
      message: new RegExp(`exists with capacity ${existing.capacityBytes} and ${existing.maxConsumers} consumers, asked for ${asked.capacityBytes} and ${asked.maxConsumers}; remove it to change the geometry`),
    });
    t.equal(fs.statSync(file).size, sizeBefore, `the ${existing.capacityBytes}-byte ring file was not resized by a create for ${asked.capacityBytes}`);
    const reopened = RingFile.open(file);
    t.equal(reopened.capacity, existing.capacityBytes, 'it still opens');
    t.equal(reopened.publishedRecords(), 1, 'with its records');
  }
});

t.test('creating with the same geometry opens the existing ring without resetting it', async (t) => {
  const file = shmPath(t, 'same');
  const ring = RingFile.create(file, { capacityBytes: CAPACITY, maxConsumers: 2 });
  const producer = new RingProducer(ring);
  producer.offer(7, 1, Uint8Array.of(1), 0, 1);
  producer.close();
  const again = RingFile.create(file, { capacityBytes: CAPACITY, maxConsumers: 2 });
  t.equal(again.tail(), ring.tail());
  t.equal(again.publishedRecords(), 1);
});

t.test('invalid capacities and consumer counts are rejected with a TypeError before any file is made', async (t) => {
  const file = shmPath(t, 'invalid');
  for (const capacityBytes of [0, 1000, 4095, 6000, 2048, 2 ** 31, 1.5, Number.NaN, -4096]) {
    t.throws(() => RingFile.create(file, { capacityBytes }), TypeError, `capacity ${capacityBytes}`);
  }
  t.throws(() => RingFile.create(file, { capacityBytes: 2048 }), { message: /capacityBytes must be a power of two in \[4096, 1073741824\], got 2048/ });
  for (const maxConsumers of [0, 33, 2.5, -1]) {
    t.throws(() => RingFile.create(file, { capacityBytes: CAPACITY, maxConsumers }), TypeError, `maxConsumers ${maxConsumers}`);
  }
  t.notOk(fs.existsSync(file), 'no file was created');
});

t.test('a second producer is refused while the first producer process lives, and takes over once it died', async (t) => {
  const file = shmPath(t, 'two-producers');
  const ring = RingFile.create(file, { capacityBytes: 64 * 1024, maxConsumers: 2 });
  const first = spawnDist(t, EXERCISER, ['producer', '--ring', file, '--count', '0', '--rate', '100', '--exit-with-parent']);
  const start = await first.waitForEvent('producer-start', START_TIMEOUT_MS);
  t.equal(ring.producerPid(), start['pid']);
  t.throws(() => new RingProducer(ring), { message: new RegExp(`producer pid ${first.pid} is still alive; a ring has exactly one producer \\(stop it first\\)`) });
  await first.kill('SIGKILL');
  t.equal(ring.producerPid(), first.pid, 'a killed producer leaves its pid behind');
  const second = new RingProducer(ring);
  t.equal(ring.producerPid(), process.pid, 'a new producer takes over from a dead one');
  second.close();
  t.equal(ring.producerPid(), 0, 'close releases the ring');
});

t.test('a consumer name attached by a live process is refused', async (t) => {
  const file = shmPath(t, 'same-name');
  const ring = RingFile.create(file, { capacityBytes: CAPACITY, maxConsumers: 2 });
  const holder = spawnDist(t, EXERCISER, ['consumer', '--ring', file, '--name', 'taken', '--exit-with-parent']);
  await holder.waitForEvent('consumer-start', START_TIMEOUT_MS);
  t.throws(() => new RingConsumer(ring, 'taken'), { message: new RegExp(`consumer 'taken' is attached by live pid ${holder.pid}; one consumer per name`) });
  await holder.kill('SIGKILL');
  t.ok(new RingConsumer(ring, 'taken'), 'once that process died the name can be taken over');
});

t.test('leaves no /dev/shm entry with this file\'s prefix behind and no child running', async (t) => {
  t.same(liveChildren().map((c) => c.pid), []);
  t.same(leftoverShmEntries(), []);
});
