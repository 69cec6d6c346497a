package bpf

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/features"
	"github.com/cilium/ebpf/link"
	"github.com/cilium/ebpf/ringbuf"
	"golang.org/x/sys/unix"

	"github.com/usdtkit/usdtkit/elf"
)

// Mode is how call sites are attached.
type Mode uint8

const (
	// ModeAuto picks the first mode below that the kernel supports.
	ModeAuto Mode = iota
	// ModeUprobeMulti attaches one program per up to 64 call sites with
	// one uprobe_multi link, dispatching on the BPF cookie (Linux 6.6).
	ModeUprobeMulti
	// ModeUprobe attaches the same programs with one perf-event uprobe per
	// call site, each with its cookie (Linux 5.15).
	ModeUprobe
	// ModeProgramPerSite loads one program per call site, which needs no
	// cookie (Linux 5.8, for BPF ring buffers).
	ModeProgramPerSite
)

func (m Mode) String() string {
	switch m {
	case ModeAuto:
		return "auto"
	case ModeUprobeMulti:
		return "uprobe_multi"
	case ModeUprobe:
		return "uprobe"
	case ModeProgramPerSite:
		return "program-per-site"
	}
	return fmt.Sprintf("Mode(%d)", uint8(m))
}

// DefaultRingSize is the ring buffer size when Options.RingSize is 0.
const DefaultRingSize = 4 << 20

// Options says what to attach.
type Options struct {
	// File is the ELF file whose tracepoints are attached.
	File *elf.File
	// Path is where the kernel opens the file; File.Path when empty. It
	// may be a /proc/PID/root/... or /proc/PID/map_files/... path.
	Path string
	// Probes are the tracepoints to attach, taken from File.Probes; all
	// of File.Probes when nil.
	Probes []elf.Probe
	// PID, when not 0, traces only that process.
	PID int
	// Reads says how to read arguments beyond their integer value, by
	// "provider:name" and then by argument index (0-based); arguments not
	// named are read as integers.
	Reads map[string][]ArgRead
	// RingSize is the ring buffer size in bytes, rounded up to a power of
	// two of at least a page; DefaultRingSize when 0.
	RingSize int
	// Mode is how call sites are attached; ModeAuto when 0.
	Mode Mode
	// NoPageFaults keeps the programs from faulting in the user memory
	// they read, so a traced thread never waits for a page-in at a
	// tracepoint; reads of pages it has not touched yet fail with EFAULT.
	NoPageFaults bool
	// Aggregate, when not nil, makes the session count in the kernel
	// (Snapshot) instead of sending events: Events delivers none.
	Aggregate *Aggregation
	// Filter holds, by "provider:name", a predicate a hit must pass to be
	// sent (in the kernel: the others cost no ring buffer traffic). An
	// aggregation has its own, in its Tracepoints.
	Filter map[string]*Pred
}

// Session is an attached set of tracepoints. Its methods may be called
// from any goroutine.
type Session struct {
	sites      []*site
	probes     []elf.Probe
	mode       Mode
	sleepable  bool
	monoToUnix int64

	ring     *ebpf.Map
	counters *ebpf.Map
	progs    []*ebpf.Program
	links    []link.Link
	rd       *ringbuf.Reader

	batches    chan *Batch
	free       chan *Batch // batches given back, to be filled again
	events     chan Event  // Events' channel, made on first use
	eventsOnce sync.Once
	stop       chan struct{}
	readerOK   chan struct{}
	failures   []atomic.Uint64 // by site id: arguments that could not be read
	records    []atomic.Uint64 // by site id: records read
	bad        atomic.Uint64   // malformed records
	draining   atomic.Bool     // detached: stop at the next flush

	agg    *Aggregation
	aggMap *ebpf.Map
	// batchKeys and batchValues are the buffers snapshots read rows
	// into, a batch at a time.
	batchKeys   reflect.Value
	batchValues []byte
	// aggBefore are the rows the last snapshot with reset read, by key.
	aggBefore map[string]AggRow
	scratch   *ebpf.Map
	ncpu      int

	mu        sync.Mutex
	detached  bool
	closed    bool
	snapshot  []uint64 // the counters, saved when the maps are freed
	closeErr  error
	closeOnce sync.Once
}

