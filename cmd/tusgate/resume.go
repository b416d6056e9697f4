package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tusgate/tusgate/client"
)

// Bounds of the resume store, so it never grows without end.
const (
	resumeMaxEntries = 1000
	resumeMaxAge     = 30 * 24 * time.Hour
	fingerprintHead  = 1 << 20
)

// resumeStore remembers upload URLs by file fingerprint in one small JSON
// file. Several tusgate processes may share it: every change is a locked
// read-modify-write and an atomic rename.
type resumeStore struct {
	path string
}

type resumeEntry struct {
	client.Resume
	File     string    `json:"file"`
	Endpoint string    `json:"endpoint"`
	Updated  time.Time `json:"updated"`
}

// defaultResumePath is under the user's cache directory.
func defaultResumePath() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		dir = os.TempDir()
	}
	return filepath.Join(dir, "tusgate", "uploads.json")
}

// fingerprint identifies a file's content cheaply: path, size, modification
// time and a hash of its first MiB, for one endpoint and parallelism.
func fingerprint(f *os.File, info fs.FileInfo, endpoint string, parallel int) (string, error) {
	abs, err := filepath.Abs(f.Name())
	if err != nil {
		return "", fmt.Errorf("fingerprint: %w", err)
	}
	h := sha256.New()
	for _, s := range []string{abs, strconv.FormatInt(info.Size(), 10),
		strconv.FormatInt(info.ModTime().UnixNano(), 10), endpoint, strconv.Itoa(parallel)} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	if _, err := io.Copy(h, io.NewSectionReader(f, 0, fingerprintHead)); err != nil {
		return "", fmt.Errorf("fingerprint %s: %w", abs, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func (s *resumeStore) get(key string) (client.Resume, bool, error) {
	var out resumeEntry
	var found bool
	err := s.update(func(m map[string]resumeEntry) bool {
		out, found = m[key]
		return false
	})
	return out.Resume, found, err
}

func (s *resumeStore) put(key string, e resumeEntry) error {
	e.Updated = time.Now()
	return s.update(func(m map[string]resumeEntry) bool {
		m[key] = e
		return true
	})
}

func (s *resumeStore) remove(key string) error {
	return s.update(func(m map[string]resumeEntry) bool {
		_, ok := m[key]
		delete(m, key)
		return ok
	})
}

// update runs fn on the store's contents under an exclusive lock and writes
// them back when fn reports a change.
func (s *resumeStore) update(fn func(map[string]resumeEntry) bool) error {
	if err := os.MkdirAll(filepath.Dir(s.path), 0o700); err != nil {
		return fmt.Errorf("resume store: %w", err)
	}
	lock, err := os.OpenFile(s.path+".lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return fmt.Errorf("resume store: %w", err)
	}
	defer lock.Close()
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX); err != nil {
		return fmt.Errorf("resume store: lock: %w", err)
	}
	m := map[string]resumeEntry{}
	b, err := os.ReadFile(s.path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return fmt.Errorf("resume store: %w", err)
	default:
		// A damaged file only costs the resumes it held.
		_ = json.Unmarshal(b, &m)
	}
	if !fn(m) {
		return nil
	}
	prune(m, time.Now())
	b, err = json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("resume store: %w", err)
	}
	tmp := s.path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("resume store: %w", err)
	}
	if err := os.Rename(tmp, s.path); err != nil {
		return fmt.Errorf("resume store: %w", err)
	}
	return nil
}

// prune drops old entries and keeps at most resumeMaxEntries, newest first.
func prune(m map[string]resumeEntry, now time.Time) {
	keys := make([]string, 0, len(m))
	for k, e := range m {
		if now.Sub(e.Updated) > resumeMaxAge {
			delete(m, k)
			continue
		}
		keys = append(keys, k)
	}
	if len(keys) <= resumeMaxEntries {
		return
	}
	sort.Slice(keys, func(i, j int) bool { return m[keys[i]].Updated.After(m[keys[j]].Updated) })
	for _, k := range keys[resumeMaxEntries:] {
		delete(m, k)
	}
}
