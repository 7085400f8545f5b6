// The control process (see control.ts):
//
//   node dist/processes/control/main.js --run-dir DIR --data-dir DIR [--profile demo|production]
//
// Rings (created by the supervisor): <run>/control-to-sequencer.ring, <run>/accounts-to-sequencer.ring
// (producer: this process; consumer: the sequencer), and it follows <run>/journal.ring.

import { Command, Option } from 'commander';
import * as path from 'node:path';
import { InputPublisher } from '../../bus/input-publisher';
import { JournalReader } from '../../bus/journal-reader';
import { RingFile } from '../../bus/ring';
import { journalStatus } from '../sequencer/journal-tools';
import { SourceId } from '../../bus/source-ids';
import { Accounts, accountStoreOptionsFromEnv, formatDemoCredentials, seedDemoAccounts } from '../accounts';
import { pinSelf } from '../pin-self';
import { createEventLog } from '../process-log';
import { ALWAYS_OPEN_CALENDAR, NEW_YORK_SESSION_CALENDAR } from '../product-manager/trading-calendar';
import { Control, JournalView } from './control';

/** How often the control loop looks at the journal, the outbox and the clock. */
export const CONTROL_TICK_MS = 20;
/** How long the control process waits for the sequencer to come up before it gives up. */
const STARTUP_WAIT_MS = 60_000;
/** Journal entries handled per poll (bounds one tick). */
const JOURNAL_POLL_LIMIT = 4096;

export const CONTROL_RING = 'control-to-sequencer';
export const ACCOUNTS_RING = 'accounts-to-sequencer';

/** JSON lines named after the supervisor's process, 'control' (see processes/process-log.ts). */
const log = createEventLog('control');

async function run(o: { runDir: string; dataDir: string; profile: 'demo' | 'production' }): Promise<void> {
  const demo = o.profile === 'demo';
  const accounts = await Accounts.open(accountStoreOptionsFromEnv(o.dataDir));
  let colleagueIds: number[] = [];
  if (demo) {
    const credentials = await seedDemoAccounts(accounts);
    colleagueIds = credentials.filter((c) => c.role === 'colleague').map((c) => c.accountId);
    // The banner's table, one JSON line per row: the columns still line up in a terminal.
    for (const line of formatDemoCredentials(credentials).split('\n')) log({ event: 'demo-credentials', line });
  }
  const journal = new JournalView();
  const reader = new JournalReader({ ringPath: path.join(o.runDir, 'journal.ring'), name: 'control', fromSeq: 1, gating: false });
  // Catch up with the whole journal before deciding anything: the source numbering continues from
  // it. The sequencer must be running (it recovers the journal first) and we must reach what it
  // has made visible; until then nothing is written.
  const statusPath = path.join(o.runDir, 'journal.status');
  const startedMs = Date.now();
  for (;;) {
    while (reader.poll(journal.handler, JOURNAL_POLL_LIMIT) > 0) {
      // keep reading
    }
    const status = journalStatus(statusPath);
    if (status !== null && status.state === 'running' && reader.nextSeq > status.visibleSeq) break;
    if (Date.now() - startedMs > STARTUP_WAIT_MS) throw new Error(`the sequencer is not running after ${STARTUP_WAIT_MS} ms (status ${status?.state ?? 'missing'} in ${statusPath}); start it first`);
    await new Promise((r) => setTimeout(r, CONTROL_TICK_MS));
  }
  const control = new InputPublisher(RingFile.open(path.join(o.runDir, `${CONTROL_RING}.ring`)), SourceId.CONTROL, journal.lastControlSourceSeq);
  const relay = new InputPublisher(RingFile.open(path.join(o.runDir, `${ACCOUNTS_RING}.ring`)), SourceId.ACCOUNTS, journal.lastAccountsSourceSeq);
  const logic = new Control({
    demo,
    calendar: demo ? ALWAYS_OPEN_CALENDAR : NEW_YORK_SESSION_CALENDAR,
    colleagueAccountIds: colleagueIds,
    control,
    accountsRelay: relay,
    outbox: accounts,
    journal,
    log,
  });
  log({ event: 'control-start', pid: process.pid, profile: o.profile, journalSeq: journal.lastSeq, planLength: logic.planLength, seeded: logic.seeded });

  let stopping = false;
  let busy = false;
  const timer = setInterval(() => {
    if (busy || stopping) return;
    busy = true;
    void (async () => {
      try {
        while (reader.poll(journal.handler, JOURNAL_POLL_LIMIT) > 0) {
          // drain what is there
        }
        await logic.relayAccounts();
        logic.tick();
      } catch (e) {
        log({ event: 'fault', error: (e as Error).message });
        process.exit(2);
      } finally {
        busy = false;
      }
    })();
  }, CONTROL_TICK_MS);

  const stop = (): void => {
    stopping = true;
    clearInterval(timer);
    control.close();
    relay.close();
    reader.close();
    void accounts.close().finally(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

if (require.main === module) {
  pinSelf();
  const program = new Command('control')
    .description('IMS control process: trading-day calendar, accounts outbox relay, demo data')
    .requiredOption('--run-dir <dir>', 'directory of the ring files')
    .requiredOption('--data-dir <dir>', 'durable data directory (accounts database)')
    .addOption(new Option('--profile <name>', 'demo (open around the clock, demo data) or production').choices(['demo', 'production']).default('demo'));
  program.parse();
  run(program.opts()).catch((e: Error) => {
    process.stderr.write(`control: ${e.stack ?? e.message}\n`);
    process.exit(3);
  });
}
