// Every process of a real exchange logs JSON lines carrying its supervisor name: `ims start` runs
// the whole system, two colleagues trade, `ims stop` stops it; then every line each process wrote
// (the supervisor prefixes each with `[name] `) must parse as one JSON object whose `process` is
// that name, with pid, time and level (processes/process-log.ts), and events that name a journal
// position carry it as `seq`.
import t from 'tap';
import { createImsInstance } from './support/ims-instance';
import { gatewayHttp, tradingPortWhenReady } from './support/gateway-http';

const inst = createImsInstance('process-logs', ['--trading-port', '0', '--public-port', '0']);
t.teardown(() => inst.destroy());

t.test('every line every process writes is JSON naming the process, with pid, time, level and the seq it concerns', async (t) => {
  inst.start();
  const { call, login } = gatewayHttp(await tradingPortWhenReady(inst, 60_000));
  const names: string[] = inst.status().processes.map((p: { name: string }) => p.name);
  t.same([...names].sort(), ['control', 'engine-a', 'engine-b', 'gateway-1', 'market-data', 'pm-a', 'pm-b', 'reporter', 'sequencer'], 'the exchange topology');

  const { token: alice } = await login('alice', 'kiosk-101-demo');
  const { token: bruno } = await login('bruno', 'kiosk-102-demo');
  t.equal((await call('POST', '/v1/transact', { symbol: 'APPL-128', side: 'inflow', price: '899.00', quantity: 1 }, alice)).status, 200);
  t.match((await call('POST', '/v1/transact', { symbol: 'APPL-128', side: 'outflow', price: '898.00', quantity: 1 }, bruno)).json, { status: 'filled' });
  await inst.stop();

  const byProcess = new Map<string, Array<Record<string, unknown>>>(names.map((n) => [n, []]));
  const notJson: string[] = [];
  const misnamed: string[] = [];
  for (const line of inst.log().split('\n')) {
    const m = /^\[([a-z0-9-]+)\] (.*)$/.exec(line);
    if (m === null || !byProcess.has(m[1]!)) continue; // the supervisor's own lines
    let parsed: unknown;
    try {
      parsed = JSON.parse(m[2]!);
    } catch {
      notJson.push(line);
      continue;
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      notJson.push(line);
      continue;
    }
    const event = parsed as Record<string, unknown>;
    if (event['process'] !== m[1]) misnamed.push(line);
    byProcess.get(m[1]!)!.push(event);
  }
  t.same(notJson, [], 'no process wrote a line that is not a JSON object');
  t.same(misnamed, [], 'every line names the process that wrote it');
  for (const [name, events] of byProcess) {
    t.ok(events.length > 0, `${name} logged (${events.length} lines)`);
    const incomplete = events.filter((e) => !(typeof e['pid'] === 'number' && typeof e['time'] === 'number' && typeof e['level'] === 'number'));
    t.same(incomplete.slice(0, 3), [], `${name}: every line has pid, time and level`);
  }
  const hot = [...byProcess.get('engine-a')!, ...byProcess.get('engine-b')!].find((e) => e['event'] === 'engine-hot');
  t.ok(hot !== undefined && typeof hot['seq'] === 'number' && hot['seq'] === hot['atSeq'], `engine-hot carries the journal seq it happened at: ${JSON.stringify(hot)}`);
  const stopped = byProcess.get('sequencer')!.find((e) => e['event'] === 'sequencer-stopped');
  t.ok(stopped !== undefined && typeof stopped['seq'] === 'number' && stopped['seq'] === stopped['headSeq'] && (stopped['seq'] as number) > 0, `sequencer-stopped carries the head seq: ${JSON.stringify(stopped)}`);
  t.ok(byProcess.get('control')!.some((e) => e['event'] === 'demo-credentials' && /alice\s+kiosk-101-demo\s+colleague/.test(String(e['line']))), 'the demo credentials table is logged as JSON lines, one per row');
  t.ok(byProcess.get('gateway-1')!.some((e) => e['event'] === 'gateway-ready' && e['gatewayId'] === 1), 'the gateway keeps its gatewayId');
});
