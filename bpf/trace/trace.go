package trace

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/usdtkit/usdtkit/bpf"
	"github.com/usdtkit/usdtkit/docs"
	"github.com/usdtkit/usdtkit/docs/contract"
	"github.com/usdtkit/usdtkit/elf"
)

// Options say what a session traces.
type Options struct {
	// Contract joins the binary to trace, its first, with the doc (if
	// any): every argument is read by the contract.
	Contract *contract.Contract
	// Path is where the kernel opens the binary; the binary's path when
	// empty. It may be /proc/self/fd/N, to attach the very file read.
	Path string
	// Patterns choose the tracepoints, globs as elf.Probe.Match takes
	// them; all of the binary's when empty.
	Patterns []string
	// Limits bound the reads of strings and buffers.
	Limits contract.Limits
	// Overrides replace the plan of argument N of every tracepoint that
	// has one (--arg N=...).
	Overrides map[int]contract.Plan
	// PID, when not 0, traces only that process, and the session ends
	// when it does.
	PID int
	// Command, when set, is started stopped before anything is attached,
	// traced from its first instruction, and the session ends when it
	// does. Its standard streams are Stdin, Stdout and Stderr.
	Command        []string
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// RingSize is the ring buffer's size; bpf.DefaultRingSize when 0.
	RingSize int
	// Aggregate, when not nil, counts in the kernel (Snapshot) instead of
	// sending events.
	Aggregate *Aggregation
	// Where, when not nil, is what a hit must pass, in the kernel, to be
	// sent or counted.
	Where *Expr
	// Credential, when not nil, is the user Command runs as.
	Credential *syscall.Credential
}

// Tracepoint is one attached tracepoint and how its arguments are read.
type Tracepoint struct {
	*contract.Tracepoint
	Probe *elf.Probe
	Args  []Arg
}

// Arg is how one argument is read and shown.
type Arg struct {
	// Name is the contract's identifier for the argument (peer_id).
	Name string
	// Description is the documented description, "" without one.
	Description string
	// Type names the type in output: the contract's, or what an override
	// reads (string, bytes).
	Type string
	// Doc is the documented type, nil when the doc does not type it:
	// verify checks values against it.
	Doc *docs.Type
	// Plan is how it is read.
	Plan contract.Plan
}

// Plan selects the tracepoints of the options' binary and decides how
// each argument is read. It fails when nothing matches.
func Plan(o Options) ([]*Tracepoint, error) {
	c := o.Contract
	if c == nil || len(c.Binaries) == 0 {
		return nil, errors.New("trace: no binary")
	}
	bin := &c.Binaries[0]
	var out []*Tracepoint
	for i := range bin.File.Probes {
		p := &bin.File.Probes[i]
		if !p.Match(o.Patterns...) {
			continue
		}
		tp := &Tracepoint{Tracepoint: c.Tracepoint(p.ID()), Probe: p}
		n := len(p.CallSites[0].Args)
		for j := 0; j < n && j < len(tp.Tracepoint.Args); j++ {
			a := &tp.Tracepoint.Args[j]
			ta := Arg{Name: a.Name, Type: contract.TypeName(a.Type), Plan: a.Plan(o.Limits)}
			if a.Doc != nil && a.Documented {
				ta.Description = a.Doc.Description
				dt := a.Doc.Type
				ta.Doc = &dt
			}
			if ov, ok := o.Overrides[j]; ok {
				ta.Plan = ov
				switch ov.Kind {
				case contract.ReadString:
					ta.Type = "string"
				case contract.ReadBytes:
					ta.Type = "bytes"
				}
			}
			tp.Args = append(tp.Args, ta)
		}
		out = append(out, tp)
	}
	if len(out) == 0 {
		if bin.File.Notes == 0 {
			return nil, fmt.Errorf("%s has no USDT tracepoints", bin.Path)
		}
		return nil, fmt.Errorf("no tracepoint of %s matches %s", bin.Path, strings.Join(o.Patterns, " "))
	}
	return out, nil
}

// Read is the bpf package's read of a plan.
func Read(p contract.Plan) bpf.ArgRead {
	r := bpf.ArgRead{MaxLen: p.MaxLen, Hex: p.Hex, Reversed: p.Reversed}
	switch p.Kind {
	case contract.ReadString:
		r.Kind = bpf.ReadString
	case contract.ReadBytes:
		r.Kind = bpf.ReadBytes
		r.LenArg = p.LenArg + 1 // bpf counts from 1; -1 becomes 0, none
	}
	return r
}

