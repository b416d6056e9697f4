package protocol

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/binary"
	"hash/crc32"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// checksumHeader returns "<alg> <base64 digest of data>".
func checksumHeader(t testing.TB, alg string, data []byte) string {
	t.Helper()
	var sum []byte
	switch alg {
	case "sha1":
		s := sha1.Sum(data)
		sum = s[:]
	case "md5":
		s := md5.Sum(data)
		sum = s[:]
	case "sha256":
		s := sha256.Sum256(data)
		sum = s[:]
	case "sha512":
		s := sha512.Sum512(data)
		sum = s[:]
	case "crc32":
		sum = binary.BigEndian.AppendUint32(nil, crc32.ChecksumIEEE(data))
	default:
		t.Fatalf("no digest for %q", alg)
	}
	return alg + " " + base64.StdEncoding.EncodeToString(sum)
}

var checksumAlgorithms = []string{"sha1", "md5", "sha256", "sha512", "crc32"}

// trailerBody sets the Upload-Checksum trailer just before EOF, the way a
// client that hashes while sending would.
type trailerBody struct {
	r     io.Reader
	req   *http.Request
	value string
}

func (b *trailerBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err == io.EOF && b.value != "" {
		b.req.Trailer.Set("Upload-Checksum", b.value)
	}
	return n, err
}

func (b *trailerBody) Close() error { return nil }

// patchTrailer sends a chunked PATCH announcing Trailer: Upload-Checksum and
// sending value as the trailer ("" announces it but sends none).
func (sv *server) patchTrailer(t testing.TB, url string, offset int64, data []byte, value string) *resp {
	t.Helper()
	req := sv.request(t, http.MethodPatch, url, tus("Content-Type", offsetOctet, "Upload-Offset", strconv.FormatInt(offset, 10)), nil)
	req.Body = &trailerBody{r: strings.NewReader(string(data)), req: req, value: value}
	req.ContentLength = -1
	req.TransferEncoding = []string{"chunked"}
	req.Trailer = http.Header{"Upload-Checksum": nil}
	return sv.send(t, req)
}

