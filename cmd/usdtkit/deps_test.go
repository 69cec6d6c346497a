package main

import (
	"encoding/json"
	"io"
	"os/exec"
	"sort"
	"strings"
	"testing"
)

const module = "github.com/usdtkit/usdtkit"

// rule says what one package may import: packages of the module (by path
// below the module) and third-party module paths (a prefix); the
// standard library always.
type rule struct {
	project    []string
	thirdParty []string
}

// depsPolicy is the import direction of DESIGN, one rule per package of
// the module: nothing imports cmd; elf imports only the standard library;
// the tracepoint contract (docs/contract) is where the doc, the source and
// the binary meet, and audit and gen go through it; the trace session
// (bpf/trace) reads types from it; its outputs import the session.
var depsPolicy = map[string]rule{
	"elf":               {},
	"elf/elftest":       {thirdParty: []string{"github.com/rogpeppe/go-internal"}},
	"docs":              {},
	"patches":           {thirdParty: []string{"github.com/aymanbagabas/go-udiff"}},
	"patches/patchtest": {project: []string{"elf/elftest"}},
	"docs/contract":     {project: []string{"docs", "patches", "elf"}},
	"docs/audit":        {project: []string{"docs/contract", "docs", "patches", "elf"}},
	"gen":               {project: []string{"docs/contract", "docs", "patches", "elf"}},
	"bpf":               {project: []string{"elf"}, thirdParty: []string{"github.com/cilium/ebpf", "golang.org/x/sys"}},
	"bpf/bpftest":       {thirdParty: []string{"github.com/cilium/ebpf"}},
	"bpf/trace":         {project: []string{"bpf", "docs/contract", "docs", "elf"}, thirdParty: []string{"golang.org/x/sys"}},
	"bpf/trace/text":    {project: []string{"bpf/trace", "bpf"}, thirdParty: []string{"github.com/olekukonko/tablewriter"}},
	"bpf/trace/jsonl":   {project: []string{"bpf/trace", "bpf", "elf"}},
	"bpf/trace/follow":  {project: []string{"bpf/trace", "bpf/trace/text", "docs/contract", "elf"}, thirdParty: []string{"github.com/fsnotify/fsnotify"}},
	"bpf/trace/metrics": {project: []string{"bpf/trace", "bpf"}, thirdParty: []string{"github.com/prometheus/client_golang"}},
	"bpf/trace/export":  {project: []string{"bpf/trace", "bpf/trace/metrics", "bpf/trace/publish"}},
	"bpf/trace/publish": {project: []string{"bpf/trace", "bpf/trace/jsonl"}, thirdParty: []string{"github.com/nats-io/nats.go"}},
	"cmd/usdtkit":       {project: []string{"*"}, thirdParty: []string{"github.com/spf13/cobra", "github.com/spf13/pflag", "golang.org/x/term", "golang.org/x/mod"}},
	"cmd/usdtkit-bench": {project: []string{"elf"}, thirdParty: []string{"github.com/nats-io/nats.go", "github.com/cilium/ebpf", "golang.org/x/sys"}}, // counts what reaches nats-server, reads BPF run-time statistics
}

// testSupport are what any package's tests may import besides its rule.
var testSupport = rule{
	project:    []string{"elf/elftest", "bpf/bpftest", "patches/patchtest"},
	thirdParty: []string{"github.com/rogpeppe/go-internal", "github.com/nats-io/nats.go"}, // a real NATS client reads what is published
}

// pkg is one package as go list -test reports it.
type pkg struct {
	ImportPath string
	Imports    []string
}

// importViolations checks each package's imports against the policy.
func importViolations(pkgs []pkg, policy map[string]rule) []string {
	var bad []string
	for _, p := range pkgs {
		fields := strings.Fields(p.ImportPath)
		path := strings.TrimSuffix(fields[0], "_test") // external test packages
		isTest := len(fields) > 1 || path != fields[0]
		rel, ok := strings.CutPrefix(path, module+"/")
		if !ok || strings.HasSuffix(path, ".test") {
			continue
		}
		r, ok := policy[rel]
		if !ok {
			bad = append(bad, "package "+rel+" has no rule in the import policy")
			continue
		}
		for _, imp := range p.Imports {
			imp = strings.Fields(imp)[0]
			if irel, ok := strings.CutPrefix(imp, module+"/"); ok {
				switch {
				case irel == rel:
				case strings.HasPrefix(irel, "cmd/"):
					bad = append(bad, rel+" imports "+irel+": nothing imports cmd")
				case allows(r.project, irel, false) || isTest && allows(testSupport.project, irel, false):
				default:
					bad = append(bad, rel+" imports "+irel+": it may import "+listOr(r.project, "nothing")+" of the project")
				}
				continue
			}
			if first, _, _ := strings.Cut(imp, "/"); !strings.Contains(first, ".") {
				continue // the standard library
			}
			if !allows(r.thirdParty, imp, true) && !(isTest && allows(testSupport.thirdParty, imp, true)) {
				bad = append(bad, rel+" imports "+imp+": it may import "+listOr(r.thirdParty, "nothing")+" besides the standard library")
			}
		}
	}
	sort.Strings(bad)
	return bad
}

func listOr(list []string, none string) string {
	if len(list) == 0 {
		return none
	}
	return "only " + strings.Join(list, ", ")
}

// allows reports whether list allows path: "*" any, a module path also
// its packages.
func allows(list []string, path string, prefix bool) bool {
	for _, a := range list {
		if a == "*" || a == path || prefix && strings.HasPrefix(path, a+"/") {
			return true
		}
	}
	return false
}

// TestImportPolicy enforces the import direction of DESIGN on every
// package of the module, tests included.
func TestImportPolicy(t *testing.T) {
	out, err := exec.Command("go", "list", "-test", "-json=ImportPath,Imports", module+"/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var pkgs []pkg
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) < len(depsPolicy) {
		t.Fatalf("go list found %d packages", len(pkgs))
	}
	for _, v := range importViolations(pkgs, depsPolicy) {
		t.Error(v)
	}
	// Every rule is for a package that exists: no stale allowances.
	seen := map[string]bool{}
	for _, p := range pkgs {
		seen[strings.TrimPrefix(strings.TrimSuffix(strings.Fields(p.ImportPath)[0], "_test"), module+"/")] = true
	}
	for rel := range depsPolicy {
		if !seen[rel] {
			t.Errorf("the import policy has a rule for %s, which does not exist", rel)
		}
	}
}

// TestImportPolicyFails shows the check failing on violations.
func TestImportPolicyFails(t *testing.T) {
	pkgs := []pkg{
		{ImportPath: module + "/elf", Imports: []string{"fmt", module + "/docs"}},
		{ImportPath: module + "/gen", Imports: []string{module + "/bpf", "github.com/spf13/cobra"}},
		{ImportPath: module + "/docs", Imports: []string{module + "/cmd/usdtkit"}},
		{ImportPath: module + "/newpkg", Imports: nil},
		{ImportPath: module + "/docs/contract [" + module + "/docs/contract.test]", Imports: []string{module + "/elf/elftest"}},
	}
	got := importViolations(pkgs, depsPolicy)
	want := []string{
		"docs imports cmd/usdtkit: nothing imports cmd",
		"elf imports docs: it may import nothing of the project",
		"gen imports bpf: it may import only docs/contract, docs, patches, elf of the project",
		"gen imports github.com/spf13/cobra: it may import nothing besides the standard library",
		"package newpkg has no rule in the import policy",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("violations:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
