// npm run bench:bus [-- --quick]
//
// Moves 64-byte messages (8-byte record header + 56-byte payload, see bus/bench-message.ts)
// between two processes pinned to different cores, over four transports in the same run:
//
//   js-ring  the IMS ring (bus/ring.ts RingProducer/RingConsumer over /dev/shm), batched
//            claim/commit, busy-spinning consumer
//   c-ring   a plain C SPSC ring over the same layout (scripts/bench/c-ring/c_ring.c, compiled now
//            with cc -O2 against a header generated from bus/ring-layout.ts): the physical bound
//   uds      a Unix domain stream socket, many messages per write()
//   ipc      process.send with 'advanced' serialization, one Uint8Array of many messages per send
//
// Throughput trials are interleaved (each round runs every transport once, starting with a
// different one) and the MEDIAN of each is reported, with the ratios the bus must meet. Then:
// spin round trip over two rings (JS and C) and over the socket, and the wake-up latency of a
// consumer asleep in the default BackoffIdleStrategy. Latencies are HdrHistogram percentiles.
//
// Every child is killed and every /dev/shm file and temp file removed at the end, on error, and
// on SIGINT/SIGTERM/SIGHUP. The last stdout line is one JSON object.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { native } from '../../native/addon';
import { BENCH_MESSAGE_BYTES } from './bus/bench-message';
import { killAllChildren } from './bus/bench-process';
import { Scratch } from './bus/bench-scratch';
import {
  BATCH_MESSAGES,
  BusTrials,
  MIXED_RINGS,
  POLL_LIMIT,
  RECEIVER_CPU,
  RING_CAPACITY_BYTES,
  SENDER_CPU,
  TRANSPORTS,
  WAKE_MAX_DELAY_US,
  WAKE_MIN_DELAY_US,
  WAKE_SEED,
  type LatencyRun,
  type Plan,
  type Transport,
  type Trial,
} from './bus/bus-trials';
import { buildCRing } from './bus/c-ring-build';

const PLANS: Record<Plan['name'], Plan> = {
  quick: { name: 'quick', trials: 5, warmMs: 100, measureMs: 300, ringRttWarm: 20_000, ringRttSamples: 100_000, udsRttWarm: 2_000, udsRttSamples: 20_000, wakeWarm: 50, wakeSamples: 1_500, retryBudgetMs: 3_000, mixedTrials: 1 },
  full: { name: 'full', trials: 9, warmMs: 200, measureMs: 1_000, ringRttWarm: 100_000, ringRttSamples: 1_000_000, udsRttWarm: 10_000, udsRttSamples: 100_000, wakeWarm: 100, wakeSamples: 10_000, retryBudgetMs: 40_000, mixedTrials: 3 },
};

/** A trial in which some bench process waited longer than this share for its CPU was disturbed. */
const CONTENDED_WAIT_SHARE = 0.05;
/** A disturbed trial is run again at most this often (within the plan's retry budget). */
const MAX_ATTEMPTS_PER_TRIAL = 3;

const TARGET_RING_VS_C_RING = 0.7;
const TARGET_RING_VS_UDS = 2.5;
const TARGET_RING_RTT_P50_NS = 1_500;

function findPackageRoot(start: string): string {
  let dir = start;
  for (let i = 0; i < 6; i++) {
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(path.join(dir, 'scripts', 'bench', 'c-ring'))) return dir;
    dir = path.dirname(dir);
  }
  throw new Error(`bench:bus: cannot find the package root above ${start} (looked for package.json beside scripts/bench/c-ring)`);
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** What one native.clockInto call costs here, in CPU time (every timestamp of a JS child pays it). */
function clockCallNs(): number {
  const out = new Float64Array(2);
  const calls = 200_000;
  const since = process.cpuUsage();
  for (let i = 0; i < calls; i++) native.clockInto(out, 0);
  const used = process.cpuUsage(since);
  return ((used.user + used.system) * 1000) / calls;
}

const fmtRate = (r: number): string => `${(r / 1e6).toFixed(2)} M msg/s`;
const fmtNs = (ns: number): string => (ns >= 10_000 ? `${(ns / 1000).toFixed(1)} µs` : `${Math.round(ns)} ns`);
const fmtWait = (share: number): string => (share > CONTENDED_WAIT_SHARE ? ` (cpu wait ${(share * 100).toFixed(0)} %)` : '');
const fmtLatency = (run: LatencyRun): string => {
  const l = run.latency;
  return `p50 ${fmtNs(l.p50Ns)}  p90 ${fmtNs(l.p90Ns)}  p99 ${fmtNs(l.p99Ns)}  p99.9 ${fmtNs(l.p999Ns)}  max ${fmtNs(l.maxNs)}  (${l.count} samples)${fmtWait(run.waitShare)}`;
};

type MainTransport = (typeof TRANSPORTS)[number];

