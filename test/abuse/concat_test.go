package abuse

import (
	"bytes"
	"math"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// partial creates a partial upload of the given length; with data the
// bytes are sent too (len(data) must be length).
func partial(t *testing.T, f *fileEnv, length int64, data []byte) string {
	t.Helper()
	if data != nil {
		return create(t, f.p.URL, data, "Upload-Concat", "partial")
	}
	r := send(t, http.MethodPost, f.p.URL, hdr("Upload-Length", strconv.FormatInt(length, 10), "Upload-Concat", "partial"), nil)
	if r.status != http.StatusCreated {
		t.Fatalf("POST partial of %d bytes: status %d, want 201: %s", length, r.status, r.body)
	}
	return r.header.Get("Location")
}

// final asks for a final upload of the partials.
func final(t *testing.T, f *fileEnv, partials ...string) result {
	t.Helper()
	return send(t, http.MethodPost, f.p.URL, hdr("Upload-Concat", "final;"+strings.Join(partials, " ")), nil)
}

// refused checks that a final was refused with want and that nothing was
// created for it: no Location, no new upload counted, no new data file.
func refused(t *testing.T, f *fileEnv, what string, want int, partials ...string) {
	t.Helper()
	refusedBy(t, f, what, want, func() result { return final(t, f, partials...) })
}

// TestAbuse04ConcatenationCannotAmplify refuses finals that would multiply
// writes or lie about their length: a partial listed twice (400), more
// partials than --max-concat-partials (default 100; 400), lengths whose sum
// overflows int64 (413) or exceeds --max-size (413). Nothing is created
// for any of them; the bbolt file holds exactly the uploads that were
// accepted.
func TestAbuse04ConcatenationCannotAmplify(t *testing.T) {
	t.Parallel()
	t.Run("defaults", func(t *testing.T) {
		f := startFile(t)
		records := 0
		a := partial(t, f, KiB, bytes.Repeat([]byte("a"), KiB))
		b := partial(t, f, 10, []byte("bbbbbbbbbb"))
		records += 2

		refused(t, f, "final;A A", http.StatusBadRequest, a, a)
		refused(t, f, "final;A B A", http.StatusBadRequest, a, b, a)
		if r := final(t, f, a, b); r.status != http.StatusCreated {
			t.Errorf("final;A B: status %d, want 201: %s", r.status, r.body)
		} else {
			records++
		}

		// 101 distinct partials are one too many; 100 are fine.
		var many []string
		for range 101 {
			many = append(many, partial(t, f, 1, []byte("x")))
		}
		records += 101
		refused(t, f, "final of 101 partials", http.StatusBadRequest, many...)
		if r := final(t, f, many[:100]...); r.status != http.StatusCreated {
			t.Errorf("final of 100 partials: status %d, want 201: %.300s", r.status, r.body)
		} else {
			records++
		}

		// The overflow: (2^63-1) + (2^63-1) + 3 wrapped to 1.
		huge1 := partial(t, f, math.MaxInt64, nil)
		huge2 := partial(t, f, math.MaxInt64, nil)
		three := partial(t, f, 3, nil)
		records += 3
		refused(t, f, "final of 2^63-1, 2^63-1 and 3 bytes", http.StatusRequestEntityTooLarge, huge1, huge2, three)
		refused(t, f, "final of 2^63-1 and 3 bytes", http.StatusRequestEntityTooLarge, huge1, three)

		f.stop(t)
		if n := len(f.records(t)); n != records {
			t.Errorf("%d records in the state, want the %d uploads that were accepted", n, records)
		}
	})
	t.Run("--max-concat-partials 3 --max-size 4KiB", func(t *testing.T) {
		f := startFile(t, "--max-concat-partials", "3", "--max-size", "4KiB")
		var ps []string
		for i := range 4 {
			ps = append(ps, partial(t, f, KiB, bytes.Repeat([]byte{byte('a' + i)}, KiB)))
		}
		refused(t, f, "final of 4 partials with a cap of 3", http.StatusBadRequest, ps...)
		if r := final(t, f, ps[:3]...); r.status != http.StatusCreated {
			t.Errorf("final of 3 partials with a cap of 3: status %d, want 201: %s", r.status, r.body)
		}
		big := partial(t, f, 3*KiB, nil)
		refused(t, f, "final of 3 KiB + 2 KiB with --max-size 4KiB", http.StatusRequestEntityTooLarge, big, partial(t, f, 2*KiB, nil))
		refused(t, f, "final of 3 KiB + 1 KiB + 1 KiB with --max-size 4KiB", http.StatusRequestEntityTooLarge, big, ps[0], ps[1])

		f.stop(t)
		if n := len(f.records(t)); n != 4+1+2 {
			t.Errorf("%d records in the state, want the 7 uploads that were accepted", n)
		}
	})
}