// Attach loads the programs for the probes' call sites and attaches them.
// The session ends when Close is called or ctx is done.
func Attach(ctx context.Context, opts Options) (*Session, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("attach: %w", err)
	}
	if opts.File == nil {
		return nil, errors.New("attach: no file")
	}
	path := opts.Path
	if path == "" {
		path = opts.File.Path
	}
	if path == "" {
		return nil, errors.New("attach: no path to the file")
	}
	probes := opts.Probes
	if probes == nil {
		probes = opts.File.Probes
	}
	if len(probes) == 0 {
		return nil, fmt.Errorf("attach %s: no tracepoints", path)
	}
	t, err := tableFor(opts.File.Machine)
	if err != nil {
		return nil, fmt.Errorf("attach %s: %w", path, err)
	}
	if err := checkHost(opts.File.Machine); err != nil {
		return nil, fmt.Errorf("attach %s: %w", path, err)
	}
	if opts.PID < 0 {
		return nil, fmt.Errorf("attach %s: bad pid %d", path, opts.PID)
	}
	if opts.PID > 0 {
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", opts.PID)); err != nil {
			return nil, fmt.Errorf("attach %s: process %d: no such process", path, opts.PID)
		}
		if err := checkPIDNamespace("/proc/self/ns/pid"); err != nil {
			return nil, fmt.Errorf("attach %s: %w", path, err)
		}
	}
	ringSize := opts.RingSize
	if ringSize == 0 {
		ringSize = DefaultRingSize
	}
	ringSize = max(roundPow2(ringSize), os.Getpagesize())

	// Plan every call site; ids are indexes into sites.
	sites, err := planSites(t, probes, opts.Reads)
	if err != nil {
		return nil, fmt.Errorf("attach %s: %w", path, err)
	}
	for _, st := range sites {
		st.kernelHits = opts.Aggregate != nil || opts.Filter[st.probe.ID()] != nil
		if err := checkPred(opts.Filter[st.probe.ID()], st); err != nil {
			return nil, fmt.Errorf("attach %s: tracepoint %s: %w", path, st.probe.ID(), err)
		}
	}
	if opts.Aggregate != nil {
		if err := opts.Aggregate.check(sites); err != nil {
			return nil, fmt.Errorf("attach %s: %w", path, err)
		}
		ringSize = os.Getpagesize() // no records: the ring buffer stays empty
	}
	for _, s := range sites {
		if s.size > ringSize/4 && opts.Aggregate == nil {
			return nil, fmt.Errorf("attach %s: call site %d of %s needs %d bytes per event; make the ring buffer at least %d bytes", path, s.index, s.probe.ID(), s.size, roundPow2(4*s.size))
		}
	}

	if err := checkCaps(); err != nil {
		return nil, fmt.Errorf("attach %s: %w", path, err)
	}
	memlockCharged() // before any other BPF system call; load acts on it
	mode, err := pickMode(opts.Mode)
	if err != nil {
		return nil, fmt.Errorf("attach %s: %w", path, err)
	}
	s := &Session{
		sites:      sites,
		probes:     probes,
		mode:       mode,
		monoToUnix: monoToUnix(),
		batches:    make(chan *Batch, 16),
		free:       make(chan *Batch, 18),
		stop:       make(chan struct{}),
		readerOK:   make(chan struct{}),
		failures:   make([]atomic.Uint64, len(sites)),
		records:    make([]atomic.Uint64, len(sites)),
		agg:        opts.Aggregate,
	}
	if err := s.load(t, path, opts.PID, ringSize, !opts.NoPageFaults, opts.Filter); err != nil {
		s.release()
		return nil, fmt.Errorf("attach %s: %w", path, err)
	}
	go s.read()
	if ctx.Done() != nil {
		go func() {
			select {
			case <-ctx.Done():
				s.Close()
			case <-s.stop:
			}
		}()
	}
	return s, nil
}

// planSites lays out every call site of the probes.
func planSites(t *regTable, probes []elf.Probe, reads map[string][]ArgRead) ([]*site, error) {
	known := map[string]bool{}
	var sites []*site
	for i := range probes {
		p := &probes[i]
		if known[p.ID()] {
			return nil, fmt.Errorf("tracepoint %s is listed twice", p.ID())
		}
		known[p.ID()] = true
		if p.Semaphore != nil && p.Semaphore.Err != nil {
			return nil, fmt.Errorf("tracepoint %s: semaphore: %w", p.ID(), p.Semaphore.Err)
		}
		rs, err := readsFor(p, reads[p.ID()])
		if err != nil {
			return nil, err
		}
		for j := range p.CallSites {
			if err := p.CallSites[j].Err; err != nil {
				return nil, fmt.Errorf("tracepoint %s: call site %d: %w", p.ID(), j, err)
			}
			st := planSite(t, uint32(len(sites)), p, j, rs)
			st.tracepoint = i
			sites = append(sites, st)
		}
	}
	for id := range reads {
		if !known[id] {
			return nil, fmt.Errorf("reads name tracepoint %s, which is not attached", id)
		}
	}
	return sites, nil
}

