package gen

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/usdtkit/usdtkit/patches"
)

// ErrUnknownRevision is returned by AddedSince for a revision git does not
// know.
var ErrUnknownRevision = errors.New("unknown revision")

// maxArchiveFile bounds a file taken from a revision; larger files are not
// C or C++ sources a person wrote.
const maxArchiveFile = 16 << 20

// AddedSince returns the IDs (context:event) of the tracepoints called in
// the source tree dir now that no call in dir named at the git revision
// rev: the tracepoints added since. A tracepoint whose call moved to
// another file is not added. It runs git, which must be on the PATH, and
// reads the revision's tree with git archive, scanned as
// [patches.ScanDir] scans the work tree.
func AddedSince(dir string, now []patches.Macro, rev string) (map[string]bool, error) {
	if strings.HasPrefix(rev, "-") {
		return nil, fmt.Errorf("read revision %s: %w", rev, ErrUnknownRevision)
	}
	git := func(args ...string) ([]byte, error) {
		cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			msg := strings.TrimSpace(stderr.String())
			if i := strings.IndexByte(msg, '\n'); i >= 0 {
				msg = msg[:i]
			}
			if msg == "" {
				msg = err.Error()
			}
			return nil, fmt.Errorf("run git %s: %s", args[0], msg)
		}
		return out, nil
	}
	if _, err := git("rev-parse", "--verify", "--quiet", rev+"^{commit}"); err != nil {
		if _, err2 := git("rev-parse", "--git-dir"); err2 != nil {
			return nil, fmt.Errorf("read revision %s: %w", rev, err2) // not a repository, or one git will not read
		}
		return nil, fmt.Errorf("read revision %s: %w", rev, ErrUnknownRevision)
	}
	top, err := git("rev-parse", "--show-toplevel")
	if err != nil {
		return nil, fmt.Errorf("read revision %s: %w", rev, err)
	}
	prefix, err := git("rev-parse", "--show-prefix")
	if err != nil {
		return nil, fmt.Errorf("read revision %s: %w", rev, err)
	}
	sub := strings.TrimSuffix(strings.TrimSpace(string(prefix)), "/")
	before := map[string]bool{}
	// A directory the revision does not have had no calls then.
	if _, err := git("cat-file", "-e", rev+":"+sub); err == nil {
		old, err := scanRevision(strings.TrimSpace(string(top)), rev, sub)
		if err != nil {
			return nil, fmt.Errorf("read revision %s: %w", rev, err)
		}
		for _, m := range old {
			if m.Kind != patches.Semaphore {
				before[m.ID()] = true
			}
		}
	}
	added := map[string]bool{}
	for _, m := range now {
		if m.Kind != patches.Semaphore && !before[m.ID()] {
			added[m.ID()] = true
		}
	}
	return added, nil
}

// scanRevision scans the directory sub of the repository top as it was at
// rev, extracted with git archive into a temporary directory.
func scanRevision(top, rev, sub string) ([]patches.Macro, error) {
	tmp, err := os.MkdirTemp("", "usdtkit-since-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	path := sub
	if path == "" {
		path = "."
	}
	cmd := exec.Command("git", "-C", top, "archive", "--format=tar", rev, "--", path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("run git archive: %w", err)
	}
	extractErr := extractSources(tar.NewReader(stdout), tmp)
	io.Copy(io.Discard, stdout)
	if err := cmd.Wait(); err != nil {
		return nil, fmt.Errorf("run git archive: %s", strings.TrimSpace(stderr.String()))
	}
	if extractErr != nil {
		return nil, extractErr
	}
	// What cannot be read at the revision was not called then.
	old, _ := patches.ScanDir(filepath.Join(tmp, filepath.FromSlash(sub)))
	return old, nil
}

// extractSources writes the regular files of a tar stream from git
// archive under dir, refusing names that would leave it.
func extractSources(tr *tar.Reader, dir string) error {
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if h.Typeflag != tar.TypeReg || h.Size > maxArchiveFile {
			continue
		}
		name := filepath.FromSlash(h.Name)
		if !filepath.IsLocal(name) {
			return fmt.Errorf("archive names %q outside the tree", h.Name)
		}
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		_, err = io.Copy(f, io.LimitReader(tr, maxArchiveFile))
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	}
}
