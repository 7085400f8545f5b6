// The Prometheus text exposition format (version 0.0.4), written and read. Small on purpose: the
// metrics here are gauges and counters read from shared memory at scrape time, so a registry of
// live metric objects (prom-client) would only add a copy of values that already exist.
//
//   # HELP ims_ring_consumer_lag_bytes Bytes published on the ring that this consumer has not read.
//   # TYPE ims_ring_consumer_lag_bytes gauge
//   ims_ring_consumer_lag_bytes{ring="journal",consumer="engine-a"} 4096

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export type MetricType = 'gauge' | 'counter' | 'histogram';

export interface Sample {
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
  /** For histograms: _bucket, _sum or _count. */
  readonly suffix?: string;
}

export interface MetricFamily {
  readonly name: string;
  readonly help: string;
  readonly type: MetricType;
  readonly samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
/** Bound on samples per family: a runaway label (a pid per restart) must not grow a scrape without limit. */
export const MAX_SAMPLES_PER_FAMILY = 4096;

/** Collects families in the order first declared; each name is declared once with one type. */
export class MetricsWriter {
  private readonly families = new Map<string, MetricFamily>();

  add(name: string, type: MetricType, help: string, value: number, labels: Record<string, string> = {}, suffix?: string): void {
    let family = this.families.get(name);
    if (family === undefined) {
      if (!NAME.test(name)) throw new TypeError(`metric name '${name}' is not a Prometheus name`);
      family = { name, help, type, samples: [] };
      this.families.set(name, family);
    } else if (family.type !== type) {
      throw new TypeError(`metric ${name} declared as ${family.type} and as ${type}`);
    }
    for (const k of Object.keys(labels)) if (!LABEL.test(k)) throw new TypeError(`label name '${k}' of ${name} is not a Prometheus label name`);
    if (family.samples.length >= MAX_SAMPLES_PER_FAMILY) return;
    family.samples.push(suffix === undefined ? { labels, value } : { labels, value, suffix });
  }

  gauge(name: string, help: string, value: number, labels?: Record<string, string>): void {
    this.add(name, 'gauge', help, value, labels);
  }

  counter(name: string, help: string, value: number, labels?: Record<string, string>): void {
    if (!name.endsWith('_total')) throw new TypeError(`counter ${name} must end in _total`);
    this.add(name, 'counter', help, value, labels);
  }

  /**
   * A histogram: `buckets` are [upper bound, cumulative count] in ascending bound order, the last
   * bound +Inf with the total count (the caller makes them so; checked here, a wrong one is a bug).
   */
  histogram(name: string, help: string, buckets: ReadonlyArray<readonly [number, number]>, sum: number, labels: Record<string, string> = {}): void {
    if ('le' in labels) throw new TypeError(`histogram ${name}: 'le' is reserved`);
    const last = buckets[buckets.length - 1];
    if (last === undefined || last[0] !== Infinity) throw new TypeError(`histogram ${name}: the last bucket must be +Inf`);
    let prev = -Infinity;
    let prevCount = 0;
    for (const [le, count] of buckets) {
      if (!(le > prev) || count < prevCount) throw new TypeError(`histogram ${name}: buckets must rise in bound and count`);
      prev = le;
      prevCount = count;
      this.add(name, 'histogram', help, count, { ...labels, le: formatValue(le) }, '_bucket');
    }
    this.add(name, 'histogram', help, sum, labels, '_sum');
    this.add(name, 'histogram', help, last[1], labels, '_count');
  }

  render(): string {
    const out: string[] = [];
    for (const f of this.families.values()) {
      out.push(`# HELP ${f.name} ${escapeHelp(f.help)}`);
      out.push(`# TYPE ${f.name} ${f.type}`);
      for (const s of f.samples) out.push(`${f.name}${s.suffix ?? ''}${formatLabels(s.labels)} ${formatValue(s.value)}`);
    }
    return out.join('\n') + '\n';
  }
}

function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function escapeLabelValue(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function formatLabels(labels: Readonly<Record<string, string>>): string {
  const entries = Object.entries(labels);
  if (entries.length === 0) return '';
  return `{${entries.map(([k, v]) => `${k}="${escapeLabelValue(v)}"`).join(',')}}`;
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

export interface ParsedSample {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly value: number;
}

export interface ParsedExposition {
  readonly types: Map<string, string>;
  readonly help: Map<string, string>;
  readonly samples: ParsedSample[];
}

/**
 * A strict reader of the text format, for tests and `ims status`: throws on any line a Prometheus
 * server would reject (bad name, bad label syntax, bad value, TYPE after samples, duplicate TYPE,
 * duplicate series).
 */
export function parsePrometheusText(text: string): ParsedExposition {
  const types = new Map<string, string>();
  const help = new Map<string, string>();
  const samples: ParsedSample[] = [];
  const seenSeries = new Set<string>();
  const sampled = new Set<string>();
  const lines = text.split('\n');
  if (lines[lines.length - 1] !== '') throw new Error('the exposition must end with a newline');
  for (let i = 0; i < lines.length - 1; i++) {
    const line = lines[i]!;
    const at = `line ${i + 1}: ${JSON.stringify(line)}`;
    if (line === '') continue;
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
      if (m === null) continue; // other comments are allowed
      const [, kind, name, rest] = m;
      if (kind === 'TYPE') {
        if (!['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(rest!)) throw new Error(`${at}: unknown type`);
        if (types.has(name!)) throw new Error(`${at}: second TYPE for ${name}`);
        if (sampled.has(name!)) throw new Error(`${at}: TYPE after samples of ${name}`);
        types.set(name!, rest!);
      } else {
        if (help.has(name!)) throw new Error(`${at}: second HELP for ${name}`);
        help.set(name!, rest!);
      }
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)( -?\d+)?$/.exec(line);
    if (m === null) throw new Error(`${at}: not a sample line`);
    const name = m[1]!;
    const labels: Record<string, string> = {};
    if (m[3] !== undefined && m[3] !== '') {
      let rest = m[3];
      for (;;) {
        const lm = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,?)/.exec(rest);
        if (lm === null) throw new Error(`${at}: bad label syntax at ${JSON.stringify(rest)}`);
        if (lm[1]! in labels) throw new Error(`${at}: label ${lm[1]} twice`);
        labels[lm[1]!] = lm[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
        rest = rest.slice(lm[0].length);
        if (rest === '') break;
        if (lm[3] !== ',') throw new Error(`${at}: labels must be separated by commas`);
      }
    }
    const raw = m[4]!;
    const value = raw === '+Inf' ? Infinity : raw === '-Inf' ? -Infinity : raw === 'NaN' ? NaN : Number(raw);
    if (!['+Inf', '-Inf', 'NaN'].includes(raw) && (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(raw) || Number.isNaN(value))) throw new Error(`${at}: bad value`);
    const series = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
    if (seenSeries.has(series)) throw new Error(`${at}: duplicate series`);
    seenSeries.add(series);
    sampled.add(name);
    samples.push({ name, labels, value });
  }
  return { types, help, samples };
}
