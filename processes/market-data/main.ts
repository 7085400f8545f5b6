// The market-data publisher process: follows the journal without gating it, keeps L2 books, the
// trade tape and candles (America/New_York buckets), publishes snapshots, deltas, trades and
// candles to the gateways on marketdata.ring, answers their data-service queries and stores
// trades and candles (SQLite <data dir>/marketdata.sqlite, or PostgreSQL when IMS_DATABASE_URL is a
// postgres:// URL: schema IMS_MARKET_DATA_DATABASE_SCHEMA, default ims_market_data). See market-data-publisher.ts for the loop and the restart bound,
// market-data-feed-layout.ts for the rings.
//
//   node dist/processes/market-data/main.js --run-dir /dev/shm/ims-main --data-dir data/main --gateways 2
//     [--journal-ring <run dir>/journal.ring] [--ring-bytes 16777216] [--time-zone America/New_York]
//
// Rings: <run dir>/marketdata.ring (producer: this process; consumers gateway-1..G, non-gating) and
// <run dir>/gateway-<n>-to-marketdata.ring for n = 1..G (producer: gateway n; consumer
// 'market-data', gating); created here when missing. History: see market-data-store.ts.
// Prints {"event":"market-data-ready",...} once started and {"event":"market-data-caught-up",...}
// when the replay reached the live journal; SIGTERM/SIGINT flush the store and exit 0.

import * as path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { openProcessCounters, startEventLoopSampler } from '../operations/process-counters';
import { pinSelf } from '../pin-self';
import { createEventLog } from '../process-log';
import { MarketDataCounters } from './market-data-counters';
import { MarketDataPublisher } from './market-data-publisher';
import { MARKET_DATA_RING_BYTES, marketDataRingPath, queryRingPath } from './market-data-feed-layout';
import { marketDataStoreOptionsFromEnv, openMarketDataStore } from './market-data-store';

/** The loop yields to the event loop this often so signals are handled. */
const SLICE_MS = 20;
/** Longest park while idle: queries wait at most this long to be read. */
const IDLE_PARK_NS = 1_000_000;
/** Progress lines (journal seq, counters) at most this often. */
const PROGRESS_LOG_MS = 10_000;
/** While the history database is behind (back-pressured), the loop waits this long between slices. */
const BACK_PRESSURE_WAIT_MS = 1;
/** A stop waits at most this long for the history's last writes, then exits anyway (the restart replays them). */
const CLOSE_TIMEOUT_MS = 10_000;

function intIn(min: number, max: number): (v: string) => number {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n < min || n > max) throw new InvalidArgumentError(`expected an integer in [${min}, ${max}], got '${v}'`);
    return n;
  };
}

/** JSON lines named after the supervisor's process (see processes/process-log.ts); timeMs kept for readers of old lines. */
const eventLog = createEventLog('market-data');
function log(event: Record<string, unknown>): void {
  eventLog({ ...event, timeMs: Date.now() });
}

