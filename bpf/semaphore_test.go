package bpf

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"

	"github.com/usdtkit/usdtkit/bpf/bpftest"
	"github.com/usdtkit/usdtkit/elf"
)

var semaphoreReads = map[string][]ArgRead{
	"net:inbound_message":        {{}, {Kind: ReadString}, {Kind: ReadString}, {Kind: ReadString}, {}, {Kind: ReadBytes, LenArg: 5}},
	"validation:block_connected": {{Kind: ReadBytes, MaxLen: 32}},
	"mempool:added":              {{Kind: ReadBytes, MaxLen: 32}},
}

func TestSemaphores(t *testing.T) {
	bin := build(t, "semaphores")
	out, err := exec.Command(bin, "4").Output()
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 0 {
		t.Fatalf("guarded tracepoints fired without a tracer:\n%s", out)
	}
	f := openELF(t, bin)
	for _, p := range f.Probes {
		if p.Semaphore == nil {
			t.Fatalf("%s has no semaphore", p.ID())
		}
	}
	r := trace(t, bin, []string{"8"}, Options{File: f, Reads: semaphoreReads})
	compare(t, f, r)
	if len(r.events) != 8*4 {
		t.Errorf("%d events, want %d", len(r.events), 8*4)
	}
	for _, tp := range r.stats.Tracepoints {
		want := []uint64{8}
		if tp.Probe == "mempool:added" {
			want = []uint64{8, 8}
		}
		if tp.Hits != 8*uint64(len(want)) || len(tp.CallSites) != len(want) || tp.CallSites[0] != 8 || tp.CallSites[len(want)-1] != 8 {
			t.Errorf("%s: %d hits, by call site %v; want %v", tp.Probe, tp.Hits, tp.CallSites, want)
		}
	}
	if r.stats.Lost != 0 || r.stats.ReadFailures != 0 {
		t.Errorf("stats %+v", r.stats)
	}
}

// TestSemaphoreCounts attaches to a running process, system-wide, and
// follows the semaphores in its memory: 0, then one per call site while
// attached, then 0 again.
func TestSemaphoreCounts(t *testing.T) {
	bpftest.Require(t)
	bin := build(t, "semaphores")
	f := openELF(t, bin)
	cmd := exec.Command(bin, "-i")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer stdin.Close()
	lines := bufio.NewScanner(stdout)
	// step runs one iteration and returns the hits it printed and the
	// block_connected semaphore as the program saw it.
	step := func() ([]string, string) {
		t.Helper()
		if _, err := io.WriteString(stdin, "\n"); err != nil {
			t.Fatal(err)
		}
		var hits []string
		for lines.Scan() {
			if v, ok := strings.CutPrefix(lines.Text(), "end\t"); ok {
				return hits, v
			}
			hits = append(hits, lines.Text())
		}
		t.Fatalf("fixture ended: %v", lines.Err())
		return nil, ""
	}
	// Start returns once the exec is past its point of no return, which
	// is before the kernel has mapped the new program: its mappings may
	// not be there yet.
	var objs []*elf.Object
	for deadline := time.Now().Add(5 * time.Second); len(objs) == 0 || !objs[0].Executable; time.Sleep(time.Millisecond) {
		if objs, err = elf.ProcessObjects(cmd.Process.Pid); err != nil {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("process %d maps no executable after 5 s", cmd.Process.Pid)
		}
	}
	obj := objs[0]
	sems := func() map[string]uint16 {
		t.Helper()
		m := map[string]uint16{}
		for _, p := range f.Probes {
			v, err := obj.ReadSemaphore(p.Semaphore)
			if err != nil {
				t.Fatal(err)
			}
			m[p.ID()] = v
		}
		return m
	}
	want := func(what string, got map[string]uint16, n uint16) {
		t.Helper()
		for _, p := range f.Probes {
			w := n * uint16(len(p.CallSites))
			if got[p.ID()] != w {
				t.Errorf("%s: semaphore of %s is %d, want %d", what, p.ID(), got[p.ID()], w)
			}
		}
	}

	if hits, sem := step(); len(hits) != 0 || sem != "0" {
		t.Fatalf("before attaching: hits %q, semaphore %s", hits, sem)
	}
	want("before attaching", sems(), 0)

	sess, err := Attach(context.Background(), Options{File: f, Reads: semaphoreReads})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	want("attached", sems(), 1)
	hits, sem := step()
	if len(hits) != 4 || sem != "1" {
		t.Errorf("attached: hits %q, semaphore %s", hits, sem)
	}
	if err := sess.Detach(); err != nil {
		t.Fatal(err)
	}
	n := 0
	for ev := range sess.Events() {
		if ev.PID != cmd.Process.Pid {
			continue
		}
		n++
	}
	if n != 4 {
		t.Errorf("%d events, want 4", n)
	}
	want("detached", sems(), 0)
	if hits, sem := step(); len(hits) != 0 || sem != "0" {
		t.Errorf("after detaching: hits %q, semaphore %s", hits, sem)
	}
	if err := sess.Close(); err != nil {
		t.Fatal(err)
	}
	want("closed", sems(), 0)
}

