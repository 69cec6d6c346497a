package elf

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// Mapping is one file-backed line of /proc/PID/maps.
type Mapping struct {
	Start, End uint64
	Perms      string // "r-xp"
	Offset     uint64 // file offset of Start
	Dev        string
	Inode      uint64
	Path       string // as the process sees it; may end in " (deleted)"
}

// Object is a file mapped into a process: its executable or a library.
type Object struct {
	PID        int
	Path       string // the path in /proc/PID/maps
	Deleted    bool   // the file was replaced or removed since it was mapped
	Executable bool   // the process's executable
	Mappings   []Mapping
}

// ErrReplaced is wrapped by the error [Object.Open] returns when the file at
// the object's path is no longer the one the process mapped.
var ErrReplaced = errors.New("replaced")

// OpenPath is a path through which this process can read the object's
// file, even when it is in another mount namespace or was deleted:
// /proc/PID/map_files/..., which needs CAP_SYS_ADMIN, else
// /proc/PID/root/PATH, where another file may be by now; [Object.Open]
// checks that it is not.
func (o *Object) OpenPath() string {
	m := o.Mappings[0]
	mf := fmt.Sprintf("/proc/%d/map_files/%x-%x", o.PID, m.Start, m.End)
	if _, err := os.Stat(mf); err == nil {
		return mf
	}
	return fmt.Sprintf("/proc/%d/root%s", o.PID, o.Path)
}

// Open reads the USDT tracepoints of the object's file through OpenPath.
// The file opened must be the one the process mapped: its device and inode
// are those of /proc/PID/maps, or the error wraps [ErrReplaced] (a rebuild
// renamed another file over it, and this process may not read the mapped
// one through map_files).
func (o *Object) Open() (*File, error) {
	what := "mapped"
	if o.Executable {
		what = "started"
	}
	fix := fmt.Sprintf("run as root, or with CAP_SYS_ADMIN, to read the file it has through /proc/%d/map_files", o.PID)
	path := o.OpenPath()
	fh, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) && o.Deleted {
		return nil, fmt.Errorf("removed since process %d %s it; %s", o.PID, what, fix)
	}
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("open %s: not a regular file", path)
	}
	if sys, ok := st.Sys().(*syscall.Stat_t); ok {
		m := o.Mappings[0]
		dev := fmt.Sprintf("%02x:%02x", devMajor(uint64(sys.Dev)), devMinor(uint64(sys.Dev)))
		if dev != m.Dev || sys.Ino != m.Inode {
			return nil, fmt.Errorf("%w since process %d %s it: %s is now another file (inode %d on %s; the process has inode %d on %s); %s",
				ErrReplaced, o.PID, what, o.Path, sys.Ino, dev, m.Inode, m.Dev, fix)
		}
	}
	f, err := NewFile(fh)
	if err != nil {
		return nil, err
	}
	f.Path = path
	return f, nil
}

// devMajor and devMinor split a device number as glibc's major and minor
// do; /proc/PID/maps prints the two in hex.
func devMajor(dev uint64) uint64 { return (dev>>8)&0xfff | (dev>>32)&^0xfff }
func devMinor(dev uint64) uint64 { return dev&0xff | (dev>>12)&^0xff }

// ProcessObjects lists the files a process maps with execute permission,
// its executable first, in the order of /proc/PID/maps.
func ProcessObjects(pid int) ([]*Object, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/maps", pid))
	if err != nil {
		return nil, fmt.Errorf("read process %d: %w", pid, err)
	}
	defer f.Close()
	var objs []*Object
	byInode := map[string]*Object{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		m, ok := parseMapsLine(sc.Text())
		if !ok || m.Inode == 0 || !strings.HasPrefix(m.Path, "/") {
			continue
		}
		key := m.Dev + ":" + strconv.FormatUint(m.Inode, 10)
		o := byInode[key]
		if o == nil {
			p, deleted := strings.CutSuffix(m.Path, " (deleted)")
			o = &Object{PID: pid, Path: p, Deleted: deleted}
			byInode[key] = o
			objs = append(objs, o)
		}
		o.Mappings = append(o.Mappings, m)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read process %d maps: %w", pid, err)
	}
	exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
	exe = strings.TrimSuffix(exe, " (deleted)")
	var out []*Object
	for _, o := range objs {
		if !o.executable() {
			continue
		}
		if o.Path == exe {
			o.Executable = true
			out = append([]*Object{o}, out...)
		} else {
			out = append(out, o)
		}
	}
	return out, nil
}

func (o *Object) executable() bool {
	for _, m := range o.Mappings {
		if strings.Contains(m.Perms, "x") {
			return true
		}
	}
	return false
}

func parseMapsLine(line string) (Mapping, bool) {
	// start-end perms offset dev inode [path]
	fields := strings.Fields(line)
	if len(fields) < 6 {
		return Mapping{}, false
	}
	lo, hi, ok := strings.Cut(fields[0], "-")
	if !ok {
		return Mapping{}, false
	}
	var m Mapping
	var err1, err2, err3, err4 error
	m.Start, err1 = strconv.ParseUint(lo, 16, 64)
	m.End, err2 = strconv.ParseUint(hi, 16, 64)
	m.Offset, err3 = strconv.ParseUint(fields[2], 16, 64)
	m.Inode, err4 = strconv.ParseUint(fields[4], 10, 64)
	if err1 != nil || err2 != nil || err3 != nil || err4 != nil {
		return Mapping{}, false
	}
	m.Perms, m.Dev = fields[1], fields[3]
	// The path may contain spaces: it is everything after the fifth field.
	rest := line
	for i := 0; i < 5; i++ {
		rest = strings.TrimLeft(rest, " ")
		if j := strings.IndexByte(rest, ' '); j >= 0 {
			rest = rest[j:]
		} else {
			rest = ""
		}
	}
	m.Path = strings.TrimLeft(rest, " ")
	return m, true
}

// ReadSemaphore reads the current value of a semaphore in the process. The
// kernel raises it by one for each of the tracepoint's call sites that has
// a uprobe, however many tracers share that uprobe (a tracepoint with two
// call sites, traced by one tracer or by three, shows 2); a tracer that
// sets semaphores itself, as bcc does with -p, adds its own. It reads the
// writable mapping that holds the semaphore's file offset.
func (o *Object) ReadSemaphore(s *Semaphore) (uint16, error) {
	if s.Err != nil {
		return 0, s.Err
	}
	for _, m := range o.Mappings {
		if !strings.HasPrefix(m.Perms, "rw") || s.FileOffset < m.Offset || s.FileOffset+2 > m.Offset+(m.End-m.Start) {
			continue
		}
		addr := m.Start + s.FileOffset - m.Offset
		mem, err := os.Open(fmt.Sprintf("/proc/%d/mem", o.PID))
		if err != nil {
			return 0, fmt.Errorf("read semaphore: %w", err)
		}
		defer mem.Close()
		var b [2]byte
		if _, err := mem.ReadAt(b[:], int64(addr)); err != nil {
			return 0, fmt.Errorf("read semaphore at %#x: %w", addr, err)
		}
		return binary.NativeEndian.Uint16(b[:]), nil
	}
	return 0, fmt.Errorf("semaphore at file offset %#x is in no writable mapping of %s", s.FileOffset, o.Path)
}
