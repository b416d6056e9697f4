package protocol

import (
	"context"
	"net/http"
	"testing"
	"time"
)

func (s *suite) expiration(t *testing.T) {
	sv := s.start(t, defaultConfig())

	t.Run("E45_EX2_EX3_post_and_patch_of_unfinished_upload_carry_upload_expires", func(t *testing.T) {
		r := sv.post(t, tus("Upload-Length", "10"), nil)
		wantStatus(t, r, http.StatusCreated)
		exp := wantHTTPDate(t, r, "Upload-Expires")
		if d := time.Until(exp); d < 50*time.Minute || d > 61*time.Minute {
			t.Errorf("Upload-Expires is %v away, want about the configured hour", d)
		}
		url := r.get("Location")
		p := sv.patch(t, url, 0, []byte("abc"))
		wantStatus(t, p, http.StatusNoContent)
		wantHTTPDate(t, p, "Upload-Expires")
		h := sv.head(t, url)
		wantHTTPDate(t, h, "Upload-Expires") // EX-5: allowed on HEAD
		d := sv.createDeferred(t)
		p = sv.patch(t, d, 0, []byte("abc"))
		wantHTTPDate(t, p, "Upload-Expires")
	})

	cfg := defaultConfig()
	cfg.Expiration = time.Second
	short := s.start(t, cfg)
	ctx := context.Background()

	t.Run("E46_EX4_expired_upload_is_410_until_swept_then_404", func(t *testing.T) {
		url := short.create(t, 10)
		short.patchOK(t, url, 0, []byte("abc"))
		waitFor(t, "the upload to expire", func() bool {
			r := short.head(t, url)
			if r.status != http.StatusOK && r.status != http.StatusGone {
				t.Fatalf("HEAD of an expiring upload → %d, want 200 then 410", r.status)
			}
			return r.status == http.StatusGone
		})
		h := short.head(t, url)
		wantStatus(t, h, http.StatusGone)
		wantNoHeader(t, h, "Upload-Offset")
		wantStatus(t, short.patch(t, url, 3, []byte("d")), http.StatusGone)
		if r := short.do(t, http.MethodGet, url, nil, nil); r.status != http.StatusGone && r.status != http.StatusNotFound {
			t.Errorf("GET of an expired upload → %d, want 410 or 404", r.status)
		}
		if _, err := short.gw.Sweep(ctx); err != nil {
			t.Fatalf("Sweep: %v", err)
		}
		wantStatus(t, short.head(t, url), http.StatusNotFound)
		wantStatus(t, short.patch(t, url, 3, []byte("d")), http.StatusNotFound)
		wantStatus(t, short.do(t, http.MethodDelete, url, tus(), nil), http.StatusNotFound)
	})

	t.Run("E46_delete_of_an_expired_upload_is_404_or_410", func(t *testing.T) {
		url := short.create(t, 10)
		waitFor(t, "the upload to expire", func() bool { return short.head(t, url).status == http.StatusGone })
		r := short.do(t, http.MethodDelete, url, tus(), nil)
		if r.status != http.StatusGone && r.status != http.StatusNotFound && r.status != http.StatusNoContent {
			t.Fatalf("DELETE of an expired upload → %d, want 410, 404 or 204", r.status)
		}
	})

	t.Run("E47_finished_uploads_are_not_swept", func(t *testing.T) {
		done := short.upload(t, []byte("kept"))
		wantNoHeader(t, short.head(t, done), "Upload-Expires")
		pending := short.create(t, 10)
		waitFor(t, "the unfinished upload to expire", func() bool { return short.head(t, pending).status == http.StatusGone })
		if _, err := short.gw.Sweep(ctx); err != nil {
			t.Fatalf("Sweep: %v", err)
		}
		wantStatus(t, short.head(t, pending), http.StatusNotFound)
		short.wantOffset(t, done, 4)
		short.wantContent(t, done, []byte("kept"))
	})

	t.Run("EX4_running_sweeper_removes_expired_uploads", func(t *testing.T) {
		cfg := defaultConfig()
		cfg.Expiration = time.Second
		cfg.SweepInterval = 100 * time.Millisecond
		swept := s.start(t, cfg)
		sctx, cancel := context.WithCancel(ctx)
		stopped := make(chan struct{})
		go func() { swept.gw.RunSweeper(sctx); close(stopped) }()
		t.Cleanup(func() { cancel(); <-stopped })
		done := swept.upload(t, []byte("kept"))
		url := swept.create(t, 10)
		waitFor(t, "the sweeper to remove the expired upload", func() bool {
			return swept.head(t, url).status == http.StatusNotFound
		})
		swept.wantContent(t, done, []byte("kept"))
	})
}