func roundPow2(n int) int {
	p := 1
	for p < n {
		p <<= 1
	}
	return p
}

// pickMode returns m, or for ModeAuto the best mode the kernel supports.
func pickMode(m Mode) (Mode, error) {
	if err := features.HaveMapType(ebpf.RingBuf); err != nil {
		return 0, kernelErr("BPF ring buffers need Linux 5.8 or later", err)
	}
	cookies := func() error {
		if err := features.HaveProgramHelper(ebpf.Kprobe, asm.FnGetAttachCookie); err != nil {
			return kernelErr("BPF cookies need Linux 5.15 or later", err)
		}
		return nil
	}
	switch m {
	case ModeAuto:
		if features.HaveBPFLinkUprobeMulti() == nil {
			return ModeUprobeMulti, nil
		}
		if cookies() == nil {
			return ModeUprobe, nil
		}
		return ModeProgramPerSite, nil
	case ModeUprobeMulti:
		if err := features.HaveBPFLinkUprobeMulti(); err != nil {
			return 0, kernelErr("uprobe_multi links need Linux 6.6 or later", err)
		}
	case ModeUprobe:
		if err := cookies(); err != nil {
			return 0, err
		}
	case ModeProgramPerSite:
	default:
		return 0, fmt.Errorf("unknown mode %d", m)
	}
	return m, nil
}

func kernelErr(msg string, err error) error {
	if errors.Is(err, ebpf.ErrNotSupported) {
		return fmt.Errorf("%w: %s", ErrUnsupported, msg)
	}
	if errors.Is(err, unix.ENOSYS) {
		return noSyscall("bpf")
	}
	return permErr(fmt.Errorf("probe kernel: %w", err))
}

// noSyscall is the error for a system call the kernel does not have: a
// kernel built without it or, more likely, an emulator such as qemu-user,
// which implements neither bpf nor ptrace.
func noSyscall(name string) error {
	return fmt.Errorf("%w: no %s system call here (a kernel without it, or an emulator such as qemu-user): run usdtkit on the traced machine's own kernel", ErrUnsupported, name)
}

// permErr adds ErrPermission to an error that is about permissions.
func permErr(err error) error {
	if err != nil && errors.Is(err, os.ErrPermission) && !errors.Is(err, ErrPermission) {
		return fmt.Errorf("%w: %w", ErrPermission, err)
	}
	return err
}

// checkCaps fails early, with the fix, when the process lacks the
// capabilities BPF tracing needs: CAP_SYS_ADMIN, or CAP_BPF and
// CAP_PERFMON.
func checkCaps() error {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return nil // let the kernel decide
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		v, ok := strings.CutPrefix(sc.Text(), "CapEff:")
		if !ok {
			continue
		}
		caps, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
		if err != nil {
			return nil
		}
		const sysAdmin, perfmon, bpf = 1 << 21, 1 << 38, 1 << 39
		if caps&sysAdmin != 0 || (caps&perfmon != 0 && caps&bpf != 0) {
			return nil
		}
		return ErrPermission
	}
	return nil
}

// pidNSInit is the inode number of the kernel's initial PID namespace
// (PROC_PID_INIT_INO in include/linux/proc_ns.h).
const pidNSInit = 0xeffffffc

// checkPIDNamespace fails when this process, whose PID namespace is at
// nsPath, is not in the initial one, as in a container of its own: the
// programs tell processes apart by the ids of the initial namespace, which
// the process ids it knows are not, so a PID filter would drop every hit.
func checkPIDNamespace(nsPath string) error {
	var st unix.Stat_t
	if err := unix.Stat(nsPath, &st); err != nil || st.Ino == pidNSInit {
		return nil // no namespaces here, or the initial one
	}
	return fmt.Errorf("%w: tracing one process (-p PID, or a command) from a PID namespace of its own, as in a container: the kernel names processes by their host PIDs; run usdtkit in the host's PID namespace (docker run --pid=host)", ErrUnsupported)
}

