package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/spf13/cobra"
	"github.com/usdtkit/usdtkit/bpf"
	"github.com/usdtkit/usdtkit/docs"
	"github.com/usdtkit/usdtkit/docs/audit"
	"github.com/usdtkit/usdtkit/elf"
)

type watchOptions struct {
	IO       *IOStreams
	Binary   string
	Docs     string
	Src      string
	Patterns []string // --attach
	Command  []string // after --
	JSON     bool
	readFlags
}

func newWatchCmd(io *IOStreams, runF func(context.Context, *watchOptions) error) *cobra.Command {
	opts := &watchOptions{IO: io}
	cmd := &cobra.Command{
		Use:   "watch BINARY [--docs FILE] [--src DIR] [--attach PATTERN...] [-- CMD ARGS...]",
		Short: "Diff, re-audit and re-attach on every rebuild",
		Long: `Watch BINARY and, each time a build replaces it (a linker or install
writing a new file and renaming it into place, or cp writing over it), print
how its tracepoints changed: tracepoints added and removed, call sites
added and removed, argument specs changed per call site, semaphores added
and removed. A build is read once it is a complete ELF file whose size
stays the same between two reads 20 ms apart.

With --docs and/or --src, the audit is run again on every build and on
every change to the doc or the source tree, and only the findings that
changed are printed (new or fixed). With --attach, the tracepoints matching
the patterns are attached to each new build without restarting usdtkit:
the new build is attached first, then the previous one is detached, and
events from both are printed as they come. After --, CMD is started on
each build, traced from its first instruction (the previous one is ended
with SIGTERM); without --attach, all its tracepoints are attached.

A deleted BINARY is waited for. Ctrl-C or SIGTERM detaches everything and
ends CMD. Attaching needs root or CAP_BPF+CAP_PERFMON.`,
		Example: `  usdtkit watch build/bin/bitcoind --docs doc/tracing.md --src src
  usdtkit watch build/bin/bitcoind --attach 'net:*' --docs doc/tracing.md
  usdtkit watch build/bin/bitcoind --attach 'validation:*' -- build/bin/bitcoind -regtest`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if at := cmd.ArgsLenAtDash(); at >= 0 {
				opts.Command = args[at:]
				args = args[:at]
			}
			if len(args) != 1 {
				return usagef("watch needs one BINARY (got %d arguments before --)", len(args))
			}
			opts.Binary = args[0]
			for _, p := range opts.Patterns {
				if err := checkPattern(p); err != nil {
					return err
				}
			}
			if err := opts.readFlags.check(); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runWatch(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Docs, "docs", "", "the tracing doc: audit it and decode arguments by its types")
	f.StringVar(&opts.Src, "src", "", "the source tree to audit for TRACEPOINT calls")
	f.StringArrayVar(&opts.Patterns, "attach", nil, "attach the tracepoints matching this glob to every build ('*' for all; repeatable)")
	f.BoolVar(&opts.JSON, "json", false, "print events as one JSON object per line (schema in docs/attach.md)")
	opts.readFlags.add(cmd)
	return cmd
}

// How a build is recognised as complete, and how long edits to the doc or
// the sources are gathered before the audit runs again.
const (
	stableGap    = 20 * time.Millisecond // between the two reads of a build's size
	settleGap    = 20 * time.Millisecond // after the last event on the binary
	readRetries  = 100                   // reads of an incomplete build before waiting for events
	auditSettle  = 50 * time.Millisecond
	cmdStopGrace = 5 * time.Second
	dirPollEvery = 100 * time.Millisecond // while the binary's directory is gone
)

// build is one version of the watched binary, read from an open file so
// that what is diffed is what is attached.
type build struct {
	n       int
	file    *elf.File
	dev     uint64
	ino     uint64
	size    int64
	mtime   time.Time
	changed time.Time // the first event of this build
}

// same reports whether b and o are one build: the same inode holding the
// same build-id (or, without one, the same size and time).
func (b *build) same(o *build) bool {
	if o == nil || b.dev != o.dev || b.ino != o.ino {
		return false
	}
	if b.file.BuildID != "" || o.file.BuildID != "" {
		return b.file.BuildID == o.file.BuildID
	}
	return b.size == o.size && b.mtime.Equal(o.mtime)
}

// attachment is one build's session, live until its events are drained.
type attachment struct {
	build   *build
	setup   *traceSetup
	ss      *session
	printer *eventPrinter
	ending  bool
}

// watchEvent comes from an attachment's goroutines: an event, the end of
// its events, or the end of its command.
type watchEvent struct {
	a      *attachment
	ev     bpf.Event
	closed bool
	exited bool
}

type watcher struct {
	opts *watchOptions
	io   *IOStreams
	bin  string // absolute
	docs string // absolute, "" when not given
	src  string // absolute, "" when not given
	fsw  *fsnotify.Watcher

	cur      *build
	builds   int
	gone     bool
	retries  int
	changed  time.Time // first event since the last build was read
	findings map[string]audit.Finding
	audited  bool

	live   []*attachment
	events chan watchEvent
	quit   chan struct{}
}

func runWatch(ctx context.Context, opts *watchOptions) error {
	var mu sync.Mutex
	w := &watcher{
		opts:   opts,
		io:     &IOStreams{In: opts.IO.In, Out: &lockedWriter{mu: &mu, w: opts.IO.Out}, ErrOut: &lockedWriter{mu: &mu, w: opts.IO.ErrOut}, IsTerminal: opts.IO.IsTerminal},
		events: make(chan watchEvent, 1024),
		quit:   make(chan struct{}),
	}
	var err error
	if w.bin, err = filepath.Abs(opts.Binary); err != nil {
		return err
	}
	if opts.Docs != "" {
		if w.docs, err = filepath.Abs(opts.Docs); err != nil {
			return err
		}
	}
	if opts.Src != "" {
		if w.src, err = filepath.Abs(opts.Src); err != nil {
			return err
		}
	}
	if w.fsw, err = fsnotify.NewWatcher(); err != nil {
		return fmt.Errorf("watch %s: %w", opts.Binary, err)
	}
	defer w.fsw.Close()
	defer close(w.quit)
	if err := w.fsw.Add(filepath.Dir(w.bin)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("watch %s: %w", filepath.Dir(opts.Binary), err)
	}
	if w.docs != "" && filepath.Dir(w.docs) != filepath.Dir(w.bin) {
		if err := w.fsw.Add(filepath.Dir(w.docs)); err != nil {
			return fmt.Errorf("watch %s: %w", opts.Docs, err)
		}
	}
	if w.src != "" {
		if err := w.addTree(w.src); err != nil {
			return fmt.Errorf("watch %s: %w", opts.Src, err)
		}
	}
	return w.loop(ctx)
}

// addTree watches dir and every directory below it but hidden ones.
func (w *watcher) addTree(dir string) error {
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
		return w.fsw.Add(p)
	})
}

