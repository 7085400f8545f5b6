// mapFile/unlinkFile of the native addon: what a shared mapping guarantees, and that every failure
// names the call, the path and errno so an operator can act on it.

import * as fs from 'node:fs';
import * as path from 'node:path';
import t from 'tap';
import { native } from '../native/addon';
import { leftoverShmEntries, SHM_DIR, shmPath } from './support/shm';

const ENOENT = 2;
const EISDIR = 21;
const ENOSPC = 28;

/** The error `fn` throws (fails the test when it does not throw). */
function thrown(fn: () => unknown): Error & { errno?: number; syscall?: string; path?: string } {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a throw');
}

t.test('two mappings of one file share their bytes, and create=true sizes a new file', async (t) => {
  const file = shmPath(t, 'shared');
  const a = new Uint8Array(native.mapFile(file, 8192, true));
  const b = new Uint8Array(native.mapFile(file, 0, false));
  t.equal(a.byteLength, 8192);
  t.equal(b.byteLength, 8192, 'size 0 with create=false maps the whole file');
  t.equal(fs.statSync(file).size, 8192);
  a[4097] = 0xab;
  t.equal(b[4097], 0xab, 'a write through one mapping is visible through the other');
});

t.test('create=true grows a smaller file but never shrinks a larger one', async (t) => {
  const file = shmPath(t, 'grow');
  fs.writeFileSync(file, Buffer.alloc(4096, 7));
  const grown = new Uint8Array(native.mapFile(file, 8192, true));
  t.equal(grown.byteLength, 8192);
  t.equal(grown[100], 7, 'existing bytes are kept');
  t.equal(grown[5000], 0, 'new bytes are zero');
  const part = native.mapFile(file, 4096, true);
  t.equal(part.byteLength, 4096, 'the mapping covers the bytes asked for');
  t.equal(fs.statSync(file).size, 8192, 'the file was not truncated');
});

t.test('opening a missing file fails naming open, the path and ENOENT', async (t) => {
  const file = shmPath(t, 'missing');
  const e = thrown(() => native.mapFile(file, 0, false));
  t.match(e.message, `ims_native.open failed for '${file}'`);
  t.match(e.message, /No such file or directory \(errno 2\)/);
  t.equal(e.errno, ENOENT);
  t.equal(e.syscall, 'open');
  t.equal(e.path, file);
});

t.test('creating a file in a missing directory fails naming open, the path and ENOENT', async (t) => {
  const dir = shmPath(t, 'no-such-dir');
  const file = path.join(dir, 'ring');
  const e = thrown(() => native.mapFile(file, 4096, true));
  t.match(e.message, `ims_native.open failed for '${file}'`);
  t.match(e.message, '(errno 2)');
  t.equal(e.errno, ENOENT);
  t.equal(e.path, file);
  t.notOk(fs.existsSync(dir));
});

t.test('creating over a directory fails naming open, the path and EISDIR', async (t) => {
  const dir = shmPath(t, 'a-dir');
  fs.mkdirSync(dir);
  const e = thrown(() => native.mapFile(dir, 4096, true));
  t.match(e.message, `ims_native.open failed for '${dir}'`);
  t.match(e.message, `(errno ${EISDIR})`);
  t.equal(e.errno, EISDIR);
  t.equal(e.syscall, 'open');
});

// 60 GiB is under the addon's 64 GiB limit and beyond this tmpfs: tmpfs refuses it up front,
// before touching a page, so the test allocates nothing.
const TOO_BIG_BYTES = 60 * 2 ** 30;
const shmStats = fs.statfsSync(SHM_DIR);
const shmBytes = shmStats.blocks * shmStats.bsize;

t.test('creating a file larger than /dev/shm can hold fails naming posix_fallocate, the path and ENOSPC', {
  skip: shmBytes >= TOO_BIG_BYTES ? `/dev/shm holds ${shmBytes} bytes, ENOSPC cannot be provoked` : false,
}, async (t) => {
  const file = shmPath(t, 'too-big');
  const size = TOO_BIG_BYTES;
  const e = thrown(() => native.mapFile(file, size, true));
  t.match(e.message, `ims_native.posix_fallocate failed for '${file}'`);
  t.match(e.message, `(errno ${ENOSPC})`);
  t.equal(e.errno, ENOSPC);
  t.equal(e.syscall, 'posix_fallocate');
  t.equal(e.path, file);
});

t.test('asking for more bytes than an existing file has fails naming mapFile, the path and both sizes', async (t) => {
  const file = shmPath(t, 'short');
  fs.writeFileSync(file, Buffer.alloc(4096));
  // No system call failed here, so there is no errno to report; the sizes are what tells the
  // operator what is wrong.
  const e = thrown(() => native.mapFile(file, 8192, false));
  t.match(e.message, `ims_native.mapFile: '${file}' has 4096 bytes but 8192 were asked for`);
  t.match(e.message, 'recreate it');
});

t.test('bad arguments are TypeErrors raised before any file is touched', async (t) => {
  const file = shmPath(t, 'bad-args');
  t.throws(() => native.mapFile(file, 0, true), TypeError, 'create needs a size');
  t.throws(() => native.mapFile(file, -1, true), TypeError, 'negative size');
  t.throws(() => native.mapFile(file, 1.5, true), TypeError, 'fractional size');
  t.throws(() => native.mapFile(file, 2 ** 37, true), TypeError, 'beyond the 64 GiB limit');
  t.throws(() => (native.mapFile as (...a: unknown[]) => unknown)(file, 4096), TypeError, 'create missing');
  t.throws(() => (native.mapFile as (...a: unknown[]) => unknown)(42, 4096, true), TypeError, 'path not a string');
  t.notOk(fs.existsSync(file));
});

t.test('unlinkFile removes a file and reports false when there is none', async (t) => {
  const file = shmPath(t, 'unlink');
  fs.writeFileSync(file, 'x');
  t.equal(native.unlinkFile(file), true);
  t.notOk(fs.existsSync(file));
  t.equal(native.unlinkFile(file), false);
});

t.test('leaves no /dev/shm entry with this file\'s prefix behind', async (t) => {
  t.same(leftoverShmEntries(), []);
});