func monoToUnix() int64 {
	var ts unix.Timespec
	now := time.Now().UnixNano()
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		return 0
	}
	return now - ts.Nano()
}

// chunks groups the sites into programs: every site alone without
// cookies, else up to sitesPerProgram sites and insnsPerProgram
// instructions each.
func chunks(t *regTable, sites []*site, cfg progConfig, perSite bool) ([][]*site, []asm.Instructions, error) {
	var groups [][]*site
	if perSite {
		for _, s := range sites {
			groups = append(groups, []*site{s})
		}
	} else {
		for i := 0; i < len(sites); i += sitesPerProgram {
			groups = append(groups, sites[i:min(i+sitesPerProgram, len(sites))])
		}
	}
	var outG [][]*site
	var outI []asm.Instructions
	for len(groups) > 0 {
		g := groups[0]
		groups = groups[1:]
		insns, err := compileProgram(t, g, cfg)
		if err != nil {
			return nil, nil, err
		}
		if len(insns) > insnsPerProgram && len(g) > 1 {
			h := len(g) / 2
			groups = append([][]*site{g[:h], g[h:]}, groups...)
			continue
		}
		outG = append(outG, g)
		outI = append(outI, insns)
	}
	return outG, outI, nil
}

func (s *Session) load(t *regTable, path string, pid, ringSize int, fault bool, filter map[string]*Pred) error {
	if err := removeMemlock(); err != nil {
		return permErr(fmt.Errorf("raise memlock limit: %w", err))
	}
	var err error
	s.ring, err = ebpf.NewMap(&ebpf.MapSpec{Name: "usdtkit_ring", Type: ebpf.RingBuf, MaxEntries: uint32(ringSize)})
	if err != nil {
		return permErr(fmt.Errorf("create ring buffer: %w", err))
	}
	s.counters, err = ebpf.NewMap(&ebpf.MapSpec{
		Name: "usdtkit_counts", Type: ebpf.PerCPUArray,
		KeySize: 4, ValueSize: 8, MaxEntries: uint32(2 * len(s.sites)),
	})
	if err != nil {
		return permErr(fmt.Errorf("create counters: %w", err))
	}
	if s.agg != nil {
		if err := s.aggMaps(); err != nil {
			return err
		}
	}
	ex, err := link.OpenExecutable(path)
	if err != nil {
		return err
	}
	// Sleepable programs can fault in the pages they read; kernels
	// without sleepable uprobes get programs that cannot.
	cfg := progConfig{PID: pid, Sleepable: fault, agg: s.agg, filter: filter, wakeAt: int32(ringSize / 8)}
	err = s.loadPrograms(t, ex, cfg)
	if err != nil && fault && !errors.Is(err, ErrPermission) {
		s.dropPrograms()
		cfg.Sleepable = false
		err = s.loadPrograms(t, ex, cfg)
	}
	if err != nil {
		return err
	}
	s.sleepable = cfg.Sleepable
	s.rd, err = ringbuf.NewReader(s.ring)
	if err != nil {
		return fmt.Errorf("read ring buffer: %w", err)
	}
	return nil
}

