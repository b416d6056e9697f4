// Uploads one file with tus-js-client for the fault suite (test/fault):
// node fault-upload.mjs ENDPOINT FILE. It retries the way an app would
// (bounded delays) and prints the upload URL and how often it retried on
// success; exits 1 on failure.
import { readFileSync } from 'node:fs'
import { Upload } from 'tus-js-client'

const [endpoint, file] = process.argv.slice(2)
const data = readFileSync(file)
let retries = 0
const upload = new Upload(data, {
  endpoint,
  chunkSize: 4 * 1024 * 1024,
  retryDelays: [0, 200, 500, 1000, 1000, 1000, 2000, 2000, 2000, 3000, 3000, 3000, 3000],
  storeFingerprintForResuming: false,
  onShouldRetry: () => { retries++; return true },
  onSuccess: () => { console.log(upload.url + ' ' + retries); process.exit(0) },
  onError: (err) => { console.error(String(err)); process.exit(1) }
})
upload.start()
