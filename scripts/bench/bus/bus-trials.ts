// The trials of the bus benchmark, each a set of pinned child processes (see bench-process.ts):
// one throughput trial per transport, the spin round trips over two rings (JS and C) and over a
// Unix socket, and the wake-up latency of a consumer asleep in BackoffIdleStrategy. Geometry and
// batching are the same for every transport.

import * as path from 'node:path';
import { registerConsumer, RingFile } from '../../../bus/ring';
import { runChildren, type ChildResult, type ChildSpec } from './bench-process';
import type { Scratch } from './bench-scratch';
import { summarizeSamples, type LatencySummary } from './latency-histogram';

export interface Plan {
  name: 'quick' | 'full';
  trials: number;
  warmMs: number;
  measureMs: number;
  ringRttWarm: number;
  ringRttSamples: number;
  udsRttWarm: number;
  udsRttSamples: number;
  wakeWarm: number;
  wakeSamples: number;
  /** Time the run may spend repeating throughput trials that other load disturbed. */
  retryBudgetMs: number;
  /** Trials of each diagnostic pair (MIXED_RINGS). */
  mixedTrials: number;
}

/** Producer/sender/ping on one core, consumer/receiver/pong on the other. */
export const SENDER_CPU = 0;
export const RECEIVER_CPU = 1;
export const RING_CAPACITY_BYTES = 1 << 18;
/** Messages per ring commit, per socket write() and per process.send(): the same batch for all. */
export const BATCH_MESSAGES = 256;
/** Records one consumer poll may hand over before it commits its position. */
export const POLL_LIMIT = 1024;
/** Batches a stream sender may have queued in Node before it waits for a write callback. */
export const STREAM_IN_FLIGHT = 8;
/**
 * Backoff wake-up probes are published after a random delay in this range: long enough that the
 * consumer has spun, yielded and gone to sleep on the futex (it parks after ~110 empty polls).
 */
export const WAKE_MIN_DELAY_US = 200;
export const WAKE_MAX_DELAY_US = 2_000;
export const WAKE_SEED = 0x1b5;
/** A child that does not report READY in this time is broken. */
const START_TIMEOUT_MS = 15_000;
/** Rounds and batches per round of a solo cost measurement (the best round counts). */
const SOLO_ROUNDS = 5;
const SOLO_BATCHES_PER_ROUND = 4_000;
const SOLO_DEADLINE_MS = 60_000;
/** Bounds on a latency run (far above what it needs). */
const RING_RTT_DEADLINE_MS = 60_000;
const UDS_RTT_DEADLINE_MS = 120_000;
const WAKE_DEADLINE_MS = 120_000;
/** A throughput child's deadline: its run plus this. */
const THROUGHPUT_DEADLINE_SLACK_MS = 20_000;
/** How much longer than its own deadline the orchestrator waits for a child's result. */
const RESULT_GRACE_MS = 5_000;
/** Stop sampling CPU contention this long before a trial's sender ends. */
const CONTENTION_WINDOW_MARGIN_MS = 20;
const CONSUMER_NAME = 'bench';

export const TRANSPORTS = ['js-ring', 'c-ring', 'uds', 'ipc'] as const;
/**
 * Diagnostic pairs over the same ring layout: a C producer feeding the JS consumer and the JS
 * producer feeding a C consumer show which JS side bounds js-ring.
 */
export const MIXED_RINGS = ['c-to-js', 'js-to-c'] as const;
export type Transport = (typeof TRANSPORTS)[number] | (typeof MIXED_RINGS)[number];

/** Which implementation produces and which consumes, for the ring transports. */
const RING_SIDES: Record<string, { producer: 'js' | 'c'; consumer: 'js' | 'c' }> = {
  'js-ring': { producer: 'js', consumer: 'js' },
  'c-ring': { producer: 'c', consumer: 'c' },
  'c-to-js': { producer: 'c', consumer: 'js' },
  'js-to-c': { producer: 'js', consumer: 'c' },
};

