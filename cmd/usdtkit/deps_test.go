package main

import (
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/usdtkit/usdtkit"

// depsPolicy says what each package of the module may import: other packages
// of the module (by path below the module) and third-party modules. The
// standard library is always allowed. A package's sub-packages (elf/elftest)
// follow the same rules and may import their parent.
var depsPolicy = map[string]struct{ project, thirdParty []string }{
	"elf":     {nil, nil},
	"docs":    {[]string{"elf"}, []string{"github.com/yuin/goldmark"}},
	"patches": {nil, []string{"github.com/aymanbagabas/go-udiff"}},
	"gen":     {[]string{"docs", "patches", "elf"}, []string{"github.com/aymanbagabas/go-udiff"}},
	"bpf":     {[]string{"elf"}, []string{"github.com/cilium/ebpf", "golang.org/x/sys"}},
	"cmd":     {[]string{"gen", "bpf", "docs", "patches", "elf"}, []string{""}}, // anything
}

// testSupport are modules any package's tests may use.
var testSupport = []string{"github.com/rogpeppe/go-internal"}

// TestImportPolicy enforces the import direction of DESIGN: cmd/usdtkit may
// import everything, gen imports docs, patches and elf, bpf and docs import
// elf, elf imports only the standard library, and nothing imports cmd.
func TestImportPolicy(t *testing.T) {
	out, err := exec.Command("go", "list", "-test", "-json=ImportPath,Imports,Standard", module+"/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	checked := 0
	for {
		var p struct {
			ImportPath string
			Imports    []string
		}
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		isTest := strings.Contains(p.ImportPath, " [") || strings.HasSuffix(strings.Fields(p.ImportPath)[0], "_test")
		path := strings.TrimSuffix(strings.Fields(p.ImportPath)[0], "_test") // drop " [pkg.test]", external tests
		rel, ok := strings.CutPrefix(path, module+"/")
		if !ok || strings.HasSuffix(path, ".test") {
			continue
		}
		top, _, _ := strings.Cut(rel, "/")
		rule, ok := depsPolicy[top]
		if !ok {
			t.Errorf("package %s is outside the layout (cmd, elf, bpf, gen, patches, docs)", path)
			continue
		}
		checked++
		for _, imp := range p.Imports {
			imp = strings.Fields(imp)[0] // a test variant: "elf [elf.test]"
			if irel, ok := strings.CutPrefix(imp, module+"/"); ok {
				itop, _, _ := strings.Cut(irel, "/")
				if isTest && (irel == "bpf/bpftest" || irel == "elf/elftest") {
					continue // the shared test helpers serve every package's tests
				}
				if itop == "cmd" && top != "cmd" {
					t.Errorf("%s imports %s: nothing imports cmd", path, imp)
				}
				if itop != top && !contains(rule.project, itop) {
					t.Errorf("%s imports %s: %s may import only %v of the project", path, imp, top, rule.project)
				}
				continue
			}
			first, _, _ := strings.Cut(imp, "/")
			if !strings.Contains(first, ".") {
				continue // standard library
			}
			allowed := false
			if isTest {
				for _, tp := range testSupport {
					allowed = allowed || imp == tp || strings.HasPrefix(imp, tp+"/")
				}
			}
			for _, tp := range rule.thirdParty {
				if tp == "" || imp == tp || strings.HasPrefix(imp, tp+"/") {
					allowed = true
				}
			}
			if !allowed {
				t.Errorf("%s imports %s: %s may import only the standard library and %v", path, imp, top, rule.thirdParty)
			}
		}
	}
	if checked == 0 {
		t.Fatal("go list found no package of the module")
	}
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
