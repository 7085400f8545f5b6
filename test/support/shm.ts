// Unique /dev/shm names for one test file, and their removal. Every name starts with
// `ims-test-<pid>-`, so a test file can prove at its end that it left nothing behind, and files of
// parallel runs (or of other engineers' tests) never collide with ours.

import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

export const SHM_DIR = '/dev/shm';
/** The prefix of every /dev/shm entry this process creates. */
export const SHM_PREFIX = `ims-test-${process.pid}-`;

/** The slice of tap's Test this helper needs (so it works with any tap version). */
export interface Teardowns {
  teardown(fn: () => void | Promise<void>): void;
}

/**
 * A fresh path `/dev/shm/ims-test-<pid>-<random>-<label>` that is removed (file or directory)
 * when `t` ends. The file is not created here.
 */
export function shmPath(t: Teardowns, label: string): string {
  if (!/^[a-z0-9-]{1,40}$/.test(label)) throw new TypeError(`shm label must be 1..40 of [a-z0-9-], got '${label}'`);
  const file = path.join(SHM_DIR, `${SHM_PREFIX}${crypto.randomBytes(4).toString('hex')}-${label}`);
  t.teardown(() => fs.rmSync(file, { force: true, recursive: true }));
  return file;
}

/** Entries of /dev/shm that carry this process's prefix (should be empty at the end of a file). */
export function leftoverShmEntries(): string[] {
  return fs.readdirSync(SHM_DIR).filter((name) => name.startsWith(SHM_PREFIX));
}
