package main

import (
	"bufio"
	"bytes"
	"context"
	goelf "debug/elf"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/usdtkit/usdtkit/elf"
	"github.com/usdtkit/usdtkit/elf/elftest"
)

// note is one stapsdt note as both readelf and usdtkit list --json report it.
type note struct {
	Provider, Name            string
	Location, Base, Semaphore uint64
	Args                      string
}

func (n note) String() string {
	return fmt.Sprintf("%s:%s@%#x base %#x sem %#x %q", n.Provider, n.Name, n.Location, n.Base, n.Semaphore, n.Args)
}

// readelfNotes runs readelf -n and collects its stapsdt notes.
func readelfNotes(t *testing.T, path string) []note {
	t.Helper()
	out, err := exec.Command("readelf", "-n", "--wide", path).Output()
	if err != nil {
		t.Fatalf("readelf -n %s: %v", path, err)
	}
	var notes []note
	var cur *note
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "stapsdt "):
			notes = append(notes, note{})
			cur = &notes[len(notes)-1]
			// With --wide the provider follows on the same line.
			if _, p, ok := strings.Cut(line, "Provider: "); ok {
				cur.Provider = p
			}
		case cur == nil:
		case strings.HasPrefix(line, "Provider: "):
			cur.Provider = strings.TrimPrefix(line, "Provider: ")
		case strings.HasPrefix(line, "Name: "):
			cur.Name = strings.TrimPrefix(line, "Name: ")
		case strings.HasPrefix(line, "Location: "):
			for _, f := range strings.Split(line, ", ") {
				k, v, _ := strings.Cut(f, ": ")
				n, err := strconv.ParseUint(strings.TrimPrefix(v, "0x"), 16, 64)
				if err != nil {
					t.Fatalf("readelf line %q: %v", line, err)
				}
				switch k {
				case "Location":
					cur.Location = n
				case "Base":
					cur.Base = n
				case "Semaphore":
					cur.Semaphore = n
				}
			}
		case strings.HasPrefix(line, "Arguments:"):
			// readelf prints the string as stored; list keeps it exactly too.
			cur.Args = strings.TrimPrefix(strings.TrimPrefix(sc.Text()[strings.Index(sc.Text(), "Arguments:"):], "Arguments:"), " ")
		default:
			cur = nil
		}
	}
	return notes
}

// listNotes runs usdtkit list --json and flattens its call sites to notes.
func listNotes(t *testing.T, path string) []note {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), &IOStreams{Out: &out, ErrOut: &errOut}, []string{"list", "--json", path})
	if code != 0 {
		t.Fatalf("usdtkit list --json %s: exit %d: %s", path, code, errOut.String())
	}
	var tps []elf.ProbeJSON
	if err := json.Unmarshal(out.Bytes(), &tps); err != nil {
		t.Fatalf("usdtkit list --json %s: %v", path, err)
	}
	var notes []note
	for _, tp := range tps {
		for _, cs := range tp.CallSites {
			n := note{Provider: tp.Provider, Name: tp.Name, Location: cs.Location, Base: cs.Base, Args: cs.ArgsRaw}
			if tp.Semaphore != nil {
				n.Semaphore = tp.Semaphore.Address
			}
			if len(cs.Args) != len(strings.Fields(cs.ArgsRaw)) && !strings.Contains(cs.ArgsRaw, "[") {
				t.Errorf("%s %s: %d decoded args for %q", path, tp.Name, len(cs.Args), cs.ArgsRaw)
			}
			notes = append(notes, n)
		}
	}
	return notes
}

func sortNotes(n []note) {
	sort.Slice(n, func(i, j int) bool { return n[i].String() < n[j].String() })
}

// realBinaries finds the ELF files on this machine that carry stapsdt notes,
// in the directories where Debian installs programs and libraries.
func realBinaries(t *testing.T) []string {
	var found []string
	for _, root := range []string{"/usr/bin", "/usr/sbin", "/usr/lib", "/usr/libexec"} {
		filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() {
				return nil
			}
			if hasStapsdt(path) {
				found = append(found, path)
			}
			return nil
		})
	}
	return found
}

func hasStapsdt(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	var magic [4]byte
	if _, err := f.ReadAt(magic[:], 0); err != nil || string(magic[:]) != goelf.ELFMAG {
		return false
	}
	ef, err := goelf.NewFile(f)
	if err != nil {
		return false
	}
	return ef.Section(".note.stapsdt") != nil
}

// TestReadelfOracle checks that list --json reports exactly the notes
// readelf -n prints, for every fixture and every real binary with notes
// found on the machine.
func TestReadelfOracle(t *testing.T) {
	if _, err := exec.LookPath("readelf"); err != nil {
		elftest.Unavailable(t, "readelf not installed (binutils)")
	}
	var paths []string
	for _, fx := range elftest.Fixtures {
		paths = append(paths, elftest.Path(t, fx.Name))
	}
	real := realBinaries(t)
	paths = append(paths, real...)
	// The binaries the corpus must include: the make test set-up installs them.
	for _, want := range []string{"libstdc++.so.6", "python3.11", "postgres", "libjvm.so"} {
		ok := false
		for _, p := range real {
			if strings.HasSuffix(p, "/"+want) || strings.Contains(filepath.Base(p), want) {
				ok = true
			}
		}
		if !ok {
			elftest.Unavailable(t, "no "+want+" with notes on this machine (make test installs it)")
		}
	}
	t.Logf("%d files: %d fixtures, %d real binaries", len(paths), len(elftest.Fixtures), len(real))
	total := 0
	for _, p := range paths {
		want, got := readelfNotes(t, p), listNotes(t, p)
		sortNotes(want)
		sortNotes(got)
		if len(want) != len(got) {
			t.Errorf("%s: readelf has %d notes, list %d", p, len(want), len(got))
			continue
		}
		for i := range want {
			if want[i] != got[i] {
				t.Errorf("%s: note %d:\nreadelf %v\nlist    %v", p, i, want[i], got[i])
				break
			}
		}
		total += len(want)
	}
	t.Logf("%d notes agree", total)
}
