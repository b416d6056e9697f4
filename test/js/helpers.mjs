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

// uploadFirstChunk starts an upload of data in chunks of chunkSize and
// aborts it as soon as the first chunk is acknowledged; abort() inside the
// callback stops the client before it sends the next chunk, so the server
// holds exactly one chunk. It resolves to the upload URL and the bytes
// accepted.
export function uploadFirstChunk (Upload, data, options) {
  return new Promise((resolve, reject) => {
    const upload = new Upload(data, {
      retryDelays: null,
      storeFingerprintForResuming: false,
      ...options,
      onChunkComplete: (chunkSize, accepted) => {
        upload.abort().then(() => resolve({ url: upload.url, accepted }), reject)
      },
      onSuccess: () => reject(new Error('upload finished although it was aborted')),
      onError: reject
    })
    upload.start()
  })
}