func (s *suite) checksum(t *testing.T) {
	sv := s.start(t, defaultConfig())

	t.Run("E48_CS2_O4_options_lists_lowercase_algorithms_including_sha1", func(t *testing.T) {
		r := sv.do(t, http.MethodOptions, basePath, nil, nil)
		wantList(t, r, "Tus-Checksum-Algorithm", checksumAlgorithms...)
		v := r.get("Tus-Checksum-Algorithm")
		if v != strings.ToLower(v) {
			t.Errorf("Tus-Checksum-Algorithm %q has uppercase names", v)
		}
		wantList(t, r, "Tus-Extension", "checksum", "checksum-trailer")
	})

	t.Run("E49_CS4_correct_checksum_is_204_for_every_algorithm", func(t *testing.T) {
		data := payload(5000, 49)
		for _, alg := range checksumAlgorithms {
			url := sv.create(t, int64(len(data)))
			sv.patchOK(t, url, 0, data[:1700], "Upload-Checksum", checksumHeader(t, alg, data[:1700]))
			sv.patchOK(t, url, 1700, data[1700:], "Upload-Checksum", checksumHeader(t, alg, data[1700:]))
			sv.wantContent(t, url, data)
		}
	})

	t.Run("E50_CS5_CS6_checksum_mismatch_is_460_offset_unchanged_and_retry_succeeds", func(t *testing.T) {
		for _, alg := range checksumAlgorithms {
			url := sv.create(t, 10)
			sv.patchOK(t, url, 0, []byte("abcd"))
			r := sv.patch(t, url, 4, []byte("efghij"), "Upload-Checksum", checksumHeader(t, alg, []byte("EFGHIJ")))
			wantStatus(t, r, 460)
			sv.wantOffset(t, url, 4)
			sv.patchOK(t, url, 4, []byte("efghij"), "Upload-Checksum", checksumHeader(t, alg, []byte("efghij")))
			sv.wantContent(t, url, []byte("abcdefghij"))
		}
	})

	t.Run("E51_CS4_unsupported_algorithm_is_400_offset_unchanged", func(t *testing.T) {
		url := sv.create(t, 4)
		for _, v := range []string{"md9 AAAA", "sha3 " + base64.StdEncoding.EncodeToString(make([]byte, 32))} {
			r := sv.patch(t, url, 0, []byte("data"), "Upload-Checksum", v)
			if r.status != http.StatusBadRequest {
				t.Errorf("Upload-Checksum %q → %d, want 400", v, r.status)
			}
		}
		sv.wantOffset(t, url, 0)
	})

	t.Run("E52_CS6_malformed_checksum_is_400_offset_unchanged", func(t *testing.T) {
		url := sv.create(t, 4)
		good := checksumHeader(t, "sha1", []byte("data"))
		digest := strings.TrimPrefix(good, "sha1 ")
		for _, v := range []string{
			"sha1xyz",                                // no space
			"sha1" + digest,                          // no space
			"sha1",                                   // no digest
			"sha1 ",                                  // empty digest (trimmed by HTTP)
			"sha1 !!!!",                              // not base64
			"SHA1 " + digest,                         // uppercase name
			"sha1  " + digest,                        // two spaces
			"sha1 " + strings.TrimRight(digest, "="), // unpadded
		} {
			r := sv.patch(t, url, 0, []byte("data"), "Upload-Checksum", v)
			if r.status != http.StatusBadRequest {
				t.Errorf("Upload-Checksum %q → %d, want 400", v, r.status)
			}
		}
		sv.wantOffset(t, url, 0)
		sv.patchOK(t, url, 0, []byte("data"), "Upload-Checksum", good)
	})

	t.Run("E52b_well_formed_digest_of_the_wrong_size_is_a_mismatch_460", func(t *testing.T) {
		url := sv.create(t, 4)
		digest := strings.TrimPrefix(checksumHeader(t, "sha1", []byte("data")), "sha1 ")
		// 15 and 21 bytes: valid base64, but no sha1 digest has that size,
		// so the data cannot match it.
		for _, v := range []string{"sha1 " + digest[:len(digest)-8], "sha1 " + base64.StdEncoding.EncodeToString(make([]byte, 21))} {
			r := sv.patch(t, url, 0, []byte("data"), "Upload-Checksum", v)
			if r.status != 460 {
				t.Errorf("Upload-Checksum %q → %d, want 460", v, r.status)
			}
		}
		sv.wantOffset(t, url, 0)
	})

	t.Run("E53_CS5_interrupted_checksummed_patch_commits_nothing", func(t *testing.T) {
		data := payload(60_000, 53)
		url := sv.create(t, int64(len(data)))
		id := idOf(t, url)
		rc := sv.dial(t)
		rc.writeRequest(t, http.MethodPatch, pathOf(t, url), "Tus-Resumable: 1.0.0", "Content-Type: "+offsetOctet,
			"Upload-Offset: 0", "Content-Length: "+strconv.Itoa(len(data)), "Expect: 100-continue",
			"Upload-Checksum: "+checksumHeader(t, "sha256", data))
		wantStatus(t, rc.readResponse(t, http.MethodPatch), http.StatusContinue)
		rc.write(t, data[:25_000])
		_ = rc.c.Close()
		sv.waitUnlocked(t, id)
		sv.wantOffset(t, url, 0)
		sv.patchOK(t, url, 0, data, "Upload-Checksum", checksumHeader(t, "sha256", data))
		sv.wantContent(t, url, data)
	})

	t.Run("E55_CT3_valid_checksum_trailer_is_204", func(t *testing.T) {
		data := payload(7000, 55)
		for _, alg := range checksumAlgorithms {
			url := sv.create(t, int64(len(data)))
			r := sv.patchTrailer(t, url, 0, data, checksumHeader(t, alg, data))
			wantStatus(t, r, http.StatusNoContent)
			wantHeader(t, r, "Upload-Offset", "7000")
			sv.wantContent(t, url, data)
		}
	})

	t.Run("E55_CT3_bad_checksum_trailer_is_460_offset_unchanged", func(t *testing.T) {
		data := payload(7000, 551)
		url := sv.create(t, int64(len(data)))
		sv.patchOK(t, url, 0, data[:1000])
		r := sv.patchTrailer(t, url, 1000, data[1000:], checksumHeader(t, "sha1", data[:1000]))
		wantStatus(t, r, 460)
		sv.wantOffset(t, url, 1000)
		r = sv.patchTrailer(t, url, 1000, data[1000:], checksumHeader(t, "sha1", data[1000:]))
		wantStatus(t, r, http.StatusNoContent)
		sv.wantContent(t, url, data)
	})

	t.Run("E55_announced_trailer_missing_or_malformed_is_400_offset_unchanged", func(t *testing.T) {
		url := sv.create(t, 4)
		wantStatus(t, sv.patchTrailer(t, url, 0, []byte("data"), ""), http.StatusBadRequest)
		wantStatus(t, sv.patchTrailer(t, url, 0, []byte("data"), "md9 AAAA"), http.StatusBadRequest)
		sv.wantOffset(t, url, 0)
	})
}