func (w *watcher) loop(ctx context.Context) error {
	dir := filepath.Dir(w.bin)
	var dirPoll *time.Ticker // while the binary's directory is gone
	var dirPolls <-chan time.Time
	defer func() {
		if dirPoll != nil {
			dirPoll.Stop()
		}
	}()
	binTimer := time.NewTimer(0) // read the binary as it is now
	auditTimer := time.NewTimer(time.Hour)
	auditTimer.Stop()
	defer binTimer.Stop()
	defer auditTimer.Stop()
	w.changed = time.Now()
	for {
		select {
		case <-ctx.Done():
			w.stopAll()
			return nil
		case err, ok := <-w.fsw.Errors:
			if !ok {
				break
			}
			fmt.Fprintf(w.io.ErrOut, "usdtkit: watch: %v\n", err)
			if errors.Is(err, fsnotify.ErrEventOverflow) {
				// Events were lost: look at everything again.
				binTimer.Reset(settleGap)
				if w.docs != "" || w.src != "" {
					auditTimer.Reset(auditSettle)
				}
			}
		case ev, ok := <-w.fsw.Events:
			if !ok {
				w.stopAll()
				return errors.New("watch: the file system watcher stopped")
			}
			switch {
			case ev.Name == w.bin:
				if w.changed.IsZero() {
					w.changed = time.Now()
				}
				w.retries = 0
				binTimer.Reset(settleGap)
			case ev.Name == w.docs || w.inSources(ev):
				auditTimer.Reset(auditSettle)
			}
		case <-binTimer.C:
			b, err := w.read()
			switch {
			case errors.Is(err, fs.ErrNotExist):
				if _, err := os.Stat(dir); err != nil && dirPoll == nil {
					// The directory is gone (make clean). Its inotify watch
					// is dead even when no event said so (an attached
					// uprobe pins the old directory), so look for the
					// directory until it is back, then watch it again.
					w.fsw.Remove(dir)
					dirPoll = time.NewTicker(dirPollEvery)
					dirPolls = dirPoll.C
				}
				if !w.gone {
					w.gone = true
					fmt.Fprintf(w.io.ErrOut, "usdtkit: %s is not there; waiting for it\n", w.opts.Binary)
				}
				w.changed = time.Time{}
			case err != nil:
				if w.retries++; w.retries < readRetries {
					binTimer.Reset(settleGap)
				} else {
					fmt.Fprintf(w.io.ErrOut, "usdtkit: %s: %v; waiting for the next change\n", w.opts.Binary, err)
					w.changed = time.Time{}
				}
			case b.same(w.cur):
				w.changed = time.Time{}
			default:
				w.gone = false
				w.newBuild(ctx, b)
				w.changed = time.Time{}
			}
		case <-dirPolls:
			if w.fsw.Add(dir) == nil {
				dirPoll.Stop()
				dirPoll, dirPolls = nil, nil
				w.changed = time.Now()
				binTimer.Reset(0)
			}
		case <-auditTimer.C:
			w.audit()
		case we := <-w.events:
			w.handle(we)
		}
	}
}

