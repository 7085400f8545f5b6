// The Unix domain socket side of the bus benchmark (SOCK_STREAM through node:net, what a Node
// service would use instead of the ring):
//
//   receive / send   throughput: the sender writes batches of `batch` 64-byte messages per
//                    write() from a pool of pre-allocated buffers; a buffer is reused only after
//                    its write callback, so at most `in-flight` batches are queued in Node.
//   pong / ping      round trip: one 64-byte message each way, on the event loop.
//
// The receiving side reassembles messages across read boundaries and checks each one.

import * as fs from 'node:fs';
import * as net from 'node:net';
import { BENCH_MESSAGE_BYTES, BENCH_MESSAGE_WORDS, BenchPayload, BenchType, CHECK_XOR, headerTypeWord, writeMessage } from './bench-message';
import { announceReady, awaitGo, Deadline, intArg, MonotonicClock, readArgs, reportAndExit, stringArg, type ChildArgs } from './child-control';
import { MessageTally, StreamReassembler } from './message-tally';

const clock = new MonotonicClock();

function fail(what: string, err: Error): never {
  process.stderr.write(`uds-child ${process.argv[2]}: ${what}: ${err.message}\n`);
  process.exit(1);
}

/** Listens on `path`, announces READY, and hands the one accepted connection to `onConnection`. */
function listenOnce(path: string, onConnection: (socket: net.Socket) => void): void {
  const server = net.createServer((socket) => {
    server.close();
    socket.on('error', (e) => fail('socket', e));
    onConnection(socket);
  });
  server.on('error', (e) => fail(`listen on ${path}`, e));
  server.listen(path, () => {
    announceReady();
    awaitGo(() => {});
  });
}

function connect(path: string, onConnected: (socket: net.Socket) => void): void {
  const socket = net.createConnection(path, () => onConnected(socket));
  socket.on('error', (e) => fail(`connect to ${path}`, e));
}

function receive(args: ChildArgs): void {
  const tally = new MessageTally(clock);
  const stream = new StreamReassembler();
  const onMessage = (view: DataView, offset: number): boolean => tally.onMessage(view, offset);
  listenOnce(stringArg(args, 'socket'), (socket) => {
    const deadline = new Deadline(clock, intArg(args, 'deadline-ms'));
    let chunks = 0;
    socket.on('data', (chunk: Buffer) => {
      if (stream.push(chunk, onMessage)) reportAndExit(tally.result());
      if (++chunks % 1024 === 0) deadline.check('receive');
    });
  });
}

function send(args: ChildArgs): void {
  const batch = intArg(args, 'batch');
  const inFlight = intArg(args, 'in-flight');
  const warmMs = intArg(args, 'warm-ms');
  const measureMs = intArg(args, 'measure-ms');
  const buffers: Buffer[] = [];
  const words: Int32Array[] = [];
  const doubles: Float64Array[] = [];
  const free: number[] = [];
  const onWritten: Array<(err?: Error | null) => void> = [];
  for (let b = 0; b < inFlight; b++) {
    buffers.push(Buffer.alloc(batch * BENCH_MESSAGE_BYTES));
    words.push(new Int32Array(buffers[b]!.buffer, buffers[b]!.byteOffset, batch * BENCH_MESSAGE_WORDS));
    doubles.push(new Float64Array(buffers[b]!.buffer, buffers[b]!.byteOffset, (batch * BENCH_MESSAGE_BYTES) / 8));
    free.push(b);
    onWritten.push((err) => {
      if (err) fail('write', err);
      free.push(b);
      pump();
    });
  }
  const end = Buffer.alloc(BENCH_MESSAGE_BYTES);
  let socket: net.Socket;
  let typeId: number = BenchType.WARM;
  let seq = 0;
  let writes = 0;
  let measureAtNs = 0;
  let endAtNs = 0;
  let ended = false;
  let deadline: Deadline;
  const pump = (): void => {
    while (!ended && free.length > 0) {
      const b = free.pop()!;
      const w = words[b]!;
      const d = doubles[b]!;
      for (let m = 0; m < batch; m++) {
        writeMessage(w, d, m * BENCH_MESSAGE_BYTES, typeId, seq);
        seq = (seq + 1) | 0;
      }
      socket.write(buffers[b]!, onWritten[b]);
      writes++;
      const now = clock.nowNs();
      // END only once a MEASURE batch went out (see ring-child.ts).
      if (now >= endAtNs && typeId === BenchType.MEASURE) {
        ended = true;
        writeMessage(new Int32Array(end.buffer, end.byteOffset, BENCH_MESSAGE_WORDS), new Float64Array(end.buffer, end.byteOffset, BENCH_MESSAGE_BYTES / 8), 0, BenchType.END, seq);
        socket.end(end, () => reportAndExit({ sent: seq + 1, writes }));
      } else if (now >= measureAtNs) {
        typeId = BenchType.MEASURE;
      }
      deadline.check('send');
    }
  };
  connect(stringArg(args, 'socket'), (s) => {
    socket = s;
    announceReady();
    awaitGo(() => {
      deadline = new Deadline(clock, intArg(args, 'deadline-ms'));
      measureAtNs = clock.nowNs() + warmMs * 1e6;
      endAtNs = measureAtNs + measureMs * 1e6;
      pump();
    });
  });
}