// loadPrograms generates, loads and attaches the programs for every call
// site. The kernel verifies the programs in parallel, as many at once as
// there are CPUs to run Go on; they are attached in order once all are
// loaded.
func (s *Session) loadPrograms(t *regTable, ex *link.Executable, cfg progConfig) error {
	groups, code, err := chunks(t, s.sites, cfg, s.mode == ModeProgramPerSite)
	if err != nil {
		return err
	}
	// Several programs take the kernel longer to verify than the grace
	// period a first uprobe waits for: it is paid meanwhile.
	if len(groups) > 1 {
		warm := warmUprobes(s.mode)
		defer func() { go closeWarm(warm) }()
	}
	specs := make([]*ebpf.ProgramSpec, len(groups))
	for i, insns := range code {
		// Each map the program uses; an aggregating program sends no
		// records, and a streaming one has no rows.
		for ref, m := range map[string]*ebpf.Map{refRing: s.ring, refCounters: s.counters, refScratch: s.scratch, refAgg: s.aggMap} {
			if m == nil {
				continue
			}
			if err := insns.AssociateMap(ref, m); err != nil && !errors.Is(err, asm.ErrUnreferencedSymbol) {
				return err
			}
		}
		specs[i] = &ebpf.ProgramSpec{
			Name:         fmt.Sprintf("usdtkit_%d", i),
			Type:         ebpf.Kprobe,
			Instructions: insns,
			License:      "Dual MIT/GPL",
		}
		if s.mode == ModeUprobeMulti {
			specs[i].AttachType = ebpf.AttachTraceUprobeMulti
		}
		if cfg.Sleepable {
			specs[i].Flags = unix.BPF_F_SLEEPABLE
		}
	}
	progs := make([]*ebpf.Program, len(specs))
	errs := make([]error, len(specs))
	var wg sync.WaitGroup
	slots := make(chan struct{}, runtime.GOMAXPROCS(0))
	for i, spec := range specs {
		wg.Add(1)
		slots <- struct{}{}
		go func() {
			defer wg.Done()
			progs[i], errs[i] = ebpf.NewProgram(spec)
			<-slots
		}()
	}
	wg.Wait()
	for _, p := range progs {
		if p != nil {
			s.progs = append(s.progs, p) // freed by release, also on error
		}
	}
	for i, err := range errs {
		if err != nil {
			return permErr(fmt.Errorf("load program for %s: %w", describe(groups[i]), err))
		}
	}
	for i, g := range groups {
		if err := s.attach(ex, progs[i], g, cfg.PID); err != nil {
			return err
		}
	}
	return nil
}

// dropPrograms detaches and unloads the programs.
func (s *Session) dropPrograms() {
	closeLinks(s.links)
	for _, p := range s.progs {
		p.Close()
	}
	s.links, s.progs = nil, nil
}

func describe(g []*site) string {
	if len(g) == 1 {
		return fmt.Sprintf("call site %d of %s", g[0].index, g[0].probe.ID())
	}
	return fmt.Sprintf("%d call sites (%s ... %s)", len(g), g[0].probe.ID(), g[len(g)-1].probe.ID())
}

func refCtr(s *site) uint64 {
	if sem := s.probe.Semaphore; sem != nil {
		return sem.FileOffset
	}
	return 0
}

// attach attaches prog to the call sites of g.
func (s *Session) attach(ex *link.Executable, prog *ebpf.Program, g []*site, pid int) error {
	if s.mode == ModeUprobeMulti {
		opts := &link.UprobeMultiOptions{PID: uint32(pid)}
		anyRef := false
		for _, st := range g {
			opts.Addresses = append(opts.Addresses, st.cs.FileOffset)
			opts.Cookies = append(opts.Cookies, uint64(st.id))
			opts.RefCtrOffsets = append(opts.RefCtrOffsets, refCtr(st))
			anyRef = anyRef || refCtr(st) != 0
		}
		if !anyRef {
			opts.RefCtrOffsets = nil
		}
		l, err := ex.UprobeMulti(nil, prog, opts)
		if err != nil {
			return permErr(fmt.Errorf("attach uprobe_multi to %s: %w", describe(g), err))
		}
		s.links = append(s.links, l)
		return nil
	}
	for _, st := range g {
		l, err := ex.Uprobe("", prog, &link.UprobeOptions{
			Address:      st.cs.FileOffset,
			RefCtrOffset: refCtr(st),
			Cookie:       uint64(st.id),
			PID:          pid,
		})
		if err != nil {
			return permErr(fmt.Errorf("attach uprobe to %s: %w", describe([]*site{st}), err))
		}
		s.links = append(s.links, l)
	}
	return nil
}

// readPoll is how long records may wait in the ring buffer unannounced:
// the programs wake the reader only once it is an eighth of the ring
// behind (progConfig.wakeAt), so it looks this often.
const readPoll = 10 * time.Millisecond

// batchMax bounds the events of one batch.
const batchMax = 1024

// A Batch is events read from the ring buffer together, in the order
// they were sent.
type Batch struct {
	Events []Event
	values []Value // the events' arguments
}