// Session is a trace session: tracepoints attached, and the command or
// process they trace.
type Session struct {
	Tracepoints []*Tracepoint
	// Attached is how long attaching took, from Start.
	Attached time.Duration

	byID   map[string]*Tracepoint
	bpf    *bpf.Session
	cmd    *exec.Cmd
	done   chan struct{} // closed when the command or the -p process has ended
	cmdErr error

	agg           *aggPlan
	droppedBefore uint64 // dropped keys counted in earlier snapshots, with reset
}

// Start plans the tracepoints, starts the command (stopped), attaches,
// and lets the command run.
func Start(ctx context.Context, o Options) (*Session, error) {
	start := time.Now()
	tps, err := Plan(o)
	if err != nil {
		return nil, err
	}
	s := &Session{Tracepoints: tps, byID: map[string]*Tracepoint{}}
	bin := &o.Contract.Binaries[0]
	path := o.Path
	if path == "" {
		path = bin.File.Path
	}
	probes := make([]elf.Probe, len(tps))
	reads := map[string][]bpf.ArgRead{}
	for i, tp := range tps {
		probes[i] = *tp.Probe
		s.byID[tp.Probe.ID()] = tp
		for _, a := range tp.Args {
			reads[tp.Probe.ID()] = append(reads[tp.Probe.ID()], Read(a.Plan))
		}
	}
	var aggregate *bpf.Aggregation
	var filter map[string]*bpf.Pred
	if o.Aggregate != nil {
		if s.agg, err = o.Aggregate.plan(tps, o.Where); err != nil {
			return nil, err
		}
		aggregate = s.agg.bpf
	} else if filter, err = filters(tps, o.Where); err != nil {
		return nil, err
	}
	pid := o.PID
	var stopped *bpf.Stopped
	if len(o.Command) > 0 {
		c := exec.Command(o.Command[0], o.Command[1:]...)
		c.Stdin, c.Stdout, c.Stderr = o.Stdin, o.Stdout, o.Stderr
		if o.Credential != nil {
			c.SysProcAttr = &syscall.SysProcAttr{Credential: o.Credential}
		}
		st, err := bpf.StartStopped(c)
		if err != nil {
			return nil, fmt.Errorf("start %s: %w", o.Command[0], err)
		}
		stopped, s.cmd, pid = st, c, st.PID()
	}
	var gone <-chan struct{}
	if o.PID > 0 {
		if gone, err = exited(o.PID); err != nil {
			return nil, err
		}
	}
	sess, err := bpf.Attach(context.Background(), bpf.Options{File: bin.File, Path: path, Probes: probes, PID: pid, Reads: reads, RingSize: o.RingSize, Aggregate: aggregate, Filter: filter})
	if err != nil {
		if stopped != nil {
			stopped.Kill()
			s.cmd.Wait()
		}
		return nil, attachError(err)
	}
	s.bpf = sess
	s.Attached = time.Since(start)
	switch {
	case stopped != nil:
		if err := stopped.Resume(); err != nil {
			sess.Close()
			s.cmd.Wait()
			return nil, err
		}
		s.done = make(chan struct{})
		go func() {
			s.cmdErr = s.cmd.Wait()
			close(s.done)
		}()
	case gone != nil:
		s.done = make(chan struct{})
		go func() {
			<-gone
			close(s.done)
		}()
	}
	return s, nil
}

// exited is closed when process pid ends; it fails when there is no such
// process.
func exited(pid int) (<-chan struct{}, error) {
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		if errors.Is(err, unix.ESRCH) {
			return nil, fmt.Errorf("trace process %d: no such process", pid)
		}
		return nil, fmt.Errorf("watch process %d: %w", pid, err)
	}
	ch := make(chan struct{})
	go func() {
		defer unix.Close(fd)
		defer close(ch)
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		for {
			if _, err := unix.Poll(fds, -1); err != nil && errors.Is(err, unix.EINTR) {
				continue
			}
			return // readable: the process has exited; other errors end the wait too
		}
	}()
	return ch, nil
}