async function main(argv: readonly string[]): Promise<void> {
  const program = new Command('market-data')
    .description('IMS market-data publisher: L2 books, trades and candles from the journal to the gateways; history in SQLite or PostgreSQL (IMS_DATABASE_URL)')
    .exitOverride()
    .requiredOption('--run-dir <dir>', 'directory of the instance rings (/dev/shm/ims-<instance>)')
    .requiredOption('--data-dir <dir>', 'durable data: marketdata.sqlite is written here (unless IMS_DATABASE_URL names PostgreSQL)')
    .option('--gateways <n>', 'gateways served (query rings and feed consumer slots 1..n)', intIn(1, 30), 1)
    .option('--journal-ring <path>', 'journal ring (default <run dir>/journal.ring)')
    .option('--journal-data-dir <dir>', 'journal segments (default: the one the sequencer wrote into the status file)')
    .option('--ring-bytes <n>', 'capacity of marketdata.ring when it is created here (power of two)', intIn(1 << 16, 1 << 30), MARKET_DATA_RING_BYTES)
    .option('--time-zone <iana>', 'exchange time zone of candle buckets', 'America/New_York');
  program.parse([...argv], { from: 'user' });
  const o = program.opts();
  const runDir = o['runDir'] as string;
  const gateways = o['gateways'] as number;
  const store = await openMarketDataStore(marketDataStoreOptionsFromEnv(o['dataDir'] as string, process.env));
  const publisher = new MarketDataPublisher({
    journalRing: (o['journalRing'] as string | undefined) ?? path.join(runDir, 'journal.ring'),
    marketDataRing: marketDataRingPath(runDir),
    marketDataRingBytes: o['ringBytes'] as number,
    queryRings: Array.from({ length: gateways }, (_, i) => queryRingPath(runDir, i + 1)),
    store,
    timeZone: o['timeZone'] as string,
    journalDataDir: o['journalDataDir'] as string | undefined,
  });
  // Counters in <runDir>/market-data.counters, copied from the publisher's own counts after each unit of work.
  const counters = new MarketDataCounters(openProcessCounters({ fallbackName: 'market-data' }));
  const eventLoop = startEventLoopSampler(counters.writer);
  log({ event: 'market-data-ready', marketDataRing: marketDataRingPath(runDir), gateways, storedSeq: publisher.store.storedSeq, store: publisher.store.description });

  let stopping = false;
  let caughtUp = false;
  let lastProgressMs = Date.now();
  const slice = (): void => {
    if (stopping) return;
    const sliceEndMs = Date.now() + SLICE_MS;
    for (;;) {
      const nowMs = Date.now();
      const work = publisher.doWork(nowMs);
      counters.copy(publisher);
      if (publisher.store.backPressured) {
        // The history database is behind: let its callbacks run instead of reading the journal.
        setTimeout(slice, BACK_PRESSURE_WAIT_MS);
        return;
      }
      if (work === 0) {
        if (!caughtUp) {
          caughtUp = true;
          log({ event: 'market-data-caught-up', journalSeq: publisher.md.lastJournalSeq, trades: publisher.md.trades, bookDeltas: publisher.md.bookDeltas, diskCatchUps: publisher.reader.diskCatchUps });
        }
        publisher.park(IDLE_PARK_NS);
      }
      if (nowMs - lastProgressMs >= PROGRESS_LOG_MS) {
        lastProgressMs = nowMs;
        log({ event: 'market-data-progress', journalSeq: publisher.md.lastJournalSeq, trades: publisher.md.trades, bookDeltas: publisher.md.bookDeltas, refused: publisher.md.refused, records: publisher.writer.records, snapshots: publisher.writer.snapshots, queries: publisher.queriesAnswered, storedSeq: publisher.store.storedSeq, mode: publisher.reader.mode });
      }
      if (Date.now() >= sliceEndMs) break;
    }
    setImmediate(slice);
  };
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    eventLoop.stop();
    const deadline = setTimeout(() => {
      log({ event: 'market-data-stopped', signal, journalSeq: publisher.md.lastJournalSeq, storedSeq: publisher.store.storedSeq, historyWritten: false });
      process.exit(2);
    }, CLOSE_TIMEOUT_MS);
    publisher.close().then(
      () => {
        clearTimeout(deadline);
        log({ event: 'market-data-stopped', signal, journalSeq: publisher.md.lastJournalSeq, storedSeq: publisher.store.storedSeq });
        process.exit(0);
      },
      (err: unknown) => {
        process.stderr.write(`market-data: the history's last writes failed: ${(err as Error).message}\n`);
        process.exit(2);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  setImmediate(slice);
}

if (require.main === module) {
  pinSelf();
  process.on('uncaughtException', (err) => {
    process.stderr.write(`market-data: uncaught exception: ${err.stack ?? err.message}\n`);
    process.exit(1);
  });
  main(process.argv.slice(2)).catch((e: unknown) => {
    const err = e as Error & { code?: string };
    if (typeof err.code === 'string' && err.code.startsWith('commander.')) process.exit(err.code === 'commander.helpDisplayed' ? 0 : 2);
    process.stderr.write(`market-data: failed to start: ${err.stack ?? String(err)}\n`);
    process.exit(err instanceof InvalidArgumentError ? 2 : 3);
  });
}
