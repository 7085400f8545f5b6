// Every IMS process logs one JSON object per line on stdout, through pino, so an operator (or
// journald, or a log shipper) can filter all of them the same way:
//
//   {"level":30,"time":1718000000000,"event":"engine-hot","instance":"a",…,"process":"engine-a","pid":4242,"seq":1234}
//
//   process  the name the supervisor (or the systemd unit) gave the process: IMS_PROCESS_NAME
//            (gateway-1, engine-a, pm-b, sequencer, reporter, market-data, control, …), else the
//            fallback the process passes (a process a test starts by hand)
//   pid      the process id
//   seq      the journal seq the event concerns, when it names one (its own `seq`, else the first of
//            SEQ_FIELDS it carries: the position the event was logged at)
//   level    pino's: 50 error, 40 warn, 30 info — chosen from the event name (LEVEL_OF_EVENT)
//
// The event's own fields come first and are kept as they are (tests and drills match them); the
// common ones are added after them where the event does not already use the name. Logging is never on a hot path (start-up, role changes,
// alarms that are themselves rate-limited), so building one object per line is fine.

import pino, { type Logger } from 'pino';

export type LogEvent = Record<string, unknown>;
export type EventLog = (event: LogEvent) => void;

/** Fields that name a journal position, in order of preference, when an event has no `seq`. */
export const SEQ_FIELDS = ['journalSeq', 'atSeq', 'appliedSeq', 'committedSeq', 'lastSeq', 'headSeq', 'throughSeq'] as const;

const WARN = 'warn';
const ERROR = 'error';
/** Events that are not routine: the level an operator filters on. Every other event is info. */
const LEVEL_OF_EVENT: ReadonlyMap<string, 'warn' | 'error'> = new Map([
  ['alarm', WARN],
  ['engine-heartbeat-late', WARN],
  ['engine-pending-overflow', WARN],
  ['engine-fenced', WARN],
  ['engine-claim-lost', WARN],
  ['fenced', WARN],
  ['takeover-lost', WARN],
  ['takeover-abandoned', WARN],
  ['journal-torn-tail-truncated', WARN],
  ['admin-command-rejected', WARN],
  ['outbox-error', ERROR],
  ['fault', ERROR],
  ['start-refused', ERROR],
  ['engine-failed', ERROR],
  ['engine-divergence', ERROR],
  ['engine-takeover-gap', ERROR],
  ['engine-snapshot-failed', ERROR],
  ['input-halted', ERROR],
  ['pm-crashed', ERROR],
  ['reporter-failed', ERROR],
] as const);

/** The process's name as the supervisor or systemd knows it (IMS_PROCESS_NAME), else `fallback`. */
export function processNameOf(fallback: string, env: NodeJS.ProcessEnv = process.env): string {
  const name = env['IMS_PROCESS_NAME'];
  return name !== undefined && name !== '' ? name : fallback;
}

function seqOf(event: LogEvent): number | undefined {
  if (typeof event['seq'] === 'number') return event['seq'];
  for (const field of SEQ_FIELDS) {
    const v = event[field];
    if (typeof v === 'number') return v;
  }
  return undefined;
}

export interface ProcessLoggerOptions {
  /** Extra fields on every line (the gateway's gatewayId). */
  readonly bindings?: Record<string, unknown>;
  /** Where lines go; default stdout, written synchronously (a line is out before a crash exits). */
  readonly destination?: pino.DestinationStream;
  readonly env?: NodeJS.ProcessEnv;
}

/** A pino logger whose every line carries the process name, pid and the seq the event names. */
export function createProcessLogger(fallbackName: string, options: ProcessLoggerOptions = {}): Logger {
  const name = processNameOf(fallbackName, options.env);
  const pid = process.pid;
  const bindings = options.bindings ?? {};
  return pino(
    {
      base: null,
      messageKey: 'msg',
      formatters: {
        // The event's own fields first and as they are: an event may name another process's pid
        // (leader-killed) or process (the supervisor's lines about its children), and drills and
        // tests read those. The common fields fill in what the event does not say; where the event
        // uses `pid` or `process` for someone else, this process's go to loggerPid / loggerProcess.
        log: (event) => {
          const out: Record<string, unknown> = { ...event, ...bindings };
          if (out['process'] === undefined) out['process'] = name;
          else if (out['process'] !== name) out['loggerProcess'] = name;
          if (out['pid'] === undefined) out['pid'] = pid;
          else if (out['pid'] !== pid) out['loggerPid'] = pid;
          if (out['seq'] === undefined) {
            const seq = seqOf(event);
            if (seq !== undefined) out['seq'] = seq;
          }
          return out;
        },
      },
    },
    options.destination ?? pino.destination({ dest: 1, sync: true }),
  );
}

/**
 * The `log(event)` function the processes already use (one object per event, `event` its name),
 * writing through a process logger at the level the event's name calls for.
 */
export function createEventLog(fallbackName: string, options: ProcessLoggerOptions = {}): EventLog {
  const logger = createProcessLogger(fallbackName, options);
  return (event: LogEvent): void => {
    const level = typeof event['event'] === 'string' ? LEVEL_OF_EVENT.get(event['event']) : undefined;
    if (level === ERROR) logger.error(event);
    else if (level === WARN) logger.warn(event);
    else logger.info(event);
  };
}
