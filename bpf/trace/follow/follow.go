// Package follow follows a binary through its rebuilds: it notices each
// complete build that replaces it (a linker or install renaming a new
// file into place, cp writing over it, make clean and a new build), says
// when other watched files change (the doc, the sources), and, when asked,
// attaches every new build before it detaches the one before, restarting
// the traced command on each.
//
// It reads each build once, through one open file, and attaches that
// same file (/proc/self/fd/N), so that what was read is what is traced.
package follow

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/usdtkit/usdtkit/bpf/trace"
	"github.com/usdtkit/usdtkit/bpf/trace/text"
	"github.com/usdtkit/usdtkit/docs/contract"
	"github.com/usdtkit/usdtkit/elf"
)

// How a build is recognised as complete, and how long edits to the other
// watched files are gathered before Changed is called.
const (
	stableGap    = 20 * time.Millisecond // between the two reads of a build
	settleGap    = 20 * time.Millisecond // after the last event on the binary
	readRetries  = 100                   // reads of an incomplete build before waiting for events
	changeSettle = 50 * time.Millisecond
	cmdStopGrace = 5 * time.Second
	dirPollEvery = 100 * time.Millisecond // while the binary's directory is gone
)

// Options say what to follow and what to do with each build.
type Options struct {
	// Binary is the file to follow, as given: messages name it so.
	Binary string
	// Files are other files whose changes call Changed; Trees are
	// directories whose C and C++ files (and new subdirectories) do.
	Files []string
	Trees []string
	// Attach attaches every build as Trace says, with the contract Join
	// gives for it.
	Attach bool
	Trace  trace.Options
	Join   func(b *elf.Build) (*contract.Contract, error)

	// Build is called for every new build, with the one before (nil at
	// first); Changed when the other files changed; Event for every event
	// of an attached build, and Idle when no event is waiting.
	Build   func(n int, b, prev *elf.Build)
	Changed func()
	Event   func(*trace.Event)
	Idle    func()
	// Log takes the messages for people: attached, detached and their
	// summaries, waiting for the binary.
	Log io.Writer
}

// attachment is one build's session, live until its events are drained.
type attachment struct {
	n      int
	build  *elf.Build
	s      *trace.Session
	ending bool
}

// news comes from an attachment's goroutines: an event, the end of its
// events, or the end of its command.
type news struct {
	a      *attachment
	ev     *trace.Event
	closed bool
	exited bool
}

type follower struct {
	o      Options
	bin    string // absolute
	trees  []string
	files  map[string]bool
	fsw    *fsnotify.Watcher
	cur    *elf.Build
	builds int
	gone   bool
	live   []*attachment
	news   chan news
	quit   chan struct{}
}

// Run follows the binary until ctx is done, then detaches every build,
// hands on the events still in their ring buffers with their summaries,
// and ends their commands.
func Run(ctx context.Context, o Options) error {
	f := &follower{o: o, files: map[string]bool{}, news: make(chan news, 1024), quit: make(chan struct{})}
	var err error
	if f.bin, err = filepath.Abs(o.Binary); err != nil {
		return err
	}
	if f.fsw, err = fsnotify.NewWatcher(); err != nil {
		return fmt.Errorf("watch %s: %w", o.Binary, err)
	}
	defer f.fsw.Close()
	defer close(f.quit)
	if err := f.fsw.Add(filepath.Dir(f.bin)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("watch %s: %w", filepath.Dir(o.Binary), err)
	}
	for _, p := range o.Files {
		abs, err := filepath.Abs(p)
		if err != nil {
			return err
		}
		f.files[abs] = true
		if filepath.Dir(abs) != filepath.Dir(f.bin) {
			if err := f.fsw.Add(filepath.Dir(abs)); err != nil {
				return fmt.Errorf("watch %s: %w", p, err)
			}
		}
	}
	for _, p := range o.Trees {
		abs, err := filepath.Abs(p)
		if err != nil {
			return err
		}
		if err := f.addTree(abs); err != nil {
			return fmt.Errorf("watch %s: %w", p, err)
		}
		f.trees = append(f.trees, abs)
	}
	return f.loop(ctx)
}

// addTree watches dir and every directory below it but hidden ones.
func (f *follower) addTree(dir string) error {
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == dir {
				return err
			}
			return nil
		}
		if !d.IsDir() {
			return nil
		}
		if p != dir && strings.HasPrefix(d.Name(), ".") {
			return filepath.SkipDir
		}
		return f.fsw.Add(p)
	})
}

func (f *follower) logf(format string, v ...any) { fmt.Fprintf(f.o.Log, "usdtkit: "+format+"\n", v...) }