// inSources reports whether ev is about the source tree: a C or C++ file,
// or a new directory, which is watched from now on.
func (w *watcher) inSources(ev fsnotify.Event) bool {
	if w.src == "" || !strings.HasPrefix(ev.Name, w.src+string(filepath.Separator)) {
		return false
	}
	if ev.Has(fsnotify.Create) {
		if st, err := os.Lstat(ev.Name); err == nil && st.IsDir() {
			w.addTree(ev.Name)
			return true
		}
	}
	switch strings.ToLower(filepath.Ext(ev.Name)) {
	case ".c", ".cc", ".cpp", ".cxx", ".h", ".hh", ".hpp", ".hxx", ".ipp", ".inc":
		return true
	}
	return false
}

var errIncomplete = errors.New("still being written")

// read reads the binary if it is a complete ELF file: its notes parse and
// its size and time are the same in two reads stableGap apart.
func (w *watcher) read() (*build, error) {
	f, err := os.Open(w.bin)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st1, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st1.Mode().IsRegular() {
		return nil, errors.New("not a regular file")
	}
	file, err := elf.NewFile(f)
	if err != nil {
		return nil, err
	}
	if file.BuildIDPending {
		return nil, errIncomplete // the linker fills the build-id last
	}
	time.Sleep(stableGap)
	st2, err := f.Stat()
	if err != nil {
		return nil, err
	}
	now, err := os.Stat(w.bin)
	if err != nil {
		return nil, err
	}
	if st2.Size() != st1.Size() || !st2.ModTime().Equal(st1.ModTime()) || !os.SameFile(st2, now) {
		return nil, errIncomplete
	}
	file.Path = w.bin
	sys := st2.Sys().(*syscall.Stat_t)
	return &build{file: file, dev: uint64(sys.Dev), ino: sys.Ino, size: st2.Size(), mtime: st2.ModTime(), changed: w.changed}, nil
}

// report is where builds, diffs and audit changes go: stdout, or stderr
// with --json, so that stdout holds only JSON events.
func (w *watcher) report() io.Writer {
	if w.opts.JSON {
		return w.io.ErrOut
	}
	return w.io.Out
}

