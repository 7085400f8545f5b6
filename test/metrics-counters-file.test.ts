// The per-process counters file (bus/counters.ts): its layout, what a reader sees of what a writer
// declared, reads that never show a torn value while another process writes, and latency
// quantiles within one fine bucket of a sorted-array reference.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import t from 'tap';
import {
  BUCKET_COUNT,
  bucketIndexOfNs,
  bucketLowerNs,
  bucketUpperNs,
  COUNTERS_FILE_BYTES,
  CountersWriter,
  HISTOGRAM_BYTES,
  HISTOGRAM_SUB_BUCKETS,
  HISTOGRAMS_OFFSET,
  LABEL_SLOT_BYTES,
  LABELS_OFFSET,
  MAX_COUNTERS,
  MAX_HISTOGRAMS,
  quantileNs,
  readCountersBuffer,
  readCountersFile,
  VALUES_OFFSET,
} from '../bus/counters';
import { renderMetrics } from '../processes/operations/metrics';
import { countersPath, readProcessCounters } from '../processes/operations/process-counters';
import { parsePrometheusText } from '../processes/operations/prometheus-text';
import { SeededRandom, testSeed } from './support/seeded-random';
import { ROOT, until } from './support/ims-instance';

function tmpRunDir(t: { teardown(fn: () => void): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ims-counters-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

t.test('the layout: regions in order, none overlapping, the file a whole number of pages', async (t) => {
  t.ok(LABELS_OFFSET >= 128, 'the header fits before the labels');
  t.equal(VALUES_OFFSET, LABELS_OFFSET + MAX_COUNTERS * LABEL_SLOT_BYTES);
  t.equal(VALUES_OFFSET % 8, 0, 'values are 8-byte aligned (one store each)');
  t.equal(HISTOGRAMS_OFFSET % 8, 0);
  t.equal(HISTOGRAM_BYTES % 8, 0);
  t.ok(HISTOGRAMS_OFFSET + MAX_HISTOGRAMS * HISTOGRAM_BYTES <= COUNTERS_FILE_BYTES);
  t.equal(COUNTERS_FILE_BYTES % 4096, 0);
  t.equal(BUCKET_COUNT, 210);
});

t.test('a reader sees each declared counter with its label and value, and the process header', async (t) => {
  const runDir = tmpRunDir(t);
  const file = countersPath(runDir, 'gateway-7');
  const w = CountersWriter.create(file, 'gateway-7', 4242, 1_700_000_000_000);
  const placed = w.counter('ims_orders_in_total', 'command=place');
  const open = w.gauge('ims_open_connections', 'kind=websocket');
  const fills = w.counter('ims_fills_total');
  t.equal(w.counter('ims_orders_in_total', 'command=place'), placed, 'declaring twice finds the same slot');
  w.add(placed, 3);
  w.add(fills, 1);
  w.set(open, 5);
  const h = w.histogram('ims_round_trip_seconds');
  h.record(150_000);
  h.record(2_000_000);
  const snap = readCountersFile(file)!;
  t.equal(snap.processName, 'gateway-7');
  t.equal(snap.pid, 4242);
  t.equal(snap.startTimeMs, 1_700_000_000_000);
  t.same(
    snap.counters.map((c) => [c.kind, c.name, c.label, c.value]),
    [
      ['counter', 'ims_orders_in_total', { key: 'command', value: 'place' }, 3],
      ['gauge', 'ims_open_connections', { key: 'kind', value: 'websocket' }, 5],
      ['counter', 'ims_fills_total', null, 1],
    ],
  );
  t.equal(snap.histograms.length, 1);
  t.equal(snap.histograms[0]!.count, 2);
  t.equal(snap.histograms[0]!.sumNs, 2_150_000);
  t.throws(() => w.counter('Bad-Name'), /must match/);
  t.throws(() => w.counter('ims_x_total', 'no equals sign'), /key=value/);

  // A new incarnation starts from zero in a new file; a file without its magic is not read.
  const again = CountersWriter.create(file, 'gateway-7');
  t.equal(readCountersFile(file)!.counters.length, 0, 'the restarted process declared nothing yet');
  again.counter('ims_fills_total');
  const half = new ArrayBuffer(COUNTERS_FILE_BYTES);
  t.equal(readCountersBuffer(half), null, 'no magic: not (yet) a counters file');
  fs.writeFileSync(path.join(runDir, 'short.counters'), Buffer.alloc(100));
  t.same(readProcessCounters(runDir).map((r) => r.process), ['gateway-7'], 'a short stray file is skipped');
});

t.test('a reader never sees a torn value while another process writes (each read a value the writer stored)', async (t) => {
  const runDir = tmpRunDir(t);
  const file = countersPath(runDir, 'writer');
  // Every value k*(2^32+1) changes both 32-bit halves of the double at every step, so a read that
  // mixed two stores would not be a multiple of 2^32+1 (or would go backwards).
  const STEP = 2 ** 32 + 1;
  const STEPS = 2_000_000;
  const script = `
    const { CountersWriter } = require(${JSON.stringify(path.join(ROOT, 'dist', 'bus', 'counters.js'))});
    const w = CountersWriter.create(${JSON.stringify(file)}, 'writer');
    const slot = w.counter('ims_torn_total');
    process.stdout.write('ready\\n');
    for (let k = 1; k <= ${STEPS}; k++) w.values[slot] = k * ${STEP};
    process.stdout.write('done\\n');
  `;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  let out = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (d: string) => (out += d));
  await until('the writer to start', () => out.includes('ready'), 30_000, 5);
  let previous = 0;
  let reads = 0;
  let bad = 0;
  while (!out.includes('done') && reads < 5_000_000) {
    const snap = readCountersFile(file);
    if (snap === null) continue;
    const v = snap.counters[0]!.value;
    if (!(v % STEP === 0 && v >= previous && v <= STEPS * STEP)) bad++;
    previous = v;
    reads++;
    if (reads % 256 === 0) await new Promise((r) => setImmediate(r));
  }
  await until('the writer to finish', () => child.exitCode !== null || out.includes('done'), 60_000);
  t.ok(reads > 10, `read ${reads} times while the writer stored`);
  t.equal(bad, 0, 'no read showed a value the writer never stored');
  t.equal(readCountersFile(file)!.counters[0]!.value, STEPS * STEP, 'the last store is what remains');
});

t.test('every value falls in its bucket: lower <= v < upper, buckets contiguous', async (t) => {
  for (let i = 0; i < BUCKET_COUNT - 1; i++) {
    if (bucketUpperNs(i) !== bucketLowerNs(i + 1)) t.fail(`bucket ${i} and ${i + 1} are not contiguous`);
    if (bucketIndexOfNs(bucketLowerNs(i)) !== i && i > 0) t.fail(`the lower bound of bucket ${i} is in bucket ${bucketIndexOfNs(bucketLowerNs(i))}`);
  }
  const seed = testSeed(9_001);
  t.comment(`seed ${seed}`);
  const rnd = new SeededRandom(seed);
  let wrong = 0;
  for (let n = 0; n < 100_000; n++) {
    const v = Math.floor(2 ** ((rnd.nextU32() / 2 ** 32) * 40));
    const i = bucketIndexOfNs(v);
    if (!(bucketLowerNs(i) <= v && v < bucketUpperNs(i))) wrong++;
  }
  t.equal(wrong, 0, 'no value outside its bucket');
  t.equal(bucketIndexOfNs(0), 0);
  t.equal(bucketIndexOfNs(-5), 0);
  t.equal(bucketIndexOfNs(2 ** 50), BUCKET_COUNT - 1);
});

t.test('quantiles agree with a sorted-array reference within one fine bucket (12.5 %)', async (t) => {
  const seed = testSeed(4_711);
  t.comment(`seed ${seed}`);
  const rnd = new SeededRandom(seed);
  for (const n of [1, 7, 1000, 50_000]) {
    const w = CountersWriter.detached('q');
    const h = w.histogram('ims_round_trip_seconds');
    const values: number[] = [];
    for (let i = 0; i < n; i++) {
      // Log-uniform from 100 ns to ~10 s: latencies of every order of magnitude.
      const v = Math.floor(100 * 2 ** ((rnd.nextU32() / 2 ** 32) * 26.5));
      values.push(v);
      h.record(v);
    }
    values.sort((a, b) => a - b);
    const buckets = readCountersBuffer(w.buffer)!.histograms[0]!.buckets;
    for (const q of [0.5, 0.9, 0.99, 0.999, 1]) {
      const reference = values[Math.max(1, Math.ceil(q * n)) - 1]!;
      const estimate = quantileNs(buckets, q);
      const ok = estimate >= reference && estimate <= Math.max(reference * (1 + 1 / HISTOGRAM_SUB_BUCKETS), 1024);
      t.ok(ok, `n=${n} q=${q}: reference ${reference} ns, estimate ${estimate} ns`);
    }
  }
  t.ok(Number.isNaN(quantileNs(new Array(BUCKET_COUNT).fill(0), 0.99)), 'an empty histogram has no quantile');
});

t.test('a counters file renders as Prometheus text: labels, a histogram with monotonic buckets, quantile gauges', async (t) => {
  const runDir = tmpRunDir(t);
  const w = CountersWriter.create(countersPath(runDir, 'gateway-1'), 'gateway-1');
  w.add(w.counter('ims_rejects_total', 'reason=price_not_on_tick'), 2);
  w.set(w.gauge('ims_event_loop_delay_seconds', 'stat=p99'), 3_000_000);
  const h = w.histogram('ims_round_trip_seconds');
  for (const ns of [50_000, 120_000, 120_000, 900_000, 4_000_000]) h.record(ns);
  const e = parsePrometheusText(renderMetrics(runDir));
  const sample = (name: string, labels: Record<string, string>): number | undefined => e.samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
  t.equal(sample('ims_rejects_total', { process: 'gateway-1', reason: 'price_not_on_tick' }), 2);
  t.equal(sample('ims_event_loop_delay_seconds', { process: 'gateway-1', stat: 'p99' }), 0.003, 'nanoseconds in the file, seconds in the text');
  t.equal(e.types.get('ims_round_trip_seconds'), 'histogram');
  const buckets = e.samples.filter((s) => s.name === 'ims_round_trip_seconds_bucket' && s.labels['process'] === 'gateway-1');
  t.ok(buckets.length > 10, `${buckets.length} buckets`);
  const le = (i: number): number => (buckets[i]!.labels['le'] === '+Inf' ? Infinity : Number(buckets[i]!.labels['le']));
  for (let i = 1; i < buckets.length; i++) {
    if (!(le(i) > le(i - 1) && buckets[i]!.value >= buckets[i - 1]!.value)) t.fail(`bucket ${i} not monotonic`);
  }
  t.equal(buckets[buckets.length - 1]!.labels['le'], '+Inf');
  t.equal(buckets[buckets.length - 1]!.value, 5);
  t.equal(sample('ims_round_trip_seconds_count', { process: 'gateway-1' }), 5);
  t.ok(Math.abs(sample('ims_round_trip_seconds_sum', { process: 'gateway-1' })! - 0.00519) < 1e-12);
  const p99 = sample('ims_latency_quantile_seconds', { process: 'gateway-1', histogram: 'ims_round_trip_seconds', quantile: '0.99' })!;
  t.ok(p99 >= 0.004 && p99 <= 0.0045, `p99 ${p99} s is the 4 ms value's bucket`);
  t.equal(sample('ims_counters_writer_up', { process: 'gateway-1' }), 1);
});

t.test('every metric a process declares has its help text, one kind per name, and the files of all processes render together', async (t) => {
  const { GatewayCounters } = await import('../processes/gateway/gateway-counters');
  const { EngineCounters } = await import('../processes/matching-engine/engine-counters');
  const { PmCountersFile } = await import('../processes/product-manager/pm-counters');
  const { SequencerCounters } = await import('../processes/sequencer/sequencer-counters');
  const { ReporterCounters } = await import('../processes/reporter/reporter-counters');
  const { MarketDataCounters } = await import('../processes/market-data/market-data-counters');
  const { METRIC_HELP } = await import('../processes/operations/process-counters');
  const runDir = tmpRunDir(t);
  const made = {
    'gateway-1': (w: CountersWriter) => new GatewayCounters(w),
    'engine-a': (w: CountersWriter) => new EngineCounters(w),
    'pm-a': (w: CountersWriter) => new PmCountersFile(w),
    sequencer: (w: CountersWriter) => new SequencerCounters(w),
    reporter: (w: CountersWriter) => new ReporterCounters(w),
    'market-data': (w: CountersWriter) => new MarketDataCounters(w),
  };
  const kinds = new Map<string, string>();
  for (const [name, make] of Object.entries(made)) {
    const w = CountersWriter.create(countersPath(runDir, name), name);
    make(w);
    const snap = readCountersFile(countersPath(runDir, name))!;
    const names = [...snap.counters.map((c) => [c.name, c.kind] as const), ...snap.histograms.map((h) => [h.name, 'histogram'] as const)];
    t.same(names.filter(([n]) => METRIC_HELP[n] === undefined), [], `${name}: every name it declares is in METRIC_HELP`);
    for (const [n, kind] of names) {
      if (kinds.has(n) && kinds.get(n) !== kind) t.fail(`${n} is a ${kinds.get(n)} in one process and a ${kind} in ${name}`);
      kinds.set(n, kind);
    }
  }
  const e = parsePrometheusText(renderMetrics(runDir));
  for (const [n, kind] of kinds) t.equal(e.types.get(n), kind, `${n} renders as a ${kind}`);
  t.ok(e.samples.some((s) => s.name === 'ims_pm_command_rejects_total' && s.labels['process'] === 'pm-a' && s.labels['reason'] === 'risk_price_collar' && s.value === 0), 'reject reasons exist at 0 before any reject');
});