// attachError adds what a refused attach most likely means.
func attachError(err error) error {
	switch {
	case errors.Is(err, bpf.ErrPermission):
		return fmt.Errorf("attach: %w", bpf.ErrPermission)
	case errors.Is(err, syscall.EINVAL):
		// The kernel refuses a uprobe whose semaphore offset differs from
		// that of another uprobe at the same place in the same file.
		return fmt.Errorf("%w (is another tracer, e.g. bcc, attached to this binary without its semaphore? detach it and retry)", err)
	}
	return err
}

// Sink takes a session's events: an output.
type Sink interface {
	Event(*Event) error
	// Flush writes what the sink holds back.
	Flush() error
}

// Lines is the buffer of a Sink that writes lines: a line is appended to
// Buf and then Added, which writes what is buffered once 32 KiB wait;
// Flush writes it all.
type Lines struct {
	W   io.Writer
	Buf []byte
}

// Added writes the buffered lines if 32 KiB or more wait.
func (l *Lines) Added() error {
	if len(l.Buf) > 32<<10 {
		return l.Flush()
	}
	return nil
}

// Flush writes the buffered lines.
func (l *Lines) Flush() error {
	if len(l.Buf) == 0 {
		return nil
	}
	_, err := l.W.Write(l.Buf)
	l.Buf = l.Buf[:0]
	return err
}

// Event is one hit, with the tracepoint it belongs to.
type Event struct {
	bpf.Event
	Tracepoint *Tracepoint
}

// CallSite is the link-time address of the call site that fired.
func (e *Event) CallSite() uint64 {
	if e.Event.CallSite < len(e.Tracepoint.Probe.CallSites) {
		return e.Tracepoint.Probe.CallSites[e.Event.CallSite].Address
	}
	return 0
}

// Run hands every event to handle until handle returns true, ctx is
// done, until fires, or the command or process ends; then it detaches,
// hands on what is still in the ring buffer, and returns once the events
// end. The *Event handle gets, and its values, are only valid until it
// returns. idle, when
// not nil, is called whenever no event is waiting after some were
// handled: the moment to flush buffered output.
func (s *Session) Run(ctx context.Context, until <-chan time.Time, handle func(*Event) (stop bool), idle func()) {
	batches := s.bpf.Batches()
	done := s.done
	stopping := false
	stop := func() {
		if !stopping {
			stopping = true
			s.bpf.Detach()
		}
	}
	var e Event
	for {
		select {
		case batch, ok := <-batches:
			if !ok {
				return
			}
			for i := range batch.Events {
				e = Event{Event: batch.Events[i], Tracepoint: s.byID[batch.Events[i].Probe]}
				if handle(&e) {
					stop()
				}
			}
			s.bpf.Recycle(batch)
			if idle != nil && len(batches) == 0 {
				idle()
			}
		case <-ctx.Done():
			stop()
		case <-until:
			until = nil
			stop()
		case <-done:
			done = nil
			stop()
		}
	}
}

// Events are the session's events as they come, for a caller that runs
// its own loop (watch); Detach ends them once the ring buffer is drained.
func (s *Session) Events() <-chan bpf.Event { return s.bpf.Events() }

// Wrap turns an event of Events into one with its tracepoint.
func (s *Session) Wrap(ev bpf.Event) *Event { return &Event{Event: ev, Tracepoint: s.byID[ev.Probe]} }

// Detach removes the uprobes; events already in the ring buffer are
// still delivered.
func (s *Session) Detach() error { return s.bpf.Detach() }

// Close detaches, frees the programs and maps, and ends the command if it
// still runs.
func (s *Session) Close() error {
	err := s.bpf.Close()
	if s.cmd != nil {
		select {
		case <-s.done:
		default:
			s.cmd.Process.Kill()
			<-s.done
		}
	}
	return err
}

// Stats are the session's counts: hits per tracepoint and call site,
// lost events, read failures.
func (s *Session) Stats() bpf.Stats { return s.bpf.Stats() }

// Ended is closed when the command or the -p process has ended; nil
// without either.
func (s *Session) Ended() <-chan struct{} { return s.done }

// Command is the started command, nil without one.
func (s *Session) Command() *exec.Cmd { return s.cmd }

// CommandErr is how the command ended, once Ended is closed.
func (s *Session) CommandErr() error { return s.cmdErr }

// Signal asks the command to end.
func (s *Session) Signal(sig os.Signal) {
	if s.cmd == nil {
		return
	}
	select {
	case <-s.done:
	default:
		s.cmd.Process.Signal(sig)
	}
}