func (f *follower) loop(ctx context.Context) error {
	dir := filepath.Dir(f.bin)
	var dirPoll *time.Ticker // while the binary's directory is gone
	var dirPolls <-chan time.Time
	defer func() {
		if dirPoll != nil {
			dirPoll.Stop()
		}
	}()
	binTimer := time.NewTimer(0) // read the binary as it is now
	changeTimer := time.NewTimer(time.Hour)
	changeTimer.Stop()
	defer binTimer.Stop()
	defer changeTimer.Stop()
	retries := 0
	changed := time.Now() // the first event since the last build was read
	for {
		select {
		case <-ctx.Done():
			f.stopAll()
			return nil
		case err, ok := <-f.fsw.Errors:
			if !ok {
				break
			}
			f.logf("watch: %v", err)
			if errors.Is(err, fsnotify.ErrEventOverflow) {
				// Events were lost: look at everything again.
				binTimer.Reset(settleGap)
				if f.o.Changed != nil {
					changeTimer.Reset(changeSettle)
				}
			}
		case ev, ok := <-f.fsw.Events:
			if !ok {
				f.stopAll()
				return errors.New("watch: the file system watcher stopped")
			}
			switch {
			case ev.Name == f.bin || ev.Name == dir:
				// The binary changed, or its directory went (make clean
				// removes the file first, so the read that followed may
				// have found the directory still there): read it again.
				if changed.IsZero() {
					changed = time.Now()
				}
				retries = 0
				binTimer.Reset(settleGap)
			case f.files[ev.Name] || f.inTrees(ev):
				if f.o.Changed != nil {
					changeTimer.Reset(changeSettle)
				}
			}
		case <-binTimer.C:
			b, err := elf.ReadBuild(f.bin, stableGap)
			switch {
			case errors.Is(err, fs.ErrNotExist):
				if _, err := os.Stat(dir); err != nil && dirPoll == nil {
					// The directory is gone (make clean). Its inotify watch
					// is dead even when no event said so (an attached
					// uprobe pins the old directory), so look for the
					// directory until it is back, then watch it again.
					f.fsw.Remove(dir)
					dirPoll = time.NewTicker(dirPollEvery)
					dirPolls = dirPoll.C
				}
				if !f.gone {
					f.gone = true
					f.logf("%s is not there; waiting for it", f.o.Binary)
				}
				changed = time.Time{}
			case err != nil && !errors.Is(err, elf.ErrIncomplete) && !isELFProblem(err):
				// Not a file that a build can become (a FIFO, a
				// directory): say so, and wait for the next change.
				f.logf("%s; waiting for the next change", strings.ReplaceAll(err.Error(), f.bin, f.o.Binary))
				changed = time.Time{}
			case err != nil:
				if retries++; retries < readRetries {
					binTimer.Reset(settleGap)
				} else {
					f.logf("%s: %v; waiting for the next change", f.o.Binary, err)
					changed = time.Time{}
				}
			case b.Same(f.cur):
				changed = time.Time{}
			default:
				f.gone = false
				f.newBuild(ctx, b, changed)
				changed = time.Time{}
			}
		case <-dirPolls:
			if f.fsw.Add(dir) == nil {
				dirPoll.Stop()
				dirPoll, dirPolls = nil, nil
				changed = time.Now()
				binTimer.Reset(0)
			}
		case <-changeTimer.C:
			f.o.Changed()
		case n := <-f.news:
			f.handle(n)
		}
	}
}

// isELFProblem reports whether err is about the file's contents, which
// a linker still writing it may fix: not an ELF file yet, a table cut off.
func isELFProblem(err error) bool {
	var fe *elf.FormatError
	return errors.Is(err, elf.ErrNotELF) || errors.As(err, &fe) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF)
}

// inTrees reports whether ev is about a watched tree: a C or C++ file, or
// a new directory, which is watched from now on.
func (f *follower) inTrees(ev fsnotify.Event) bool {
	for _, t := range f.trees {
		if !strings.HasPrefix(ev.Name, t+string(filepath.Separator)) {
			continue
		}
		if ev.Has(fsnotify.Create) {
			if st, err := os.Lstat(ev.Name); err == nil && st.IsDir() {
				f.addTree(ev.Name)
				return true
			}
		}
		switch strings.ToLower(filepath.Ext(ev.Name)) {
		case ".c", ".cc", ".cpp", ".cxx", ".h", ".hh", ".hpp", ".hxx", ".ipp", ".inc":
			return true
		}
	}
	return false
}