export interface LatencyRun {
  latency: LatencySummary;
  /** As Trial.waitShare, over the whole latency run. */
  waitShare: number;
}

/** CPU time per message with producer and consumer in one thread (see `solo` in ring-child.ts). */
export interface SoloCost {
  producerNs: number;
  bothNs: number;
  /** JS only: the same after the ring positions passed 2^31 bytes. */
  producerNsPast2g?: number;
  bothNsPast2g?: number;
}

export interface Trial {
  msgsPerS: number;
  /** The largest share of the measured phase a bench process waited for its CPU (see CpuContention). */
  waitShare: number;
}

export class BusTrials {
  private readonly node = process.execPath;
  private readonly childDir = __dirname;
  constructor(
    private readonly plan: Plan,
    private readonly scratch: Scratch,
    private readonly cRing: string,
  ) {}

  private nodeChild(label: string, cpu: number, script: string, role: string, args: Record<string, string | number>): ChildSpec {
    const argv = [path.join(this.childDir, script), role];
    for (const [k, v] of Object.entries(args)) argv.push(`--${k}`, String(v));
    return { label, cpu, command: this.node, args: argv };
  }

  private cChild(label: string, cpu: number, args: Array<string | number>): ChildSpec {
    return { label, cpu, command: this.cRing, args: args.map(String) };
  }

  /** A fresh ring with one gating consumer registered before any process starts; returns its slot. */
  private makeRing(what: string): { path: string; slot: number } {
    const p = this.scratch.shmPath(what);
    const ring = RingFile.create(p, { capacityBytes: RING_CAPACITY_BYTES });
    registerConsumer(ring, CONSUMER_NAME);
    const consumers = ring.consumers();
    if (consumers.length !== 1) throw new Error(`bench:bus: ring ${p} should have one consumer, has ${consumers.length}`);
    return { path: p, slot: consumers[0]!.slot };
  }

  private runDeadlineMs(): number {
    return this.plan.warmMs + this.plan.measureMs + THROUGHPUT_DEADLINE_SLACK_MS;
  }

  /**
   * One throughput trial: msgs/s over the MEASURE phase as timed by the receiver, and the largest
   * share of that phase a bench process spent waiting for its CPU (0 on a quiet machine).
   */
  async throughput(transport: Transport): Promise<Trial> {
    const { warmMs, measureMs } = this.plan;
    const deadline = this.runDeadlineMs();
    const timing = { 'warm-ms': warmMs, 'measure-ms': measureMs, 'deadline-ms': deadline };
    // The contention window stops a little before the sender's end so the sample is taken in time.
    const run = { startTimeoutMs: START_TIMEOUT_MS, runTimeoutMs: deadline + RESULT_GRACE_MS, window: { fromMs: warmMs, toMs: warmMs + measureMs - CONTENTION_WINDOW_MARGIN_MS } };
    let outcome: Awaited<ReturnType<typeof runChildren>>;
    let receiver: ChildResult;
    let sender: ChildResult;
    const sides = RING_SIDES[transport];
    if (sides !== undefined) {
      const ring = this.makeRing(transport);
      try {
        const specs = [
          sides.consumer === 'js'
            ? this.nodeChild(`${transport} consumer`, RECEIVER_CPU, 'ring-child.js', 'consume', { ring: ring.path, name: CONSUMER_NAME, 'poll-limit': POLL_LIMIT, 'deadline-ms': deadline })
            : this.cChild(`${transport} consumer`, RECEIVER_CPU, ['consume', ring.path, ring.slot, POLL_LIMIT, deadline]),
          sides.producer === 'js'
            ? this.nodeChild(`${transport} producer`, SENDER_CPU, 'ring-child.js', 'produce', { ring: ring.path, batch: BATCH_MESSAGES, ...timing })
            : this.cChild(`${transport} producer`, SENDER_CPU, ['produce', ring.path, ring.slot, BATCH_MESSAGES, warmMs, measureMs, deadline]),
        ];
        outcome = await runChildren(specs, { inOrder: false, ...run });
        [receiver, sender] = outcome.results as [ChildResult, ChildResult];
      } finally {
        this.scratch.removeShm(ring.path);
      }
    } else if (transport === 'uds') {
      const socket = this.scratch.tmpPath('uds.sock');
      const common = { socket, 'deadline-ms': deadline };
      outcome = await runChildren(
        [
          this.nodeChild('uds receiver', RECEIVER_CPU, 'uds-child.js', 'receive', common),
          this.nodeChild('uds sender', SENDER_CPU, 'uds-child.js', 'send', { ...common, batch: BATCH_MESSAGES, 'in-flight': STREAM_IN_FLIGHT, ...timing }),
        ],
        { inOrder: true, ...run },
      );
      [receiver, sender] = outcome.results as [ChildResult, ChildResult];
    } else {
      outcome = await runChildren(
        [this.nodeChild('ipc receiver', RECEIVER_CPU, 'ipc-child.js', 'receive', { 'sender-cpu': SENDER_CPU, batch: BATCH_MESSAGES, 'in-flight': STREAM_IN_FLIGHT, ...timing })],
        { inOrder: true, ...run },
      );
      [receiver] = outcome.results as [ChildResult];
      sender = receiver;
    }
    const measured = receiver.measured as number;
    const measureNs = receiver.measureNs as number;
    if (receiver.errors !== 0 || receiver.received !== sender.sent || !(measured > 0 && measureNs > 0)) {
      throw new Error(`bench:bus: ${transport} trial is invalid: receiver ${JSON.stringify(receiver)}, sender ${JSON.stringify(sender)} (every message must arrive once, in order, intact)`);
    }
    return { msgsPerS: (measured / measureNs) * 1e9, waitShare: outcome.contention?.maxWaitShare ?? Number.NaN };
  }

