// The one place that loads the compiled addon (native/build/Release/ims_native.node). Both the
// TypeScript sources (run by tests) and the compiled dist/ tree resolve it from the package root.
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface NativeAddon {
  /** Maps `path` MAP_SHARED; create=true grows (never shrinks) the file to sizeBytes. */
  mapFile(path: string, sizeBytes: number, create: boolean): ArrayBuffer;
  /** Removes a file; false when it did not exist. */
  unlinkFile(path: string): boolean;
  /** Shared futex wait on the int32 at byteOffset: 0 woken, 1 timed out, 2 value already differed. */
  futexWait(buffer: ArrayBuffer, byteOffset: number, expected: number, timeoutNs: number): 0 | 1 | 2;
  /** Sleeps on up to 8 words at once (futex_waitv): index woken, -1 timed out, -2 a value differed. */
  futexWaitMany(buffers: ArrayBuffer[], byteOffsets: number[], expected: number[], timeoutNs: number): number;
  /** Wakes up to `count` waiters (all when omitted); returns how many were woken. */
  futexWake(buffer: ArrayBuffer, byteOffset: number, count?: number): number;
  pinToCpus(cpus: readonly number[]): void;
  currentCpus(): number[];
  yieldCpu(): void;
  msync(buffer: ArrayBuffer, byteOffset: number, length: number): void;
  /** Standard CRC32C (Castagnoli), hardware instruction where the CPU has SSE4.2. */
  crc32c(bytes: ArrayBuffer | ArrayBufferView, byteOffset: number, length: number, seed?: number): number;
  hasHardwareCrc(): boolean;
  /** out[i] = CLOCK_MONOTONIC in ns, out[i+1] = CLOCK_REALTIME in µs; allocates nothing. */
  clockInto(out: Float64Array, index: number): void;
  readonly cacheLineBytes: number;
}

export const FUTEX_WOKEN = 0;
export const FUTEX_TIMED_OUT = 1;
export const FUTEX_VALUE_CHANGED = 2;

function findPackageRoot(start: string): string {
  let dir = start;
  for (let i = 0; i < 6; i++) {
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(path.join(dir, 'native', 'binding.gyp'))) return dir;
    dir = path.dirname(dir);
  }
  throw new Error(`ims: cannot find the package root above ${start} (looked for package.json beside native/binding.gyp)`);
}

function load(): NativeAddon {
  const root = findPackageRoot(__dirname);
  const file = path.join(root, 'native', 'build', 'Release', 'ims_native.node');
  if (!fs.existsSync(file)) {
    throw new Error(`ims: the native addon is not built (${file} is missing); run 'npm run build:native' (or 'npm ci')`);
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(file) as NativeAddon;
}

export const native: NativeAddon = load();