// read moves records from the ring buffer to the Batches channel until
// the session is detached and the ring is empty, or closed. A batch is
// what the ring held, up to batchMax events: sent as soon as the ring is
// empty, so batching adds no delay. Batches given back (Recycle) are
// filled again, so a steady stream of events allocates nothing but its
// strings and buffers.
func (s *Session) read() {
	defer close(s.readerOK)
	defer close(s.batches)
	var (
		rec ringbuf.Record
		b   *Batch
		d   decoder
	)
	send := func() bool {
		if b == nil || len(b.Events) == 0 {
			return true
		}
		b.values = d.values
		select {
		case s.batches <- b:
		case <-s.stop:
			return false
		}
		b = nil
		return true
	}
	s.rd.SetDeadline(time.Now().Add(readPoll))
	for {
		if err := s.rd.ReadInto(&rec); err != nil {
			if !send() {
				return
			}
			if errors.Is(err, os.ErrDeadlineExceeded) {
				s.rd.SetDeadline(time.Now().Add(readPoll))
				continue
			}
			if errors.Is(err, ringbuf.ErrFlushed) && !s.draining.Load() {
				continue
			}
			return
		}
		if b == nil {
			select {
			case b = <-s.free:
				b.Events = b.Events[:0]
			default:
				b = &Batch{Events: make([]Event, 0, min(batchMax, 1+rec.Remaining/64))}
			}
			d.values = b.values[:0]
		}
		ev, st, ok := d.decode(s.sites, rec.RawSample, s.monoToUnix)
		if !ok {
			s.bad.Add(1)
		} else {
			s.records[st.id].Add(1)
			for _, v := range ev.Args {
				if v.Err != nil {
					s.failures[st.id].Add(1)
				}
			}
			b.Events = append(b.Events, ev)
		}
		if (rec.Remaining == 0 || len(b.Events) == batchMax) && !send() {
			return
		}
	}
}

// Batches delivers the decoded events, a batch at a time, in the order
// they were sent. It is closed after Detach once every event already in
// the ring buffer was delivered, or on Close. Use Batches or Events, not
// both.
func (s *Session) Batches() <-chan *Batch { return s.batches }

// Recycle gives a batch back once its events are handled, to be filled
// again: neither b nor any of its events' values may be used after.
func (s *Session) Recycle(b *Batch) {
	select {
	case s.free <- b:
	default:
	}
}

// Events delivers the decoded events one at a time, as Batches does.
func (s *Session) Events() <-chan Event {
	s.eventsOnce.Do(func() {
		s.events = make(chan Event, 64)
		go func() {
			defer close(s.events)
			for b := range s.batches {
				for _, ev := range b.Events {
					select {
					case s.events <- ev:
					case <-s.stop:
						return
					}
				}
			}
		}()
	})
	return s.events
}

// Mode is how the call sites were attached.
func (s *Session) Mode() Mode { return s.mode }

// FaultsIn reports whether the programs may fault in the user memory they
// read (sleepable uprobes: Linux 6.0, or 6.6 with uprobe_multi). Without
// it, reading memory the traced process has not touched yet, such as a
// string literal in a page of .rodata not yet used, fails with EFAULT.
func (s *Session) FaultsIn() bool { return s.sleepable }

// Detach removes every uprobe, which returns the semaphores to their
// earlier values; no new events arrive. Events already in the ring buffer
// are still delivered, and then Events is closed. Close must still be
// called to free the maps.
func (s *Session) Detach() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.detached {
		return nil
	}
	s.detached = true
	errs := closeLinks(s.links)
	s.links = nil
	s.draining.Store(true)
	if s.rd != nil {
		// Links are gone, so every record is in the ring: the reader
		// delivers them and stops at the flush mark.
		if err := s.rd.Flush(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// closeLinks closes links concurrently: closing a uprobe waits for an
// RCU grace period, which one at a time adds up to seconds for hundreds
// of perf-event uprobes.
func closeLinks(links []link.Link) []error {
	errs := make([]error, len(links))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 64)
	for i, l := range links {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			errs[i] = l.Close()
			<-sem
		}()
	}
	wg.Wait()
	return errs
}

// Close detaches, stops delivering events (those not yet received are
// dropped), closes Events and frees every program and map. It is safe to
// call more than once.
func (s *Session) Close() error {
	s.closeOnce.Do(func() {
		err := s.Detach()
		close(s.stop)
		if s.rd != nil {
			s.rd.Close()
			<-s.readerOK
		}
		// Under the lock: a Snapshot (a scrape, say) does not read a map
		// that is being closed.
		s.mu.Lock()
		s.snapshot, _ = s.readCounters()
		s.closed = true
		s.closeErr = errors.Join(err, s.release())
		s.mu.Unlock()
	})
	return s.closeErr
}