// newBuild prints the diff, re-audits and re-attaches.
func (w *watcher) newBuild(ctx context.Context, b *build) {
	w.builds++
	b.n = w.builds
	id := b.file.BuildID
	if len(id) > 12 {
		id = id[:12]
	}
	if id == "" {
		id = "none"
	}
	fmt.Fprintf(w.report(), "build %d %s: build-id %s, %d tracepoint%s, %d call site%s\n", b.n, w.opts.Binary, id,
		len(b.file.Probes), plural(len(b.file.Probes)), b.file.Notes, plural(b.file.Notes))
	if w.cur != nil {
		changes := elf.Diff(w.cur.file, b.file)
		var lines strings.Builder
		for _, c := range changes {
			lines.WriteString(c.String() + "\n")
		}
		if len(changes) == 0 {
			lines.WriteString("= no tracepoint changes\n")
		}
		io.WriteString(w.report(), lines.String())
	}
	w.cur = b
	if w.docs != "" || w.src != "" {
		w.audit()
	}
	if len(w.opts.Patterns) > 0 || len(w.opts.Command) > 0 {
		w.attach(ctx, b)
	}
}

// audit runs the audit and prints the findings that are new or fixed since
// the last one.
func (w *watcher) audit() {
	if w.cur == nil {
		return
	}
	in := audit.Input{Binaries: []audit.Binary{{Path: w.opts.Binary, File: w.cur.file}}}
	if w.docs != "" {
		doc, err := docs.ParseFile(w.opts.Docs)
		if doc == nil {
			fmt.Fprintf(w.io.ErrOut, "usdtkit: read %s: %v\n", w.opts.Docs, err)
			return
		}
		in.Doc, in.DocPath = doc, w.opts.Docs
	}
	if w.src != "" {
		srcs, problems, err := scanSources(w.opts.Src)
		if err != nil {
			fmt.Fprintf(w.io.ErrOut, "usdtkit: %v\n", err)
			return
		}
		in.Sources, in.SourceProblems, in.SourceGiven = srcs, problems, true
	}
	now := map[string]audit.Finding{}
	for _, f := range audit.Run(in) {
		now[findingKey(f)] = f
	}
	var lines []string
	for k, f := range now {
		if _, ok := w.findings[k]; !ok {
			lines = append(lines, "audit: new   "+findingLine(f))
		}
	}
	for k, f := range w.findings {
		if _, ok := now[k]; !ok {
			lines = append(lines, "audit: fixed "+findingLine(f))
		}
	}
	sort.Strings(lines)
	if !w.audited && len(lines) == 0 {
		lines = append(lines, "audit: no findings")
	}
	w.findings, w.audited = now, true
	if len(lines) > 0 {
		io.WriteString(w.report(), strings.Join(lines, "\n")+"\n")
	}
}

// findingKey identifies a finding across runs: not by line or call site
// address, which move with unrelated edits and every rebuild.
func findingKey(f audit.Finding) string {
	return strings.Join([]string{f.Tracepoint, string(f.Kind), f.Severity.String(), hexAddress().ReplaceAllString(f.Message, "0x")}, "\x00")
}

var hexAddress = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`0x[0-9a-fA-F]+`) })

func findingLine(f audit.Finding) string {
	tp := f.Tracepoint
	if tp == "" {
		tp = "-"
	}
	return fmt.Sprintf("%s %s %s: %s (%s)", tp, f.Severity, f.Kind, f.Message, where(f))
}