const CHECK_BYTE = 8 + BenchPayload.CHECK;
const SEND_NS_BYTE = 8 + BenchPayload.SEND_NS;
const PROBE_WORD = headerTypeWord(BenchType.PROBE);
const END_WORD = headerTypeWord(BenchType.END);

function pong(args: ChildArgs): void {
  const stream = new StreamReassembler();
  const out = Buffer.alloc(BENCH_MESSAGE_BYTES);
  let socket: net.Socket;
  let errors = 0;
  // Echo each message (copied into one reused buffer: the next probe comes only after this echo
  // was received, so the kernel already holds the previous bytes when the buffer is rewritten).
  const onMessage = (view: DataView, offset: number): boolean => {
    const typeWord = view.getInt32(offset + 4, true);
    if (typeWord === END_WORD) return true;
    if (typeWord !== PROBE_WORD) errors++;
    for (let i = 0; i < BENCH_MESSAGE_BYTES; i++) out[i] = view.getUint8(offset + i);
    socket.write(out);
    return false;
  };
  listenOnce(stringArg(args, 'socket'), (s) => {
    socket = s;
    const deadline = new Deadline(clock, intArg(args, 'deadline-ms'));
    let chunks = 0;
    socket.on('data', (chunk: Buffer) => {
      if (stream.push(chunk, onMessage)) reportAndExit({ errors });
      if (++chunks % 4096 === 0) deadline.check('pong');
    });
  });
}

function ping(args: ChildArgs): void {
  const warm = intArg(args, 'warm');
  const count = intArg(args, 'samples');
  const samplesFile = stringArg(args, 'samples-file');
  const samples = new Float64Array(count);
  const stream = new StreamReassembler();
  const out = Buffer.alloc(BENCH_MESSAGE_BYTES);
  const outI32 = new Int32Array(out.buffer, out.byteOffset, BENCH_MESSAGE_WORDS);
  const outF64 = new Float64Array(out.buffer, out.byteOffset, BENCH_MESSAGE_BYTES / 8);
  let socket: net.Socket;
  let deadline: Deadline;
  let i = 0;
  let sentNs = 0;
  let errors = 0;
  const sendProbe = (): void => {
    writeMessage(outI32, outF64, 0, BenchType.PROBE, i);
    sentNs = clock.nowNs();
    outF64[SEND_NS_BYTE >> 3] = sentNs;
    socket.write(out);
  };
  const onMessage = (view: DataView, offset: number): boolean => {
    const rttNs = clock.nowNs() - sentNs;
    if (view.getInt32(offset + 8 + BenchPayload.SEQ, true) !== i || view.getInt32(offset + CHECK_BYTE, true) !== (i ^ CHECK_XOR)) errors++;
    if (i >= warm) samples[i - warm] = rttNs;
    i++;
    if (i % 4096 === 0) deadline.check('ping');
    if (i < warm + count) {
      sendProbe();
      return false;
    }
    writeMessage(outI32, outF64, 0, BenchType.END, i);
    socket.end(out, () => {
      fs.writeFileSync(samplesFile, new Uint8Array(samples.buffer));
      reportAndExit({ samples: count, errors });
    });
    return true;
  };
  connect(stringArg(args, 'socket'), (s) => {
    socket = s;
    socket.on('data', (chunk: Buffer) => stream.push(chunk, onMessage));
    announceReady();
    awaitGo(() => {
      deadline = new Deadline(clock, intArg(args, 'deadline-ms'));
      sendProbe();
    });
  });
}

const roles: Record<string, (args: ChildArgs) => void> = { receive, send, pong, ping };
const role = roles[process.argv[2] ?? ''];
if (role === undefined) {
  process.stderr.write(`uds-child: role must be one of ${Object.keys(roles).join(', ')}, got '${process.argv[2]}'\n`);
  process.exit(2);
}
role(readArgs());
