// The process.send side of the bus benchmark. process.send only connects a parent with its own
// child, so the receiver (started and pinned by the orchestrator) starts the sender itself, pinned
// with taskset, with `serialization: 'advanced'` (V8 structured clone: typed arrays travel as
// bytes, not as JSON text).
//
// What is batched: one send() carries one Uint8Array of `batch` 64-byte messages. Serialization
// copies it synchronously, so the sender refills the same array; at most `in-flight` sends wait
// for their callback. The receiver gets a new Uint8Array per send (allocated by Node).
//
// The sender lives in the receiver's process group: the orchestrator kills the group.

import { spawn, type ChildProcess } from 'node:child_process';
import { BENCH_MESSAGE_BYTES, BenchType, writeMessage } from './bench-message';
import { announceReady, awaitGo, Deadline, intArg, MonotonicClock, readArgs, reportAndExit, stringArg, type ChildArgs } from './child-control';
import { MessageTally } from './message-tally';

const clock = new MonotonicClock();

interface ControlMessage {
  kind: 'ready' | 'go' | 'result';
  sent?: number;
  sends?: number;
}

function receive(args: ChildArgs): void {
  const senderArgs = ['send'];
  for (const name of ['batch', 'in-flight', 'warm-ms', 'measure-ms', 'deadline-ms']) senderArgs.push(`--${name}`, String(intArg(args, name)));
  const sender: ChildProcess = spawn('taskset', ['-c', stringArg(args, 'sender-cpu'), process.execPath, __filename, ...senderArgs], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    serialization: 'advanced',
  });
  const tally = new MessageTally(clock);
  let deadline: Deadline | undefined;
  let sends = 0;
  let senderResult: ControlMessage | undefined;
  let endSeen = false;
  const finishIfDone = (): void => {
    if (endSeen && senderResult !== undefined) reportAndExit({ ...tally.result(), sent: senderResult.sent!, sends: senderResult.sends! });
  };
  sender.on('error', (e) => {
    process.stderr.write(`ipc-child receive: cannot start the sender: ${e.message}\n`);
    process.exit(1);
  });
  sender.on('exit', (code) => {
    if (senderResult === undefined) {
      process.stderr.write(`ipc-child receive: the sender exited with ${code} before reporting\n`);
      process.exit(1);
    }
  });
  sender.on('message', (message: Uint8Array | ControlMessage) => {
    if (message instanceof Uint8Array) {
      sends++;
      const view = new DataView(message.buffer, message.byteOffset, message.byteLength);
      for (let offset = 0; offset + BENCH_MESSAGE_BYTES <= message.byteLength; offset += BENCH_MESSAGE_BYTES) {
        if (tally.onMessage(view, offset)) endSeen = true;
      }
      if (message.byteLength % BENCH_MESSAGE_BYTES !== 0) tally.errors++;
      if (sends % 1024 === 0) deadline?.check('receive');
      finishIfDone();
    } else if (message.kind === 'ready') {
      // The orchestrator watches the sender's CPU contention too.
      process.stdout.write(`PID ${sender.pid}\n`);
      announceReady();
      awaitGo(() => {
        deadline = new Deadline(clock, intArg(args, 'deadline-ms'));
        sender.send({ kind: 'go' } satisfies ControlMessage);
      });
    } else if (message.kind === 'result') {
      senderResult = message;
      finishIfDone();
    }
  });
}

function send(args: ChildArgs): void {
  const batch = intArg(args, 'batch');
  const inFlightLimit = intArg(args, 'in-flight');
  const warmMs = intArg(args, 'warm-ms');
  const measureMs = intArg(args, 'measure-ms');
  const bytes = new Uint8Array(batch * BENCH_MESSAGE_BYTES);
  const words = new Int32Array(bytes.buffer);
  const doubles = new Float64Array(bytes.buffer);
  const endBytes = new Uint8Array(BENCH_MESSAGE_BYTES);
  let typeId: number = BenchType.WARM;
  let seq = 0;
  let sends = 0;
  let inFlight = 0;
  let measureAtNs = 0;
  let endAtNs = 0;
  let ended = false;
  let deadline: Deadline;
  const send = process.send!.bind(process);
  const onSent = (err: Error | null): void => {
    if (err) throw err;
    inFlight--;
    pump();
  };
  const pump = (): void => {
    while (!ended && inFlight < inFlightLimit) {
      for (let m = 0; m < batch; m++) {
        writeMessage(words, doubles, m * BENCH_MESSAGE_BYTES, typeId, seq);
        seq = (seq + 1) | 0;
      }
      inFlight++;
      sends++;
      send(bytes, undefined, undefined, onSent);
      const now = clock.nowNs();
      // END only once a MEASURE batch went out (see ring-child.ts).
      if (now >= endAtNs && typeId === BenchType.MEASURE) {
        ended = true;
        writeMessage(new Int32Array(endBytes.buffer), new Float64Array(endBytes.buffer), 0, BenchType.END, seq);
        send(endBytes, undefined, undefined, () => {
          send({ kind: 'result', sent: seq + 1, sends } satisfies ControlMessage, undefined, undefined, () => process.exit(0));
        });
      } else if (now >= measureAtNs) {
        typeId = BenchType.MEASURE;
      }
      deadline.check('send');
    }
  };
  process.on('disconnect', () => process.exit(3));
  process.on('message', (message: ControlMessage) => {
    if (message.kind !== 'go') return;
    deadline = new Deadline(clock, intArg(args, 'deadline-ms'));
    measureAtNs = clock.nowNs() + warmMs * 1e6;
    endAtNs = measureAtNs + measureMs * 1e6;
    pump();
  });
  send({ kind: 'ready' } satisfies ControlMessage);
}

const roles: Record<string, (args: ChildArgs) => void> = { receive, send };
const role = roles[process.argv[2] ?? ''];
if (role === undefined) {
  process.stderr.write(`ipc-child: role must be one of ${Object.keys(roles).join(', ')}, got '${process.argv[2]}'\n`);
  process.exit(2);
}
role(readArgs());
