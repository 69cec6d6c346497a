package trace

import (
	"bufio"
	"fmt"
	"os"
	"os/user"
	"strconv"
	"strings"
	"syscall"
)

// LookupUser finds the user a session drops to (--user): by name or uid.
func LookupUser(name string) (*syscall.Credential, error) {
	u, err := user.Lookup(name)
	if err != nil {
		if u, err = user.LookupId(name); err != nil {
			return nil, fmt.Errorf("--user %s: no such user", name)
		}
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("--user %s: uid %s, gid %s are not numbers", name, u.Uid, u.Gid)
	}
	c := &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	if ids, err := u.GroupIds(); err == nil {
		for _, g := range ids {
			if n, err := strconv.ParseUint(g, 10, 32); err == nil && uint32(n) != c.Gid {
				c.Groups = append(c.Groups, uint32(n))
			}
		}
	}
	return c, nil
}

// DropTo makes this process (every thread) run as c, with no
// capabilities: what is attached stays attached and its maps and buffers
// stay readable through the descriptors already open, but nothing new can
// be loaded or attached. It checks that no capability is left.
func DropTo(c *syscall.Credential) error {
	groups := make([]int, len(c.Groups))
	for i, g := range c.Groups {
		groups[i] = int(g)
	}
	if err := syscall.Setgroups(groups); err != nil {
		return fmt.Errorf("drop to uid %d: setgroups: %w", c.Uid, err)
	}
	if err := syscall.Setgid(int(c.Gid)); err != nil {
		return fmt.Errorf("drop to uid %d: setgid: %w", c.Uid, err)
	}
	if err := syscall.Setuid(int(c.Uid)); err != nil {
		return fmt.Errorf("drop to uid %d: setuid: %w", c.Uid, err)
	}
	// From root to another user, the kernel clears the capabilities.
	caps, err := effectiveCaps()
	if err != nil {
		return fmt.Errorf("drop to uid %d: %w", c.Uid, err)
	}
	if caps != 0 && c.Uid != 0 {
		return fmt.Errorf("drop to uid %d: capabilities %#x are left", c.Uid, caps)
	}
	return nil
}

func effectiveCaps() (uint64, error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "CapEff:"); ok {
			return strconv.ParseUint(strings.TrimSpace(v), 16, 64)
		}
	}
	return 0, fmt.Errorf("no CapEff in /proc/self/status")
}
