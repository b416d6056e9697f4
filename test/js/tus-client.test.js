// End-to-end test of tusgate with the official tus-js-client. The gateway's
// base URL comes from TUSGATE_URL (go test ./test/e2e starts the binary and
// runs this file with `node --test`).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Upload } from 'tus-js-client'
import { MiB, sourceBytes, sha256, uploadFirstChunk } from './helpers.mjs'

const endpoint = process.env.TUSGATE_URL

// start runs an Upload until it succeeds or fails. Retries are off so that a
// server error surfaces instead of being papered over.
function start (input, options) {
  let upload
  const done = new Promise((resolve, reject) => {
    upload = new Upload(input, {
      retryDelays: null,
      storeFingerprintForResuming: false,
      ...options,
      onSuccess: () => resolve(upload),
      onError: reject
    })
  })
  upload.start()
  return { upload, done }
}

async function head (url) {
  const res = await fetch(url, { method: 'HEAD', headers: { 'Tus-Resumable': '1.0.0' } })
  assert.equal(res.status, 200, `HEAD ${url}`)
  return res.headers
}

test('TUSGATE_URL is set', () => {
  assert.ok(endpoint, 'TUSGATE_URL must name the gateway, e.g. http://127.0.0.1:8080/files/')
})

test('upload aborted after the first chunk resumes and round-trips', { skip: !endpoint }, async () => {
  const data = sourceBytes(3 * MiB + 12345, 0x5eed)

  // First attempt: abort as soon as the first 1 MiB chunk is acknowledged.
  const first = await uploadFirstChunk(Upload, data, { endpoint, chunkSize: MiB })
  assert.equal(first.accepted, MiB)
  assert.match(first.url, /^http:\/\/.+\/files\/[0-9a-f]{32}$/)

  const h = await head(first.url)
  assert.equal(h.get('upload-offset'), String(MiB))
  assert.equal(h.get('upload-length'), String(data.length))

  // Second attempt: a new Upload given the URL asks HEAD for the offset and
  // sends only the rest.
  let firstOffsetSent = -1
  const { done } = start(data, {
    uploadUrl: first.url,
    chunkSize: MiB,
    onBeforeRequest: (req) => {
      if (req.getMethod() === 'PATCH' && firstOffsetSent < 0) {
        firstOffsetSent = Number(req.getHeader('Upload-Offset'))
      }
    }
  })
  const resumed = await done
  assert.equal(resumed.url, first.url)
  assert.equal(firstOffsetSent, MiB, 'the resumed upload must continue at the acknowledged offset')

  const res = await fetch(first.url)
  assert.equal(res.status, 200)
  const got = Buffer.from(await res.arrayBuffer())
  assert.equal(got.length, data.length)
  assert.equal(sha256(got), sha256(data))
})

test('metadata is echoed byte for byte by HEAD', { skip: !endpoint }, async () => {
  const data = Buffer.from('hello from tus-js-client\n')
  let sent = null
  const { upload, done } = start(data, {
    endpoint,
    metadata: { filename: 'héllo wörld.txt', filetype: 'text/plain', empty: '' },
    onBeforeRequest: (req) => {
      if (req.getMethod() === 'POST') sent = req.getHeader('Upload-Metadata')
    }
  })
  await done
  assert.ok(sent, 'the client sent Upload-Metadata')

  // tus-js-client writes an empty value as "key " at the end of the
  // header; HTTP strips a field value's trailing whitespace (RFC 9110 5.5),
  // so the exact echo is the value as sent on the wire, trimmed.
  const h = await head(upload.url)
  assert.equal(h.get('upload-metadata'), sent.trim())
  assert.equal(h.get('upload-offset'), String(data.length))

  // The echo also decodes to what was given, UTF-8 included.
  const decoded = Object.fromEntries(sent.split(',').map((pair) => {
    const [k, v = ''] = pair.split(' ')
    return [k, Buffer.from(v, 'base64').toString('utf8')]
  }))
  assert.deepEqual(decoded, { filename: 'héllo wörld.txt', filetype: 'text/plain', empty: '' })

  const res = await fetch(upload.url)
  assert.equal(res.status, 200)
  assert.equal(Buffer.from(await res.arrayBuffer()).toString(), data.toString())
})
