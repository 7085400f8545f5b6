// Where the engine-process fields sit in every engine output message (bus/schema.ts types 50-57),
// derived once from the schema: inSeq and outIndex (the output's identity), epoch (the fencing
// field the publisher stamps at publication time) and a field the engine decides (for the
// test-only corruption switch). Also the two comparisons hot and warm engines make on them.
//
// Outputs are named by their key (inSeq, outIndex): the journal sequence of the command that caused
// the output and its index among that command's outputs. Keys order every output the engine ever
// emits; the sequencer journals them in that order, each once.

import { readI64, readU32 } from '../../bus/codec';
import { EngineCheckpoint, MESSAGES, TypeId } from '../../bus/schema';

const TYPE_IDS = 0x10000;

/** Body offset of inSeq per type id; -1 for messages that are not engine outputs. */
export const OUT_IN_SEQ_OFFSET = new Int32Array(TYPE_IDS).fill(-1);
/** Body offset of outIndex (u32) per type id. */
export const OUT_INDEX_OFFSET = new Int32Array(TYPE_IDS).fill(-1);
/** Body offset of epoch (u32) per type id. */
export const OUT_EPOCH_OFFSET = new Int32Array(TYPE_IDS).fill(-1);
/** Body size per type id (engine outputs only). */
export const OUT_BODY_BYTES = new Int32Array(TYPE_IDS).fill(-1);
/**
 * Offset of the first field the engine decides (not inSeq, outIndex or epoch): where the
 * test-only corruption switch flips a byte, so a corrupted output still has its own key.
 */
export const OUT_DECIDED_FIELD_OFFSET = new Int32Array(TYPE_IDS).fill(-1);

for (const m of MESSAGES) {
  const o = m.o as Readonly<Record<string, number>>;
  if (o['inSeq'] === undefined || o['outIndex'] === undefined || o['epoch'] === undefined) continue;
  OUT_IN_SEQ_OFFSET[m.typeId] = o['inSeq'];
  OUT_INDEX_OFFSET[m.typeId] = o['outIndex'];
  OUT_EPOCH_OFFSET[m.typeId] = o['epoch'];
  OUT_BODY_BYTES[m.typeId] = m.size;
  const decided = m.fields.find((f) => f.name !== 'inSeq' && f.name !== 'outIndex' && f.name !== 'epoch');
  OUT_DECIDED_FIELD_OFFSET[m.typeId] = decided === undefined ? -1 : decided.offset;
}

/** True for the messages the engine publishes (OrderAccepted .. EngineCheckpoint). */
export function isEngineOutputType(typeId: number): boolean {
  return OUT_IN_SEQ_OFFSET[typeId]! >= 0;
}

export const CHECKPOINT_TYPE_ID = TypeId.EngineCheckpoint;
export const CHECKPOINT_BODY_BYTES = EngineCheckpoint.size;

/** Orders two keys: negative when (aIn, aIdx) comes first, 0 when equal, positive after. */
export function compareKeys(aInSeq: number, aOutIndex: number, bInSeq: number, bOutIndex: number): number {
  return aInSeq !== bInSeq ? aInSeq - bInSeq : aOutIndex - bOutIndex;
}

export function outputInSeq(typeId: number, view: DataView, body: number): number {
  return readI64(view, body + OUT_IN_SEQ_OFFSET[typeId]!);
}

export function outputIndex(typeId: number, view: DataView, body: number): number {
  return readU32(view, body + OUT_INDEX_OFFSET[typeId]!);
}

/**
 * True when two bodies of `typeId` are byte-identical apart from the epoch field (the only field
 * that legitimately differs between the hot and the warm, or between two epochs of one output).
 * Allocation-free; compares 4-byte words (every body is a multiple of 8 bytes and 8-aligned).
 */
export function bodiesEqualIgnoringEpoch(typeId: number, a: DataView, aBody: number, b: DataView, bBody: number): boolean {
  const size = OUT_BODY_BYTES[typeId]!;
  const epochAt = OUT_EPOCH_OFFSET[typeId]!;
  for (let i = 0; i < size; i += 4) {
    if (i === epochAt) continue;
    if (a.getUint32(aBody + i, true) !== b.getUint32(bBody + i, true)) return false;
  }
  return true;
}

/** Hex of a body with the epoch zeroed, for divergence logs (allocates; cold path). */
export function bodyHexIgnoringEpoch(typeId: number, view: DataView, body: number): string {
  const size = OUT_BODY_BYTES[typeId]!;
  const epochAt = OUT_EPOCH_OFFSET[typeId]!;
  let out = '';
  for (let i = 0; i < size; i++) {
    const byte = i >= epochAt && i < epochAt + 4 ? 0 : view.getUint8(body + i);
    out += byte.toString(16).padStart(2, '0');
  }
  return out;
}