// TestCloseLeavesNothing checks that after Close no program, link or map
// of the session is left in the kernel and no file descriptor is left
// open, in every mode.
func TestCloseLeavesNothing(t *testing.T) {
	bpftest.Require(t)
	bin := build(t, "semaphores")
	f := openELF(t, bin)
	for _, mode := range []Mode{ModeUprobeMulti, ModeUprobe, ModeProgramPerSite} {
		t.Run(mode.String(), func(t *testing.T) {
			fds := openFDs(t)
			sess, err := Attach(context.Background(), Options{File: f, Mode: mode, Reads: semaphoreReads})
			if err != nil {
				t.Fatal(err)
			}
			progs, links, maps := sess.kernelIDs(t)
			if len(progs) == 0 || len(links) == 0 || len(maps) != 2 {
				t.Fatalf("%d programs, %d links, %d maps", len(progs), len(links), len(maps))
			}
			if err := sess.Close(); err != nil {
				t.Fatal(err)
			}
			// The kernel frees programs and maps after an RCU grace period.
			gone := func(what string, exists func() bool) {
				t.Helper()
				for deadline := time.Now().Add(5 * time.Second); exists(); time.Sleep(10 * time.Millisecond) {
					if time.Now().After(deadline) {
						t.Errorf("%s is still in the kernel", what)
						return
					}
				}
			}
			for _, id := range progs {
				gone(fmt.Sprintf("program %d", id), func() bool {
					p, err := ebpf.NewProgramFromID(id)
					if err == nil {
						p.Close()
					}
					return err == nil
				})
			}
			for _, id := range links {
				gone(fmt.Sprintf("link %d", id), func() bool {
					l, err := link.NewFromID(id)
					if err == nil {
						l.Close()
					}
					return err == nil
				})
			}
			for _, id := range maps {
				gone(fmt.Sprintf("map %d", id), func() bool {
					m, err := ebpf.NewMapFromID(id)
					if err == nil {
						m.Close()
					}
					return err == nil
				})
			}
			if after := openFDs(t); after != fds {
				t.Errorf("%d open file descriptors before, %d after", fds, after)
			}
			if _, ok := <-sess.Events(); ok {
				t.Error("Events is open after Close")
			}
			if err := sess.Close(); err != nil {
				t.Errorf("second Close: %v", err)
			}
		})
	}
}

func openFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// kernelIDs returns the ids of the session's programs, links and maps.
func (s *Session) kernelIDs(t *testing.T) (progs []ebpf.ProgramID, links []link.ID, maps []ebpf.MapID) {
	t.Helper()
	for _, p := range s.progs {
		info, err := p.Info()
		if err != nil {
			t.Fatal(err)
		}
		id, _ := info.ID()
		progs = append(progs, id)
	}
	for _, l := range s.links {
		info, err := l.Info()
		if err != nil {
			t.Fatal(err)
		}
		links = append(links, info.ID)
	}
	for _, m := range []*ebpf.Map{s.ring, s.counters} {
		info, err := m.Info()
		if err != nil {
			t.Fatal(err)
		}
		id, _ := info.ID()
		maps = append(maps, id)
	}
	return progs, links, maps
}