// newBuild reports the build and attaches it.
func (f *follower) newBuild(ctx context.Context, b *elf.Build, changed time.Time) {
	f.builds++
	b.File.Path = f.o.Binary
	if f.o.Build != nil {
		f.o.Build(f.builds, b, f.cur)
	}
	f.cur = b
	if f.o.Attach {
		f.attach(ctx, f.builds, b, changed)
	}
}

// attach attaches the new build, then ends the attachments of earlier
// builds. An earlier build on the same inode (written over in place) is
// detached first: its call sites may not be where they were.
func (f *follower) attach(ctx context.Context, n int, b *elf.Build, changed time.Time) {
	for _, a := range f.live {
		if a.build.Dev == b.Dev && a.build.Ino == b.Ino {
			f.end(a)
		}
	}
	if len(f.o.Trace.Command) > 0 {
		for _, a := range f.live {
			f.end(a)
		}
		f.waitCommands()
	}
	// Attach through an open descriptor: the build that was read, even if
	// another one is renamed into place meanwhile.
	file, err := os.OpenFile(f.bin, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		f.logf("build %d: %v", n, err)
		return
	}
	defer file.Close()
	if st, err := file.Stat(); err != nil || st.Sys().(*syscall.Stat_t).Ino != b.Ino {
		f.logf("build %d was replaced before it was attached", n)
		return
	}
	c, err := f.o.Join(b)
	if err != nil {
		f.logf("build %d: %v", n, err)
		return
	}
	o := f.o.Trace
	o.Contract, o.Path = c, fmt.Sprintf("/proc/self/fd/%d", file.Fd())
	s, err := trace.Start(ctx, o)
	if err != nil {
		f.logf("build %d: %s; nothing attached", n, strings.ReplaceAll(err.Error(), o.Path, f.o.Binary))
		for _, a := range f.live {
			f.end(a)
		}
		return
	}
	sites := 0
	for _, tp := range s.Tracepoints {
		sites += len(tp.Probe.CallSites)
	}
	a := &attachment{n: n, build: b, s: s}
	f.logf("build %d: attached %s (%s) %s after the change", n, count(len(s.Tracepoints), "tracepoint"), count(sites, "call site"), time.Since(changed).Round(time.Microsecond))
	for _, old := range f.live {
		f.end(old)
	}
	f.live = append(f.live, a)
	go func() {
		for ev := range s.Events() {
			select {
			case f.news <- news{a: a, ev: s.Wrap(ev)}:
			case <-f.quit:
				return
			}
		}
		select {
		case f.news <- news{a: a, closed: true}:
		case <-f.quit:
		}
	}()
	if s.Ended() != nil {
		go func() {
			<-s.Ended()
			select {
			case f.news <- news{a: a, exited: true}:
			case <-f.quit:
			}
		}()
	}
}

// end detaches a: events already in its ring are still handed on, then
// its summary is written. Its command, if still running, is asked to stop.
func (f *follower) end(a *attachment) {
	if a.ending {
		return
	}
	a.ending = true
	a.s.Detach()
	a.s.Signal(syscall.SIGTERM)
}

// waitCommands waits for the commands of ending attachments to exit,
// killing those that outlast the grace period.
func (f *follower) waitCommands() {
	deadline := time.After(cmdStopGrace)
	for _, a := range f.live {
		if a.s.Ended() == nil {
			continue
		}
		select {
		case <-a.s.Ended():
		case <-deadline:
			a.s.Signal(syscall.SIGKILL)
			<-a.s.Ended()
		}
	}
}

func (f *follower) handle(n news) {
	a := n.a
	switch {
	case n.exited:
		status := "exited"
		if err := a.s.CommandErr(); err != nil {
			status = err.Error()
		} else if st := a.s.Command().ProcessState; st != nil {
			status = st.String()
		}
		f.logf("build %d: %s: %s; waiting for the next build", a.n, f.o.Trace.Command[0], status)
	case n.closed:
		if f.o.Idle != nil {
			f.o.Idle()
		}
		a.s.Close()
		f.logf("build %d detached", a.n)
		text.Summary(f.o.Log, a.s.Stats(), false)
		for i, l := range f.live {
			if l == a {
				f.live = append(f.live[:i], f.live[i+1:]...)
				break
			}
		}
	default:
		if f.o.Event != nil {
			f.o.Event(n.ev)
		}
		if len(f.news) == 0 && f.o.Idle != nil {
			f.o.Idle()
		}
	}
}

// stopAll detaches every build, hands on what was still in the rings and
// writes the summaries, and ends the commands.
func (f *follower) stopAll() {
	for _, a := range f.live {
		f.end(a)
	}
	f.waitCommands()
	for len(f.live) > 0 {
		f.handle(<-f.news)
	}
}

// count is n things, singular for one.
func count(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}
