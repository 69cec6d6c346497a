package gen

import (
	"os"

	"github.com/rogpeppe/go-internal/txtar"
)

// archive is a golden file: a txtar archive read and rewritten by the tests.
type archive struct{ *txtar.Archive }

func readArchive(path string) (*archive, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return &archive{txtar.Parse(data)}, nil
}

func (a *archive) format() []byte { return txtar.Format(a.Archive) }

func (a *archive) file(name string) ([]byte, bool) {
	for _, f := range a.Files {
		if f.Name == name {
			return f.Data, true
		}
	}
	return nil, false
}

// set replaces the named file's contents, or adds the file.
func (a *archive) set(name string, data []byte) {
	for i := range a.Files {
		if a.Files[i].Name == name {
			a.Files[i].Data = data
			return
		}
	}
	a.Files = append(a.Files, txtar.File{Name: name, Data: data})
}
