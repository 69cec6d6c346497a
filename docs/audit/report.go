package audit

import (
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/usdtkit/usdtkit/docs/contract"
)

// SARIF 2.1.0, the subset code scanning reads.
type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool    sarifTool     `json:"tool"`
	Results []sarifResult `json:"results"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	Version        string      `json:"version"`
	InformationURI string      `json:"informationUri"`
	Rules          []sarifRule `json:"rules"`
}

type sarifRule struct {
	ID               string       `json:"id"`
	ShortDescription sarifMessage `json:"shortDescription"`
}

type sarifMessage struct {
	Text string `json:"text"`
}

type sarifResult struct {
	RuleID    string          `json:"ruleId"`
	Level     string          `json:"level"`
	Message   sarifMessage    `json:"message"`
	Locations []sarifLocation `json:"locations"`
}

type sarifLocation struct {
	PhysicalLocation sarifPhysical `json:"physicalLocation"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifact `json:"artifactLocation"`
	Region           *sarifRegion  `json:"region,omitempty"`
}

type sarifArtifact struct {
	URI string `json:"uri"`
}

type sarifRegion struct {
	StartLine int `json:"startLine"`
}

// WriteSARIF writes the findings as a SARIF 2.1.0 log, which code
// scanning (GitHub's, among others) reads; version is the tool's.
func WriteSARIF(w io.Writer, findings []Finding, version string) error {
	kinds := map[string]bool{}
	run := sarifRun{Results: []sarifResult{}}
	for _, f := range findings {
		kinds[string(f.Kind)] = true
		loc := sarifLocation{PhysicalLocation: sarifPhysical{ArtifactLocation: sarifArtifact{URI: filepath.ToSlash(f.File)}}}
		if f.Line > 0 {
			loc.PhysicalLocation.Region = &sarifRegion{StartLine: f.Line}
		}
		msg := f.Named() + " Fix: " + f.Fix
		if f.CallSite != nil {
			msg += fmt.Sprintf(" (call site %#x)", *f.CallSite)
		}
		run.Results = append(run.Results, sarifResult{
			RuleID:    string(f.Kind),
			Level:     map[Severity]string{Error: "error", Warning: "warning", Info: "note"}[f.Severity],
			Message:   sarifMessage{Text: msg},
			Locations: []sarifLocation{loc},
		})
	}
	var ids []string
	for k := range kinds {
		ids = append(ids, k)
	}
	sort.Strings(ids)
	run.Tool.Driver = sarifDriver{Name: "usdtkit audit", Version: version, InformationURI: "https://github.com/usdtkit/usdtkit", Rules: []sarifRule{}}
	for _, id := range ids {
		run.Tool.Driver.Rules = append(run.Tool.Driver.Rules, sarifRule{ID: id, ShortDescription: sarifMessage{Text: "usdtkit audit finding: " + id + " (docs/audit.md)"}})
	}
	data, err := json.MarshalIndent(sarifLog{Schema: "https://json.schemastore.org/sarif-2.1.0.json", Version: "2.1.0", Runs: []sarifRun{run}}, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(data, '\n'))
	return err
}

// WriteGitHub writes the findings as GitHub Actions workflow commands,
// which the runner shows as annotations on the pull request.
func WriteGitHub(w io.Writer, findings []Finding) error {
	var b strings.Builder
	for _, f := range findings {
		level := map[Severity]string{Error: "error", Warning: "warning", Info: "notice"}[f.Severity]
		props := "file=" + ghProp(f.File)
		if f.Line > 0 {
			props += ",line=" + strconv.Itoa(f.Line)
		}
		props += ",title=" + ghProp("usdtkit audit: "+string(f.Kind))
		fmt.Fprintf(&b, "::%s %s::%s\n", level, props, ghData(f.Named()+"\nFix: "+f.Fix))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func ghData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

func ghProp(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}

// Report is the JSON form of an audit (docs/audit.md).
type Report struct {
	Findings []Finding `json:"findings"`
	Summary  Summary   `json:"summary"`
	Docs     *string   `json:"docs"`
	Src      *string   `json:"src"`
	Binaries []string  `json:"binaries"`
}

// Summary counts findings by severity.
type Summary struct {
	Errors   int `json:"errors"`
	Warnings int `json:"warnings"`
	Info     int `json:"info"`
}

// Count counts the findings by severity.
func Count(findings []Finding) Summary {
	var s Summary
	for _, f := range findings {
		switch f.Severity {
		case Error:
			s.Errors++
		case Warning:
			s.Warnings++
		default:
			s.Info++
		}
	}
	return s
}

// NewReport is the report of the findings of c.
func NewReport(c *contract.Contract, findings []Finding) Report {
	r := Report{Findings: findings, Summary: Count(findings), Binaries: []string{}}
	if r.Findings == nil {
		r.Findings = []Finding{}
	}
	if c.Doc != nil {
		r.Docs = &c.DocPath
	}
	if c.Source != nil {
		r.Src = &c.Source.Path
	}
	for _, b := range c.Binaries {
		r.Binaries = append(r.Binaries, b.Path)
	}
	return r
}
