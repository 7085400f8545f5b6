// Self-checking test records for in-process ring tests: every byte of a record is derived from its
// sequence number, so a consumer can tell a torn, stale or misplaced record from the right one.

import { BACK_PRESSURED, type RecordBuffer, type RingConsumer, type RingProducer } from '../../bus/ring';

/** The typeId of record `seq` (never 0, which is padding). */
export function typeIdFor(seq: number): number {
  return 1 + (seq % 0xfffe);
}

export function versionFor(seq: number): number {
  return seq & 0xff;
}

export function byteFor(seq: number, i: number): number {
  return (Math.imul(seq + 1, 0x9e3779b1) >>> 24) ^ ((i * 7 + seq) & 0xff);
}

/** Claims record `seq` with `payloadBytes` and fills it; returns false when back-pressured. */
export function claimRecord(producer: RingProducer, seq: number, payloadBytes: number): boolean {
  const at = producer.tryClaim(typeIdFor(seq), versionFor(seq), payloadBytes);
  if (at === BACK_PRESSURED) return false;
  const bytes = producer.ring.bytes;
  // The first 4 bytes carry seq itself when there is room, so a misplaced record names itself.
  if (payloadBytes >= 4) producer.ring.view.setUint32(at, seq, true);
  for (let i = payloadBytes >= 4 ? 4 : 0; i < payloadBytes; i++) bytes[at + i] = byteFor(seq, i);
  return true;
}

/** What a checking handler saw. */
export interface Seen {
  seqs: number[];
  problems: string[];
}

/**
 * A record handler that expects records `expectedLength(seq)` long and checks every byte. It
 * learns seq from the payload when the payload has room for it, otherwise trusts `nextSeq()`.
 */
export function checkingHandler(seen: Seen, expectedLength: (seq: number) => number, nextSeq: () => number) {
  return (typeId: number, version: number, buf: RecordBuffer, offset: number, length: number): void => {
    const seq = length >= 4 ? buf.view.getUint32(offset, true) : nextSeq();
    seen.seqs.push(seq);
    if (seen.problems.length > 10) return;
    if (typeId !== typeIdFor(seq) || version !== versionFor(seq)) seen.problems.push(`seq ${seq}: type ${typeId} version ${version}`);
    if (length !== expectedLength(seq)) seen.problems.push(`seq ${seq}: length ${length}, expected ${expectedLength(seq)}`);
    for (let i = length >= 4 ? 4 : 0; i < length; i++) {
      if (buf.bytes[offset + i] !== byteFor(seq, i)) {
        seen.problems.push(`seq ${seq}: byte ${i} is ${buf.bytes[offset + i]}, expected ${byteFor(seq, i)}`);
        break;
      }
    }
  };
}

/** Fixed-size records: publishes `count` of them one commit each; returns how many went in. */
export function publishFixed(producer: RingProducer, firstSeq: number, count: number, payloadBytes: number): number {
  for (let k = 0; k < count; k++) {
    if (!claimRecord(producer, firstSeq + k, payloadBytes)) return k;
    producer.commit();
  }
  return count;
}

/** Polls until the consumer has nothing left (bounded); returns records handled. */
export function drain(consumer: RingConsumer, handler: Parameters<RingConsumer['poll']>[0], limit = 1000): number {
  let total = 0;
  for (let round = 0; round < 10_000; round++) {
    const n = consumer.poll(handler, limit);
    if (n <= 0) return total;
    total += n;
  }
  throw new Error(`drain of '${consumer.name}' did not finish within 10000 polls`);
}
