// Shared by the tus-js-client tests.
import { createHash } from 'node:crypto'

export const MiB = 1024 * 1024

// Deterministic bytes (xorshift32), so a failure can be reproduced.
export function sourceBytes (size, seed) {
  const buf = Buffer.alloc(size)
  let x = seed >>> 0
  for (let i = 0; i < size; i++) {
    x ^= x << 13; x >>>= 0
    x ^= x >>> 17
    x ^= x << 5; x >>>= 0
    buf[i] = x & 0xff
  }
  return buf
}

export const sha256 = (b) => createHash('sha256').update(b).digest('hex')