/**
 * Other people's processes share these two cores. A trial they disturbed (a bench process waited
 * for its CPU) is run again, at most MAX_ATTEMPTS_PER_TRIAL times in all and within the plan's
 * time budget, and the least disturbed attempt is kept. What stays disturbed is reported.
 */
class Retries {
  count = 0;
  constructor(private msLeft: number) {}

  async leastDisturbed(bench: BusTrials, transport: Transport): Promise<Trial> {
    let kept = await bench.throughput(transport);
    for (let attempt = 2; attempt <= MAX_ATTEMPTS_PER_TRIAL && kept.waitShare > CONTENDED_WAIT_SHARE && this.msLeft > 0; attempt++) {
      const startedMs = Date.now();
      const again = await bench.throughput(transport);
      this.msLeft -= Date.now() - startedMs;
      this.count++;
      if (again.waitShare < kept.waitShare) kept = again;
    }
    return kept;
  }
}

/** `plan.trials` rounds, each running every transport once, starting with a different one. */
async function runThroughputRounds(bench: BusTrials, plan: Plan, retries: Retries): Promise<Record<MainTransport, Trial[]>> {
  const trials: Record<MainTransport, Trial[]> = { 'js-ring': [], 'c-ring': [], uds: [], ipc: [] };
  for (let t = 0; t < plan.trials; t++) {
    for (let k = 0; k < TRANSPORTS.length; k++) {
      const transport = TRANSPORTS[(t + k) % TRANSPORTS.length]!;
      trials[transport].push(await retries.leastDisturbed(bench, transport));
    }
    const parts = TRANSPORTS.map((transport) => `${transport} ${fmtRate(trials[transport][t]!.msgsPerS)}${fmtWait(trials[transport][t]!.waitShare)}`);
    console.log(`  trial ${t + 1}/${plan.trials}: ${parts.join('  ')}`);
  }
  return trials;
}

/** The diagnostic pairs (a C side and a JS side on one ring), interleaved; the median trial of each. */
async function runMixedRings(bench: BusTrials, plan: Plan, retries: Retries): Promise<Record<(typeof MIXED_RINGS)[number], Trial>> {
  const trials: Record<(typeof MIXED_RINGS)[number], Trial[]> = { 'c-to-js': [], 'js-to-c': [] };
  for (let t = 0; t < plan.mixedTrials; t++) {
    for (const pair of MIXED_RINGS) trials[pair].push(await retries.leastDisturbed(bench, pair));
  }
  const medianTrial = (xs: Trial[]): Trial => [...xs].sort((a, b) => a.msgsPerS - b.msgsPerS)[xs.length >> 1]!;
  return { 'c-to-js': medianTrial(trials['c-to-js']), 'js-to-c': medianTrial(trials['js-to-c']) };
}

interface ThroughputSummary {
  med: Record<MainTransport, number>;
  clean: Record<MainTransport, number>;
  minClean: number;
  pairedRingVsC: number;
  contended: number;
}

/**
 * Medians over the undisturbed trials of a transport when there are enough of them: a trial in
 * which another process took the CPU from a bench process measures that process, not the bus
 * (on this machine one disturbed C trial ran at 10 M msg/s beside undisturbed ones at 155 M).
 * With too few, the median of all trials, flagged in the output. The JS/C ratio is also taken
 * per round, over the rounds where both were undisturbed: trials of one round ran seconds apart,
 * so slow changes of the machine (where the hypervisor runs our two vCPUs) cancel out.
 */