// attach attaches the new build, then ends the attachments of earlier
// builds. An earlier build on the same inode (written over in place) is
// detached first: its call sites may not be where they were.
func (w *watcher) attach(ctx context.Context, b *build) {
	for _, a := range w.live {
		if a.build.dev == b.dev && a.build.ino == b.ino {
			w.end(a)
		}
	}
	if len(w.opts.Command) > 0 {
		for _, a := range w.live {
			w.end(a)
		}
		w.waitCommands()
	}
	// Attach through an open descriptor: the build that was read, even if
	// another one is renamed into place meanwhile.
	f, err := os.Open(w.bin)
	if err != nil {
		fmt.Fprintf(w.io.ErrOut, "usdtkit: build %d: %v\n", b.n, err)
		return
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || st.Sys().(*syscall.Stat_t).Ino != b.ino {
		fmt.Fprintf(w.io.ErrOut, "usdtkit: build %d was replaced before it was attached\n", b.n)
		return
	}
	fdPath := fmt.Sprintf("/proc/self/fd/%d", f.Fd())
	s, err := setupTrace(fdPath, w.opts.Docs, w.opts.Patterns, w.opts.Strlen, w.opts.BytesCap, w.opts.Args)
	if err != nil {
		fmt.Fprintf(w.io.ErrOut, "usdtkit: build %d: %s; nothing attached\n", b.n, strings.ReplaceAll(err.Error(), fdPath, w.opts.Binary))
		for _, a := range w.live {
			w.end(a)
		}
		return
	}
	if s.file.BuildID != b.file.BuildID {
		fmt.Fprintf(w.io.ErrOut, "usdtkit: build %d was written over before it was attached\n", b.n)
		return
	}
	s.file.Path = w.bin
	ss, err := startSession(ctx, w.io, s, 0, w.opts.Command)
	if err != nil {
		fmt.Fprintf(w.io.ErrOut, "usdtkit: build %d: %s\n", b.n, strings.ReplaceAll(err.Error(), fdPath, w.opts.Binary))
		return
	}
	a := &attachment{build: b, setup: s, ss: ss, printer: newEventPrinter(w.io, s, w.opts.JSON)}
	fmt.Fprintf(w.io.ErrOut, "usdtkit: build %d: attached %d tracepoints (%d call sites) %s after the change\n",
		b.n, len(s.probes), countSites(s.probes), time.Since(b.changed).Round(time.Microsecond))
	for _, old := range w.live {
		w.end(old)
	}
	w.live = append(w.live, a)
	go func() {
		for ev := range ss.sess.Events() {
			select {
			case w.events <- watchEvent{a: a, ev: ev}:
			case <-w.quit:
				return
			}
		}
		select {
		case w.events <- watchEvent{a: a, closed: true}:
		case <-w.quit:
		}
	}()
	if ss.cmd != nil {
		go func() {
			<-ss.done
			select {
			case w.events <- watchEvent{a: a, exited: true}:
			case <-w.quit:
			}
		}()
	}
}

// end detaches a: events already in its ring are still printed, then its
// summary. Its command, if still running, is asked to stop.
func (w *watcher) end(a *attachment) {
	if a.ending {
		return
	}
	a.ending = true
	a.ss.sess.Detach()
	if a.ss.cmd != nil {
		select {
		case <-a.ss.done:
		default:
			a.ss.cmd.Process.Signal(syscall.SIGTERM)
		}
	}
}

// waitCommands waits for the commands of ending attachments to exit,
// killing those that outlast the grace period.
func (w *watcher) waitCommands() {
	deadline := time.After(cmdStopGrace)
	for _, a := range w.live {
		if a.ss.cmd == nil {
			continue
		}
		select {
		case <-a.ss.done:
		case <-deadline:
			a.ss.cmd.Process.Kill()
			<-a.ss.done
		}
	}
}

func (w *watcher) handle(we watchEvent) {
	a := we.a
	switch {
	case we.exited:
		status := "exited"
		if a.ss.cmdErr != nil {
			status = a.ss.cmdErr.Error()
		} else if a.ss.cmd.ProcessState != nil {
			status = a.ss.cmd.ProcessState.String()
		}
		fmt.Fprintf(w.io.ErrOut, "usdtkit: build %d: %s: %s; waiting for the next build\n", a.build.n, w.opts.Command[0], status)
	case we.closed:
		a.printer.flush()
		a.ss.sess.Close()
		fmt.Fprintf(w.io.ErrOut, "usdtkit: build %d detached\n", a.build.n)
		printSummary(w.io, a.setup, a.ss.sess.Stats())
		for i, l := range w.live {
			if l == a {
				w.live = append(w.live[:i], w.live[i+1:]...)
				break
			}
		}
	default:
		a.printer.print(we.ev)
		if len(w.events) == 0 {
			a.printer.flush()
		}
	}
}

// stopAll detaches every build, prints what was still in the rings and the
// summaries, and ends the commands.
func (w *watcher) stopAll() {
	for _, a := range w.live {
		w.end(a)
	}
	w.waitCommands()
	for len(w.live) > 0 {
		w.handle(<-w.events)
	}
}

// lockedWriter serialises writes from the command's output copier and the
// watch loop.
type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
