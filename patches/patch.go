package patches

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/aymanbagabas/go-udiff"
)

// Where Bitcoin Core keeps example scripts and functional tests, relative
// to the root of the tree.
const (
	ExampleDir = "contrib/tracing"
	TestDir    = "test/functional"
)

// FileChange is one file of a patch: its text before and after, or a new
// file.
type FileChange struct {
	Path     string // relative to the tree's root, slash separated
	Old, New string
	Created  bool   // a new file: Old is empty
	Mode     string // a new file's mode, "100644" when empty
}

// Patch is the changes to a tree, written as one git-style unified diff.
type Patch []FileChange

// String is the patch as git apply takes it.
func (p Patch) String() string {
	var b strings.Builder
	for _, f := range p {
		if f.Created {
			mode := f.Mode
			if mode == "" {
				mode = "100644"
			}
			fmt.Fprintf(&b, "diff --git a/%s b/%s\nnew file mode %s\n", f.Path, f.Path, mode)
			b.WriteString(udiff.Unified("/dev/null", "b/"+f.Path, "", f.New))
			continue
		}
		fmt.Fprintf(&b, "diff --git a/%s b/%s\n", f.Path, f.Path)
		b.WriteString(unifiedDiff("a/"+f.Path, "b/"+f.Path, f.Old, f.New))
	}
	return b.String()
}

var hunkRe = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@`)
})

// unifiedDiff is udiff.Unified with each hunk's start in the new file
// computed from its start in the old one and the hunks before it: the
// library counts it short after a hunk that joins two nearby edits (git
// apply finds the place anyway, at an offset, but the patch should say it).
func unifiedDiff(oldName, newName, old, new string) string {
	lines := strings.SplitAfter(udiff.Unified(oldName, newName, old, new), "\n")
	shift := 0
	for i, l := range lines {
		m := hunkRe().FindStringSubmatch(l)
		if m == nil {
			continue
		}
		from, _ := strconv.Atoi(m[1])
		fromCount, toCount := 1, 1
		if m[2] != "" {
			fromCount, _ = strconv.Atoi(m[2])
		}
		if m[4] != "" {
			toCount, _ = strconv.Atoi(m[4])
		}
		to := from + shift
		if fromCount == 0 {
			to++ // "-N,0" names the line the insertion follows
		}
		if toCount == 0 {
			to--
		}
		newRange := strconv.Itoa(to)
		if m[4] != "" {
			newRange += "," + m[4]
		}
		oldRange := m[1]
		if m[2] != "" {
			oldRange += "," + m[2]
		}
		lines[i] = "@@ -" + oldRange + " +" + newRange + " @@" + l[len(m[0]):]
		shift += toCount - fromCount
	}
	return strings.Join(lines, "")
}

// ErrOutsideTree is wrapped by [InTree] for a path that is not in the tree.
var ErrOutsideTree = errors.New("not under the tree's root")

// InTree makes path (absolute, or relative to the working directory)
// relative to the tree at root, and refuses one outside it: by its name
// ("../x"), or by where it leads when it or a directory on its way is a
// symbolic link out of the tree. A path that does not exist yet is
// judged by its name and its existing parent directories.
func InTree(root, path string) (string, error) {
	absRoot, err := filepath.Abs(root)
	if err != nil {
		return "", err
	}
	abs := path
	if !filepath.IsAbs(abs) {
		abs = filepath.Join(absRoot, path)
	}
	rel, err := filepath.Rel(absRoot, filepath.Clean(abs))
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", fmt.Errorf("%s: %w %s", path, ErrOutsideTree, root)
	}
	realRoot, err := filepath.EvalSymlinks(absRoot)
	if err != nil {
		return rel, nil // the root itself is missing: reading will say so
	}
	// Resolve as much of the path as exists.
	probe, rest := filepath.Join(absRoot, rel), ""
	for {
		if _, err := os.Lstat(probe); err == nil {
			break
		}
		parent := filepath.Dir(probe)
		if parent == probe {
			return rel, nil
		}
		rest = filepath.Join(filepath.Base(probe), rest)
		probe = parent
	}
	real, err := filepath.EvalSymlinks(probe)
	if err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	if r, err := filepath.Rel(realRoot, filepath.Join(real, rest)); err != nil || r == ".." || strings.HasPrefix(r, ".."+string(filepath.Separator)) {
		return "", fmt.Errorf("%s leads to %s: %w %s", path, real, ErrOutsideTree, root)
	}
	return rel, nil
}

// FindTracepoint looks for a TRACEPOINT, TRACEPOINT_SEMAPHORE or TRACEn of id in
// the top-level directory of the tree at root that holds file (src/ for
// src/net.cpp) and returns where it is, as "path:line" relative to root,
// or "". Files it cannot scan are passed over.
func FindTracepoint(root, file, id string) string {
	top, _, ok := strings.Cut(filepath.ToSlash(file), "/")
	if !ok {
		return "" // a file at the root: AddTracepoint checks it
	}
	macros, _ := ScanDir(filepath.Join(root, top))
	for _, m := range macros {
		if (m.Kind == Tracepoint || m.Kind == Semaphore || m.Kind == Trace) && m.ID() == id {
			if rel, err := filepath.Rel(root, m.File); err == nil {
				return fmt.Sprintf("%s:%d", filepath.ToSlash(rel), m.Line)
			}
			return fmt.Sprintf("%s:%d", m.File, m.Line)
		}
	}
	return ""
}
