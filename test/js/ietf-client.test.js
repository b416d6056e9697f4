// tus-js-client 4.3.1 speaking the IETF draft to tusgate: protocol
// 'ietf-draft-03' (interop version 5) and 'ietf-draft-05' (interop 6).
// TUSGATE_URL is the upload endpoint; go test ./test/ietf points it at a
// round-robin proxy over two replicas, so consecutive requests of one upload
// reach different replicas. Each upload is aborted after its first chunk and
// resumed from its URL; a line "UPLOADED <protocol> <url> <sha256> <size>"
// tells the Go side which object to check in the bucket.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Upload } from 'tus-js-client'
import { MiB, sourceBytes, sha256, uploadFirstChunk } from './helpers.mjs'

const endpoint = process.env.TUSGATE_URL
const interop = { 'ietf-draft-03': '5', 'ietf-draft-05': '6' }

test('TUSGATE_URL is set', () => {
  assert.ok(endpoint, 'TUSGATE_URL must name the gateway, e.g. http://127.0.0.1:8080/files/')
})

for (const [protocol, version] of Object.entries(interop)) {
  test(`${protocol}: aborted after the first chunk, resumed, round-trips`, { skip: !endpoint }, async () => {
    const data = sourceBytes(3 * MiB + 4321, 0x1e7f + Number(version))
    // Every request speaks the draft: the interop version, never Tus-Resumable.
    const checkRequest = (req) => {
      assert.equal(req.getHeader('Upload-Draft-Interop-Version'), version, `${req.getMethod()} interop version`)
      assert.equal(req.getHeader('Tus-Resumable'), undefined, `${req.getMethod()} carries Tus-Resumable`)
    }

    const first = await uploadFirstChunk(Upload, data, { endpoint, protocol, chunkSize: MiB, onBeforeRequest: checkRequest })
    assert.equal(first.accepted, MiB)
    assert.match(first.url, /^http:\/\/.+\/files\/[0-9a-f]{32}$/)

    // Offset retrieval as the draft defines it.
    const res = await fetch(first.url, { method: 'HEAD', headers: { 'Upload-Draft-Interop-Version': version } })
    assert.equal(res.status, 204)
    assert.equal(res.headers.get('upload-offset'), String(MiB))
    assert.equal(res.headers.get('upload-complete'), '?0')
    assert.equal(res.headers.get('upload-length'), String(data.length))
    assert.equal(res.headers.get('cache-control'), 'no-store')

    let firstOffsetSent = -1
    let lastComplete = null
    await new Promise((resolve, reject) => {
      const upload = new Upload(data, {
        uploadUrl: first.url,
        protocol,
        chunkSize: MiB,
        retryDelays: null,
        storeFingerprintForResuming: false,
        onBeforeRequest: (req) => {
          checkRequest(req)
          if (req.getMethod() === 'PATCH' && firstOffsetSent < 0) {
            firstOffsetSent = Number(req.getHeader('Upload-Offset'))
          }
        },
        onAfterResponse: (req, res) => {
          if (req.getMethod() === 'PATCH') lastComplete = res.getHeader('Upload-Complete')
        },
        onSuccess: resolve,
        onError: reject
      })
      upload.start()
    })
    assert.equal(firstOffsetSent, MiB, 'the resumed upload must continue at the acknowledged offset')
    assert.equal(lastComplete, '?1', 'the last append completes the upload')

    const got = Buffer.from(await (await fetch(first.url)).arrayBuffer())
    assert.equal(sha256(got), sha256(data))
    console.log(`UPLOADED ${protocol} ${first.url} ${sha256(data)} ${data.length}`)
  })
}
