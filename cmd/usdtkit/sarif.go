package main

import (
	"encoding/json"
	"path/filepath"
	"sort"

	"github.com/usdtkit/usdtkit/docs/audit"
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

func printSARIF(io *IOStreams, findings []audit.Finding) error {
	kinds := map[string]bool{}
	run := sarifRun{Results: []sarifResult{}}
	for _, f := range findings {
		kinds[string(f.Kind)] = true
		loc := sarifLocation{PhysicalLocation: sarifPhysical{ArtifactLocation: sarifArtifact{URI: filepath.ToSlash(f.File)}}}
		if f.Line > 0 {
			loc.PhysicalLocation.Region = &sarifRegion{StartLine: f.Line}
		}
		msg := f.Message + " Fix: " + f.Fix
		if f.CallSite != "" {
			msg += " (call site " + f.CallSite + ")"
		}
		run.Results = append(run.Results, sarifResult{
			RuleID:    string(f.Kind),
			Level:     map[audit.Severity]string{audit.Error: "error", audit.Warning: "warning", audit.Info: "note"}[f.Severity],
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
	_, err = io.Out.Write(append(data, '\n'))
	return err
}