  async soloCost(language: 'js' | 'c'): Promise<SoloCost> {
    const ring = this.makeRing(`${language}-solo`);
    const deadline = SOLO_DEADLINE_MS;
    try {
      const spec =
        language === 'js'
          ? this.nodeChild('js-ring solo', SENDER_CPU, 'ring-child.js', 'solo', {
              ring: ring.path,
              name: CONSUMER_NAME,
              batch: BATCH_MESSAGES,
              'poll-limit': POLL_LIMIT,
              rounds: SOLO_ROUNDS,
              batches: SOLO_BATCHES_PER_ROUND,
              'deadline-ms': deadline,
            })
          : this.cChild('c-ring solo', SENDER_CPU, ['solo', ring.path, ring.slot, BATCH_MESSAGES, POLL_LIMIT, SOLO_ROUNDS, SOLO_BATCHES_PER_ROUND, deadline]);
      const [result] = (await runChildren([spec], { inOrder: false, startTimeoutMs: START_TIMEOUT_MS, runTimeoutMs: deadline + RESULT_GRACE_MS })).results;
      if (result!.errors !== 0) throw new Error(`bench:bus: ${language} solo run saw corrupt messages: ${JSON.stringify(result)}`);
      return result as unknown as SoloCost;
    } finally {
      this.scratch.removeShm(ring.path);
    }
  }

