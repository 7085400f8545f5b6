// The kiosk's depth ladder keeps an L2 book from the gateway's book:SYMBOL channel: a snapshot, then
// deltas applied strictly by sequence. A missing sequence number must not be papered over: the book
// goes out of sync, the feed asks the gateway for a fresh snapshot ("resync") on the same channel,
// ignores deltas until it arrives, and then shows exactly the snapshot. (The browser test
// portal-kiosk-real-system.test.ts shows the ladder following real trades; a gap cannot be
// provoked there, so the channel here is a recording stand-in for the WebSocket.)
//
// The portal's modules are browser TypeScript (processes/gateway/portal/tsconfig.json: DOM, JSX),
// compiled by esbuild rather than tsc; the test bundles the two it exercises the same way.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildSync } from 'esbuild';
import t from 'tap';

type StreamMessage = { readonly type: string; readonly [key: string]: unknown };
type Level = readonly [string, number];
interface L2Book {
  synced: boolean;
  applySnapshot(sequence: number, time: number, bids: readonly Level[], asks: readonly Level[]): void;
  applyDelta(sequence: number, time: number, side: 'bid' | 'ask', price: string, size: number): string;
  levels(side: 'bid' | 'ask', depth: number): Level[];
  best(side: 'bid' | 'ask'): Level | null;
}
interface MarketFeed {
  watch(channel: string, listener: (m: StreamMessage) => void): () => void;
  book(symbol: string): L2Book;
  trades(symbol: string): ReadonlyArray<{ id: string }>;
}
type OrderStream = unknown;

const PORTAL = path.resolve(__dirname, '..', 'processes', 'gateway', 'portal');
const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kiosk-feed-'));
t.teardown(() => fs.rmSync(outDir, { recursive: true, force: true }));
const outFile = path.join(outDir, 'feed.cjs');
buildSync({
  stdin: { contents: "export { L2Book } from './l2-book'; export { MarketFeed } from './market-feed';", resolveDir: PORTAL, loader: 'ts' },
  bundle: true,
  platform: 'node',
  format: 'cjs',
  outfile: outFile,
  jsx: 'automatic',
  jsxImportSource: 'preact',
  logLevel: 'silent',
});
// eslint-disable-next-line @typescript-eslint/no-require-imports
const portal = require(outFile) as { L2Book: new () => L2Book; MarketFeed: new (stream: OrderStream) => MarketFeed };
const { L2Book, MarketFeed } = portal;

t.test('deltas apply in sequence; a stale one is ignored; a gap stops the book until the next snapshot', async (t) => {
  const b = new L2Book();
  t.equal(b.applyDelta(1, 0, 'bid', '10.00', 5), 'not_synced', 'no delta before the first snapshot');
  b.applySnapshot(10, 0, [['10.00', 5], ['9.99', 3]], [['10.02', 4]]);
  t.equal(b.applyDelta(11, 0, 'bid', '10.01', 2), 'applied');
  t.equal(b.applyDelta(12, 0, 'ask', '10.02', 0), 'applied', 'size 0 removes the level');
  t.equal(b.applyDelta(12, 0, 'bid', '10.01', 9), 'stale', 'a repeated sequence is ignored');
  t.same(b.levels('bid', 10), [['10.01', 2], ['10.00', 5], ['9.99', 3]], 'bids best first');
  t.same(b.levels('ask', 10), [], 'the only ask was removed');
  t.same(b.best('bid'), ['10.01', 2]);
  t.equal(b.applyDelta(14, 0, 'bid', '10.00', 1), 'gap', 'sequence 13 is missing');
  t.equal(b.synced, false);
  t.equal(b.applyDelta(15, 0, 'bid', '10.00', 1), 'not_synced', 'later deltas wait for the snapshot');
  b.applySnapshot(15, 0, [['10.00', 1]], [['10.03', 7]]);
  t.equal(b.synced, true);
  t.same([b.levels('bid', 10), b.levels('ask', 10)], [[['10.00', 1]], [['10.03', 7]]], 'the snapshot replaces everything');
});

t.test('the market feed asks for a resync on a gap and one watcher per channel subscribes once', async (t) => {
  const handlers = new Map<string, (m: StreamMessage) => void>();
  const sent: string[] = [];
  const stream = {
    subscribe(channel: string, h: (m: StreamMessage) => void): () => void {
      sent.push(`subscribe ${channel}`);
      handlers.set(channel, h);
      return () => {
        sent.push(`unsubscribe ${channel}`);
        handlers.delete(channel);
      };
    },
    resync(channel: string): void {
      sent.push(`resync ${channel}`);
    },
  };
  const feed = new MarketFeed(stream);
  const seen: string[] = [];
  const offA = feed.watch('book:APPL-128', (m) => seen.push(`a:${m.type}`));
  const offB = feed.watch('book:APPL-128', (m) => seen.push(`b:${m.type}`));
  t.same(sent, ['subscribe book:APPL-128'], 'two watchers, one subscription');
  const push = handlers.get('book:APPL-128')!;
  push({ type: 'book', channel: 'book:APPL-128', snapshot: true, sequence: 4, time: 1, bids: [['899.00', 5]], asks: [] });
  push({ type: 'book', channel: 'book:APPL-128', sequence: 5, time: 2, side: 'ask', price: '900.00', size: 2, orders: 1 });
  t.same(feed.book('APPL-128').levels('ask', 5), [['900.00', 2]]);
  push({ type: 'book', channel: 'book:APPL-128', sequence: 7, time: 3, side: 'bid', price: '899.00', size: 0, orders: 0 });
  t.same(sent.at(-1), 'resync book:APPL-128', 'the gap (6 missing) asks the gateway for a snapshot');
  t.same(feed.book('APPL-128').best('bid'), ['899.00', 5], 'the delta after the gap was not applied');
  push({ type: 'book', channel: 'book:APPL-128', snapshot: true, sequence: 7, time: 3, bids: [], asks: [['900.00', 2]] });
  t.equal(feed.book('APPL-128').synced, true);
  t.same(feed.book('APPL-128').best('bid'), null, 'the fresh snapshot is what the ladder shows');
  t.same(seen.filter((s) => s.startsWith('a:')).length, 4, 'every message reached each watcher');
  offA();
  t.same(sent.at(-1), 'resync book:APPL-128', 'still watched by the other');
  offB();
  t.same(sent.at(-1), 'unsubscribe book:APPL-128', 'the last watcher leaving unsubscribes');
});

t.test('the tape keeps each trade once, newest first, although the gateway re-sends recent trades on subscribe', async (t) => {
  let push: (m: StreamMessage) => void = () => undefined;
  const stream = { subscribe: (_c: string, h: (m: StreamMessage) => void) => ((push = h), () => undefined), resync: () => undefined };
  const feed = new MarketFeed(stream);
  feed.watch('trades:APPL-128', () => undefined);
  const trade = (id: number, time: number): StreamMessage => ({ type: 'trade', channel: 'trades:APPL-128', id: String(id), price: '899.00', size: id, takerSide: 'outflow', time });
  push(trade(1, 100));
  push(trade(2, 200));
  push(trade(1, 100));
  push(trade(2, 200));
  push(trade(3, 300));
  t.same(feed.trades('APPL-128').map((x) => x.id), ['3', '2', '1']);
});