function summarizeThroughput(trials: Record<MainTransport, Trial[]>, plan: Plan): ThroughputSummary {
  const minClean = Math.ceil(plan.trials / 3);
  const undisturbed = (trial: Trial): boolean => trial.waitShare <= CONTENDED_WAIT_SHARE;
  const med = {} as Record<MainTransport, number>;
  const clean = {} as Record<MainTransport, number>;
  let contended = 0;
  for (const transport of TRANSPORTS) {
    const all = trials[transport];
    const good = all.filter(undisturbed);
    clean[transport] = good.length;
    contended += all.length - good.length;
    med[transport] = median((good.length >= minClean ? good : all).map((trial) => trial.msgsPerS));
  }
  const rounds = trials['js-ring'].map((js, t) => ({ js, c: trials['c-ring'][t]! }));
  const cleanRounds = rounds.filter((round) => undisturbed(round.js) && undisturbed(round.c));
  const pairedRingVsC = median((cleanRounds.length >= minClean ? cleanRounds : rounds).map((round) => round.js.msgsPerS / round.c.msgsPerS));
  return { med, clean, minClean, pairedRingVsC, contended };
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  for (const a of argv) if (a !== '--quick') throw new TypeError(`bench:bus: unknown argument '${a}'; the only option is --quick`);
  const plan = PLANS[argv.includes('--quick') ? 'quick' : 'full'];
  const cpus = os.cpus().length;
  if (cpus < 2) throw new Error(`bench:bus needs 2 CPUs to pin sender and receiver apart; this machine has ${cpus}`);
  if (!fs.existsSync('/dev/shm')) throw new Error('bench:bus: /dev/shm is missing; the rings live there');

  const stale = Scratch.sweepStale('/dev/shm');
  if (stale.length > 0) console.log(`removed what an earlier, killed run left: ${stale.join(', ')}`);
  const scratch = new Scratch('/dev/shm');
  const cleanup = (): void => {
    killAllChildren();
    scratch.cleanup();
  };
  process.on('exit', cleanup);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      process.stderr.write(`bench:bus: ${signal}, killing children and removing files\n`);
      cleanup();
      process.exit(130);
    });
  }

  try {
    const started = Date.now();
    const cRing = buildCRing(findPackageRoot(__dirname), scratch.tmpDir);
    const bench = new BusTrials(plan, scratch, cRing);
    console.log(`bus bench (${plan.name}): ${BENCH_MESSAGE_BYTES}-byte messages (8-byte header + 56-byte payload), sender pinned to cpu ${SENDER_CPU}, receiver to cpu ${RECEIVER_CPU}, ${os.cpus()[0]?.model ?? '?'} x${cpus}, node ${process.version}`);
    console.log(`  batch ${BATCH_MESSAGES} messages per ring commit / socket write() / process.send() (one ${(BATCH_MESSAGES * BENCH_MESSAGE_BYTES) / 1024} KiB Uint8Array, 'advanced' serialization); ring ${RING_CAPACITY_BYTES / 1024} KiB, consumer poll limit ${POLL_LIMIT}`);
    console.log(`  throughput: ${plan.trials} interleaved trials per transport, ${plan.warmMs} ms warm-up + ${plan.measureMs} ms measured each; medians reported`);
    const clockNs = clockCallNs();

    const retries = new Retries(plan.retryBudgetMs);
    const trials = await runThroughputRounds(bench, plan, retries);
    const summary = summarizeThroughput(trials, plan);
    const { med, clean } = summary;
    const ringVsC = med['js-ring'] / med['c-ring'];
    const ringVsUds = med['js-ring'] / med.uds;
    const allRates = (transport: MainTransport): number[] => trials[transport].map((trial) => trial.msgsPerS);
    const spread = (xs: number[]): string => `${fmtRate(Math.min(...xs))} .. ${fmtRate(Math.max(...xs))}`;
    const basis = (transport: MainTransport): string => (clean[transport] >= summary.minClean ? `${clean[transport]} undisturbed` : `all ${plan.trials}, only ${clean[transport]} undisturbed`);
    console.log(`throughput medians (over the undisturbed trials when at least ${summary.minClean}, else over all):`);
    console.log(`  js-ring ${fmtRate(med['js-ring'])} (${basis('js-ring')})  c-ring ${fmtRate(med['c-ring'])} (${basis('c-ring')})  uds ${fmtRate(med.uds)} (${basis('uds')})  ipc ${fmtRate(med.ipc)} (${basis('ipc')})`);
    console.log(`  js-ring / c-ring = ${ringVsC.toFixed(2)} (target >= ${TARGET_RING_VS_C_RING}; per-round median ${summary.pairedRingVsC.toFixed(2)})   js-ring / uds = ${ringVsUds.toFixed(2)} (target >= ${TARGET_RING_VS_UDS})   js-ring / ipc = ${(med['js-ring'] / med.ipc).toFixed(2)}`);
    console.log(`  medians of all trials: js-ring ${fmtRate(median(allRates('js-ring')))}  c-ring ${fmtRate(median(allRates('c-ring')))}  uds ${fmtRate(median(allRates('uds')))}  ipc ${fmtRate(median(allRates('ipc')))}`);
    console.log(`  spread (min .. max): js-ring ${spread(allRates('js-ring'))}; c-ring ${spread(allRates('c-ring'))}; uds ${spread(allRates('uds'))}; ipc ${spread(allRates('ipc'))}`);
    console.log(`  other load: ${retries.count} disturbed trials re-run; ${summary.contended} of ${plan.trials * TRANSPORTS.length} kept trials still had a bench process waiting > ${CONTENDED_WAIT_SHARE * 100} % of its time for its CPU`);

    const mixed = await runMixedRings(bench, plan, retries);
    console.log(
      `which JS side limits (one ring, one side in C; median of ${plan.mixedTrials}): c-ring producer -> js-ring consumer ${fmtRate(mixed['c-to-js'].msgsPerS)}${fmtWait(mixed['c-to-js'].waitShare)}` +
        `  js-ring producer -> c-ring consumer ${fmtRate(mixed['js-to-c'].msgsPerS)}${fmtWait(mixed['js-to-c'].waitShare)}`,
    );

    const jsSolo = await bench.soloCost('js');
    const cSolo = await bench.soloCost('c');
    console.log(
      `CPU time per message, producer and consumer in one thread, ring in cache (best of rounds; immune to other load): ` +
        `js-ring producer ${jsSolo.producerNs.toFixed(1)} ns, producer + consumer ${jsSolo.bothNs.toFixed(1)} ns ` +
        `(past 2^31 bytes: ${jsSolo.producerNsPast2g!.toFixed(1)} / ${jsSolo.bothNsPast2g!.toFixed(1)} ns); ` +
        `c-ring ${cSolo.producerNs.toFixed(1)} / ${cSolo.bothNs.toFixed(1)} ns; JS costs ${(jsSolo.producerNs / cSolo.producerNs).toFixed(1)}x / ${(jsSolo.bothNs / cSolo.bothNs).toFixed(1)}x C`,
    );

    const ringRtt = await bench.ringRoundTrip('js');
    console.log(`round trip js-ring (spin, two rings): ${fmtLatency(ringRtt)}  (target p50 <= ${fmtNs(TARGET_RING_RTT_P50_NS)})`);
    const cRtt = await bench.ringRoundTrip('c');
    console.log(`round trip c-ring  (spin, two rings): ${fmtLatency(cRtt)}`);
    const udsRtt = await bench.udsRoundTrip();
    console.log(`round trip uds     (event loop):      ${fmtLatency(udsRtt)}`);
    const wake = await bench.backoffWake();
    console.log(`backoff wake-up (publish -> handled, consumer in BackoffIdleStrategy, delays ${WAKE_MIN_DELAY_US}..${WAKE_MAX_DELAY_US} µs, seed ${WAKE_SEED}): ${fmtLatency(wake)}; consumer had parked before ${(wake.sleptBefore * 100).toFixed(1)} % of probes`);
    console.log(`  (each JS timestamp is one native.clockInto call: ${clockNs.toFixed(0)} ns)`);

    const meets = ringVsC >= TARGET_RING_VS_C_RING && ringVsUds >= TARGET_RING_VS_UDS && ringRtt.latency.p50Ns <= TARGET_RING_RTT_P50_NS;
    console.log(`targets ${meets ? 'met' : 'NOT met'}; ${((Date.now() - started) / 1000).toFixed(1)} s`);
    cleanup();
    const leftovers = scratch.leftovers();
    if (leftovers.length > 0) throw new Error(`bench:bus: files left on /dev/shm: ${leftovers.join(', ')}`);
    const r = (x: number): number => Math.round(x);
    console.log(
      JSON.stringify({
        bench: 'bus',
        mode: plan.name,
        ring_msgs_per_s: r(med['js-ring']),
        c_ring_msgs_per_s: r(med['c-ring']),
        uds_msgs_per_s: r(med.uds),
        ipc_msgs_per_s: r(med.ipc),
        ring_rtt_p50_ns: ringRtt.latency.p50Ns,
        ring_rtt_p99_ns: ringRtt.latency.p99Ns,
        uds_rtt_p50_ns: udsRtt.latency.p50Ns,
        backoff_wake_p99_ns: wake.latency.p99Ns,
        ring_vs_c_ring: Number(ringVsC.toFixed(3)),
        ring_vs_uds: Number(ringVsUds.toFixed(3)),
        ring_vs_c_ring_per_round: Number(summary.pairedRingVsC.toFixed(3)),
        c_ring_rtt_p50_ns: cRtt.latency.p50Ns,
        js_producer_cpu_ns: Number(jsSolo.producerNs.toFixed(2)),
        js_producer_consumer_cpu_ns: Number(jsSolo.bothNs.toFixed(2)),
        js_producer_consumer_cpu_ns_past_2g: Number(jsSolo.bothNsPast2g!.toFixed(2)),
        c_producer_cpu_ns: Number(cSolo.producerNs.toFixed(2)),
        c_producer_consumer_cpu_ns: Number(cSolo.bothNs.toFixed(2)),
        c_producer_js_consumer_msgs_per_s: r(mixed['c-to-js'].msgsPerS),
        js_producer_c_consumer_msgs_per_s: r(mixed['js-to-c'].msgsPerS),
        uds_rtt_p99_ns: udsRtt.latency.p99Ns,
        backoff_wake_p50_ns: wake.latency.p50Ns,
        trials: plan.trials,
        ring_undisturbed_trials: clean['js-ring'],
        c_ring_undisturbed_trials: clean['c-ring'],
        uds_undisturbed_trials: clean.uds,
        ipc_undisturbed_trials: clean.ipc,
        contended_trials: summary.contended,
        retried_trials: retries.count,
        meets_targets: meets,
      }),
    );
  } finally {
    cleanup();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 1;
});
