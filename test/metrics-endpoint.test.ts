// /metrics, scraped from a real instance under load: the bus exerciser topology started through the
// `ims` CLI; the text is parsed strictly, the ring lag gauges are there and the values move.
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import t from 'tap';
import { Durability, JournalStatusFile, Seq, SequencerState } from '../bus/journal-status';
import { renderMetrics, startMetricsServer } from '../processes/operations/metrics';
import { MetricsWriter, parsePrometheusText, type ParsedExposition } from '../processes/operations/prometheus-text';
import { createImsInstance, until } from './support/ims-instance';

function value(e: ParsedExposition, name: string, labels: Record<string, string> = {}): number | undefined {
  return e.samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}

function get(port: number, urlPath: string): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: urlPath, timeout: 5_000 }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }));
      })
      .on('error', reject);
  });
}

t.test('the text format writer escapes labels and the strict parser rejects what Prometheus would', async (t) => {
  const w = new MetricsWriter();
  w.gauge('ims_x_bytes', 'help with \\ and\nnewline', 1.5, { ring: 'a"b\\c\nd' });
  w.counter('ims_y_total', 'a counter', 3);
  const parsed = parsePrometheusText(w.render());
  t.equal(parsed.samples[0]!.labels['ring'], 'a"b\\c\nd', 'a label value survives escaping');
  t.equal(parsed.types.get('ims_y_total'), 'counter');
  t.throws(() => w.counter('ims_bad', 'x', 1), /must end in _total/);
  t.throws(() => parsePrometheusText('x{a="1"} 1\nx{a="1"} 2\n'), /duplicate series/);
  t.throws(() => parsePrometheusText('x{a=1} 1\n'), /bad label syntax/);
  t.throws(() => parsePrometheusText('x 1\n# TYPE x gauge\n'), /TYPE after samples/);
  t.throws(() => parsePrometheusText('x one\n'), /bad value|not a sample/);
});

t.test('the journal status file becomes journal metrics', async (t) => {
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ims-metrics-journal-'));
  t.teardown(() => fs.rmSync(runDir, { recursive: true, force: true }));
  const status = JournalStatusFile.create(path.join(runDir, 'journal.status'));
  status.beginWrite();
  status.setU32(Seq.STATE, SequencerState.RUNNING);
  status.setU32(Seq.DURABILITY, Durability.FSYNC);
  status.setF64(Seq.HEAD_SEQ, 120);
  status.setF64(Seq.DURABLE_SEQ, 100);
  status.setF64(Seq.VISIBLE_SEQ, 100);
  status.endWrite();
  const slot = status.joinConsumer('engine-a');
  status.updateConsumer(slot, 70, 0, 1, 0);
  const e = parsePrometheusText(renderMetrics(runDir));
  t.equal(value(e, 'ims_journal_head_seq'), 120);
  t.equal(value(e, 'ims_journal_durable_seq'), 100);
  t.equal(value(e, 'ims_journal_undurable_entries'), 20);
  t.equal(value(e, 'ims_journal_state', { state: 'running' }), 1);
  t.equal(value(e, 'ims_journal_fsync_durability'), 1);
  t.equal(value(e, 'ims_journal_consumer_lag_entries', { consumer: 'engine-a' }), 30, 'a consumer 30 entries behind the visible seq');
  t.equal(value(e, 'ims_supervisor_up'), 0, 'no supervisor here');
});

t.test('a live instance under load: ring lag gauges present, valid text, values move, restarts counted', async (t) => {
  const inst = createImsInstance('metrics', ['--topology', 'exercise', '--exercise-rate', '20000']);
  t.teardown(() => inst.destroy());
  inst.start();
  await until('the exercise ring to carry records', () => {
    const s = fs.existsSync(path.join(inst.runDir, 'supervisor.json')) ? inst.status() : null;
    // A process is alive before it has attached to its ring slot: wait for both.
    return s?.rings?.[0]?.records > 100 && s.processes.every((p: { alive: boolean }) => p.alive) && s.rings[0].consumers.every((c: { alive: boolean }) => c.alive);
  });
  const server = await startMetricsServer({ runDir: inst.runDir, port: 0 });
  t.teardown(() => server.close());

  const first = parsePrometheusText(renderMetrics(inst.runDir));
  t.equal(first.types.get('ims_ring_consumer_lag_bytes'), 'gauge');
  for (const consumer of ['exercise-gating', 'exercise-tap']) {
    t.type(value(first, 'ims_ring_consumer_lag_bytes', { ring: 'exercise', consumer }), 'number', `lag gauge of ${consumer}`);
    t.equal(value(first, 'ims_ring_consumer_up', { ring: 'exercise', consumer }), 1, `${consumer} is attached`);
  }
  t.equal(value(first, 'ims_ring_consumer_gating', { ring: 'exercise', consumer: 'exercise-gating' }), 1);
  t.equal(value(first, 'ims_ring_consumer_gating', { ring: 'exercise', consumer: 'exercise-tap' }), 0);
  t.equal(value(first, 'ims_supervisor_up'), 1);
  for (const p of ['exercise-producer', 'exercise-gating', 'exercise-tap']) {
    t.equal(value(first, 'ims_process_up', { process: p }), 1, `${p} is up`);
    t.ok((value(first, 'ims_process_resident_memory_bytes', { process: p }) ?? 0) > 1e6, `${p}: RSS read from /proc`);
  }

  // Through the endpoint, a little later: the counters and positions have moved.
  await new Promise((r) => setTimeout(r, 300));
  const res = await get(server.port, '/metrics');
  t.equal(res.status, 200);
  t.match(res.type, /^text\/plain; version=0\.0\.4/);
  const second = parsePrometheusText(res.body);
  const published = (e: ParsedExposition): number => value(e, 'ims_ring_published_records_total', { ring: 'exercise' })!;
  t.ok(published(second) > published(first), `records published moved (${published(first)} → ${published(second)})`);
  const position = (e: ParsedExposition): number => value(e, 'ims_ring_consumer_position_bytes', { ring: 'exercise', consumer: 'exercise-gating' })!;
  t.not(position(second), position(first), 'the gating consumer position moved');
  t.equal((await get(server.port, '/nope')).status, 404);

  // A crash shows as a restart.
  const tap = inst.status().processes.find((p: { name: string }) => p.name === 'exercise-tap');
  process.kill(tap.pid, 'SIGKILL');
  const after = await until('the restart to show in the metrics', () => {
    const e = parsePrometheusText(renderMetrics(inst.runDir));
    return value(e, 'ims_process_restarts_total', { process: 'exercise-tap' }) === 1 && value(e, 'ims_process_up', { process: 'exercise-tap' }) === 1 ? e : null;
  }, 15_000);
  t.ok(after, 'ims_process_restarts_total counts the restart and the process is up again');

  await inst.stop();
  t.notOk(fs.existsSync(inst.runDir), 'ims stop removed the run dir');
  const stopped = parsePrometheusText(renderMetrics(inst.runDir));
  t.equal(value(stopped, 'ims_supervisor_up'), 0, 'a stopped instance scrapes as down, without an error');
});