// release frees programs and maps.
func (s *Session) release() error {
	errs := closeLinks(s.links)
	s.links = nil
	for _, p := range s.progs {
		errs = append(errs, p.Close())
	}
	s.progs = nil
	for _, m := range []*ebpf.Map{s.ring, s.counters, s.scratch, s.aggMap} {
		if m != nil {
			errs = append(errs, m.Close())
		}
	}
	s.ring, s.counters, s.scratch, s.aggMap = nil, nil, nil, nil
	return errors.Join(errs...)
}

// aggMaps makes the maps of an aggregating session: the rows, a per-CPU
// hash, and the scratch area each hit is read into. The rows are
// allocated up front: a map that allocates as rows come fails an insert
// when its per-CPU cache runs dry in a burst of new keys, and the hit is
// dropped though the map has room.
func (s *Session) aggMaps() error {
	a := s.agg
	n, err := ebpf.PossibleCPU()
	if err != nil {
		return fmt.Errorf("count CPUs: %w", err)
	}
	s.ncpu = n
	scratch := 0
	for _, st := range s.sites {
		scratch = max(scratch, st.scratchSize(a))
	}
	s.scratch, err = ebpf.NewMap(&ebpf.MapSpec{Name: "usdtkit_scratch", Type: ebpf.PerCPUArray, KeySize: 4, ValueSize: uint32(scratch), MaxEntries: 1})
	if err != nil {
		return permErr(fmt.Errorf("create scratch map: %w", err))
	}
	s.aggMap, err = ebpf.NewMap(&ebpf.MapSpec{Name: "usdtkit_agg", Type: ebpf.PerCPUHash, KeySize: uint32(a.keySize()),
		ValueSize: uint32(a.valueSize()), MaxEntries: uint32(a.MaxKeys)})
	if err != nil {
		return permErr(fmt.Errorf("create aggregation map of %d keys: %w", a.MaxKeys, err))
	}
	return nil
}

// readCounters sums the per-CPU counters: 2*id hits, 2*id+1 lost.
func (s *Session) readCounters() ([]uint64, error) {
	if s.counters == nil {
		return nil, errors.New("counters are gone")
	}
	out := make([]uint64, 2*len(s.sites))
	var per []uint64
	for k := range out {
		if err := s.counters.Lookup(uint32(k), &per); err != nil {
			return nil, fmt.Errorf("read counter %d: %w", k, err)
		}
		for _, v := range per {
			out[k] += v
		}
	}
	return out, nil
}

// Stats counts what a session saw.
type Stats struct {
	// Tracepoints are in the order of Options.Probes.
	Tracepoints []TracepointStats
	// Lost is the number of events dropped because the ring buffer was
	// full; their hits are counted. An aggregating session counts here
	// the hits that found no room for their key (dropped keys).
	Lost uint64
	// ReadFailures is the number of argument values, strings and buffers
	// that could not be read, in delivered events.
	ReadFailures uint64
}

// TracepointStats counts the hits of one tracepoint.
type TracepointStats struct {
	Probe string // "provider:name"
	Hits  uint64
	// CallSites has the hits per call site, by index in Probe.CallSites.
	CallSites    []uint64
	Lost         uint64
	ReadFailures uint64
}

// Stats returns the counts so far; after Close, the final counts.
func (s *Session) Stats() Stats {
	s.mu.Lock()
	counts := s.snapshot
	if !s.closed {
		counts, _ = s.readCounters()
	}
	s.mu.Unlock()
	var st Stats
	idx := map[*elf.Probe]int{}
	for i := range s.probes {
		p := &s.probes[i]
		idx[p] = i
		st.Tracepoints = append(st.Tracepoints, TracepointStats{Probe: p.ID(), CallSites: make([]uint64, len(p.CallSites))})
	}
	for _, site := range s.sites {
		tp := &st.Tracepoints[idx[site.probe]]
		var hits, lost uint64
		if counts != nil {
			hits, lost = counts[2*site.id], counts[2*site.id+1]
		}
		if !site.kernelHits {
			hits = s.records[site.id].Load() + lost
		}
		fails := s.failures[site.id].Load()
		tp.Hits += hits
		tp.CallSites[site.index] += hits
		tp.Lost += lost
		tp.ReadFailures += fails
		st.Lost += lost
		st.ReadFailures += fails
	}
	return st
}
