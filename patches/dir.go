package patches

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// isSourceExt reports whether ScanDir reads files whose name ends in ext.
func isSourceExt(ext string) bool {
	switch ext {
	case ".c", ".cc", ".cpp", ".cxx", ".h", ".hh", ".hpp", ".hxx":
		return true
	}
	return false
}

// ScanDir scans the C and C++ sources (.c .cc .cpp .cxx .h .hh .hpp .hxx)
// under root, in lexical order of their paths, and returns their tracepoint
// macros. A Macro's File is the path under root joined to root.
//
// It skips hidden directories, build directories (build, _build, build-*,
// build_*, cmake-build-* and any directory holding a CMakeCache.txt),
// symbolic links and files that are not regular (FIFOs, devices): a root
// given as a symbolic link is followed, links inside the tree are not. A
// file it cannot read or scan does not stop it: the returned error joins
// the errors of all such files, and the macros of the others are returned
// with it.
func ScanDir(root string) ([]Macro, error) {
	st, err := os.Stat(root)
	if err != nil {
		return nil, fmt.Errorf("scan %s: %w", root, err)
	}
	if !st.IsDir() && !st.Mode().IsRegular() {
		return nil, fmt.Errorf("scan %s: not a directory or a regular file", root)
	}
	walk := root
	if real, err := filepath.EvalSymlinks(root); err == nil {
		walk = real
	}
	macros, err := scanTree(walk)
	if walk != root {
		for i := range macros {
			if rel, err := filepath.Rel(walk, macros[i].File); err == nil {
				macros[i].File = filepath.Join(root, rel)
			}
		}
	}
	return macros, err
}

func scanTree(root string) ([]Macro, error) {
	var macros []Macro
	var errs []error
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if path == root {
				return err
			}
			errs = append(errs, err)
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			if path != root && skipDir(path, d.Name()) {
				return fs.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || !isSourceExt(filepath.Ext(path)) {
			return nil
		}
		src, err := ReadFile(path)
		if err != nil {
			errs = append(errs, err)
			return nil
		}
		found, err := Scan(path, src)
		macros = append(macros, found...)
		if err != nil {
			errs = append(errs, err)
		}
		return nil
	})
	if err != nil {
		return macros, fmt.Errorf("scan %s: %w", root, err)
	}
	return macros, errors.Join(errs...)
}

func skipDir(path, name string) bool {
	if strings.HasPrefix(name, ".") || name == "build" || name == "_build" ||
		strings.HasPrefix(name, "build-") || strings.HasPrefix(name, "build_") ||
		strings.HasPrefix(name, "cmake-build-") {
		return true
	}
	_, err := os.Lstat(filepath.Join(path, "CMakeCache.txt"))
	return err == nil
}

// ReadFile reads a regular file of at most MaxFileSize bytes. It opens
// it without blocking, so that a FIFO put in the file's place after the
// walk saw it is refused rather than waited on.
func ReadFile(path string) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the path is in the message already
		}
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("read %s: not a regular file", path)
	}
	if st.Size() > MaxFileSize {
		return nil, fmt.Errorf("scan %s: %d bytes: %w", path, st.Size(), ErrTooLarge)
	}
	src, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if len(src) > MaxFileSize {
		return nil, fmt.Errorf("scan %s: over %d bytes: %w", path, MaxFileSize, ErrTooLarge)
	}
	return src, nil
}
