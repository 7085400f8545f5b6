// Growing a typed-array column: a new array of the larger length with the old contents copied.
// Tables grow only by doubling, at most a logarithmic number of times up to their stated maximum,
// so this is the only allocation a growing table ever makes.

export function growFloat64(a: Float64Array, length: number): Float64Array {
  const b = new Float64Array(length);
  b.set(a);
  return b;
}

export function growInt32(a: Int32Array, length: number, fill = 0): Int32Array {
  const b = new Int32Array(length);
  if (fill !== 0) b.fill(fill, a.length);
  b.set(a);
  return b;
}

export function growUint32(a: Uint32Array, length: number): Uint32Array {
  const b = new Uint32Array(length);
  b.set(a);
  return b;
}

export function growUint16(a: Uint16Array, length: number): Uint16Array {
  const b = new Uint16Array(length);
  b.set(a);
  return b;
}

export function growUint8(a: Uint8Array, length: number): Uint8Array {
  const b = new Uint8Array(length);
  b.set(a);
  return b;
}