  async ringRoundTrip(language: 'js' | 'c'): Promise<LatencyRun> {
    const { ringRttWarm: warm, ringRttSamples: samples } = this.plan;
    const out = this.makeRing(`${language}-ping`);
    const back = this.makeRing(`${language}-pong`);
    const file = this.scratch.tmpPath(`${language}-ring-rtt.f64`);
    const deadline = RING_RTT_DEADLINE_MS;
    try {
      const specs =
        language === 'js'
          ? [
              this.nodeChild('js-ring pong', RECEIVER_CPU, 'ring-child.js', 'pong', { in: out.path, out: back.path, name: CONSUMER_NAME, 'poll-limit': POLL_LIMIT, 'deadline-ms': deadline }),
              this.nodeChild('js-ring ping', SENDER_CPU, 'ring-child.js', 'ping', { out: out.path, in: back.path, name: CONSUMER_NAME, warm, samples, 'samples-file': file, 'deadline-ms': deadline }),
            ]
          : [
              this.cChild('c-ring pong', RECEIVER_CPU, ['pong', out.path, out.slot, back.path, back.slot, POLL_LIMIT, deadline]),
              this.cChild('c-ring ping', SENDER_CPU, ['ping', out.path, out.slot, back.path, back.slot, warm, samples, file, deadline]),
            ];
      const outcome = await runChildren(specs, { inOrder: false, startTimeoutMs: START_TIMEOUT_MS, runTimeoutMs: deadline + RESULT_GRACE_MS, window: 'run' });
      const [pong, ping] = outcome.results;
      if (ping!.errors !== 0 || pong!.errors !== 0) throw new Error(`bench:bus: ${language} ring round trip saw corrupt probes: ${JSON.stringify({ ping, pong })}`);
      return { latency: summarizeSamples(file, samples), waitShare: outcome.contention?.maxWaitShare ?? Number.NaN };
    } finally {
      this.scratch.removeShm(out.path);
      this.scratch.removeShm(back.path);
    }
  }

  async udsRoundTrip(): Promise<LatencyRun> {
    const { udsRttWarm: warm, udsRttSamples: samples } = this.plan;
    const socket = this.scratch.tmpPath('uds-rtt.sock');
    const file = this.scratch.tmpPath('uds-rtt.f64');
    const deadline = UDS_RTT_DEADLINE_MS;
    const outcome = await runChildren(
      [
        this.nodeChild('uds pong', RECEIVER_CPU, 'uds-child.js', 'pong', { socket, 'deadline-ms': deadline }),
        this.nodeChild('uds ping', SENDER_CPU, 'uds-child.js', 'ping', { socket, warm, samples, 'samples-file': file, 'deadline-ms': deadline }),
      ],
      { inOrder: true, startTimeoutMs: START_TIMEOUT_MS, runTimeoutMs: deadline + RESULT_GRACE_MS, window: 'run' },
    );
    const [pong, ping] = outcome.results;
    if (ping!.errors !== 0 || pong!.errors !== 0) throw new Error(`bench:bus: uds round trip saw corrupt probes: ${JSON.stringify({ ping, pong })}`);
    return { latency: summarizeSamples(file, samples), waitShare: outcome.contention?.maxWaitShare ?? Number.NaN };
  }

  async backoffWake(): Promise<LatencyRun & { sleptBefore: number }> {
    const { wakeWarm: warm, wakeSamples: samples } = this.plan;
    const ring = this.makeRing('wake');
    const file = this.scratch.tmpPath('wake.f64');
    const deadline = WAKE_DEADLINE_MS;
    try {
      const outcome = await runChildren(
        [
          this.nodeChild('wake receiver', RECEIVER_CPU, 'ring-child.js', 'wake-receive', { ring: ring.path, name: CONSUMER_NAME, warm, samples, 'samples-file': file, 'deadline-ms': deadline }),
          this.nodeChild('wake sender', SENDER_CPU, 'ring-child.js', 'wake-send', {
            ring: ring.path,
            warm,
            samples,
            'min-delay-us': WAKE_MIN_DELAY_US,
            'max-delay-us': WAKE_MAX_DELAY_US,
            seed: WAKE_SEED,
            'deadline-ms': deadline,
          }),
        ],
        { inOrder: false, startTimeoutMs: START_TIMEOUT_MS, runTimeoutMs: deadline + RESULT_GRACE_MS, window: 'run' },
      );
      const [receiver] = outcome.results;
      if (receiver!.errors !== 0) throw new Error(`bench:bus: backoff wake-up saw corrupt probes: ${JSON.stringify(receiver)}`);
      return {
        latency: summarizeSamples(file, samples),
        waitShare: outcome.contention?.maxWaitShare ?? Number.NaN,
        sleptBefore: (receiver!.sleptBefore as number) / samples,
      };
    } finally {
      this.scratch.removeShm(ring.path);
    }
  }
}
