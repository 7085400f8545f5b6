// Turns a file of latency samples (little-endian f64 nanoseconds, written by a child after its
// timed loop) into HdrHistogram percentiles. Children never touch the histogram while timing.

import * as fs from 'node:fs';
import * as hdr from 'hdr-histogram-js';

/** Samples above this are recorded as this (a histogram needs a bound; 10 s is far beyond any). */
const HIGHEST_TRACKABLE_NS = 10_000_000_000;

export interface LatencySummary {
  count: number;
  p50Ns: number;
  p90Ns: number;
  p99Ns: number;
  p999Ns: number;
  maxNs: number;
  meanNs: number;
}

export function summarizeSamples(file: string, expectedCount: number): LatencySummary {
  const bytes = fs.readFileSync(file);
  if (bytes.byteLength !== expectedCount * 8) {
    throw new Error(`latency samples ${file}: ${bytes.byteLength} bytes, expected ${expectedCount} samples of 8 bytes`);
  }
  const samples = new Float64Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  const histogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: HIGHEST_TRACKABLE_NS, numberOfSignificantValueDigits: 3, autoResize: false });
  try {
    for (let i = 0; i < samples.length; i++) {
      const ns = Math.round(samples[i]!);
      if (!(ns >= 0)) throw new Error(`latency samples ${file}: sample ${i} is ${samples[i]} ns; the clock went backwards or the sample was never written`);
      histogram.recordValue(Math.min(Math.max(ns, 1), HIGHEST_TRACKABLE_NS));
    }
    return {
      count: histogram.totalCount,
      p50Ns: histogram.getValueAtPercentile(50),
      p90Ns: histogram.getValueAtPercentile(90),
      p99Ns: histogram.getValueAtPercentile(99),
      p999Ns: histogram.getValueAtPercentile(99.9),
      maxNs: histogram.maxValue,
      meanNs: Math.round(histogram.mean),
    };
  } finally {
    histogram.destroy();
  }
}
