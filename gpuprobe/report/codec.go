package report

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
)

// Read decodes one report. It rejects a missing or unknown schema version,
// unknown keys, trailing data and unknown enum values, so a consumer never
// acts on a report it half understood.
func Read(r io.Reader) (Report, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return Report{}, fmt.Errorf("read gpuprobe report: %w", err)
	}
	// Check the version before the strict decode: a newer report fails with
	// "schema not supported", not with an unknown-key error.
	var head struct {
		Schema *string `json:"schema"`
	}
	if err := json.NewDecoder(bytes.NewReader(data)).Decode(&head); err != nil {
		return Report{}, fmt.Errorf("read gpuprobe report: %w", err)
	}
	if head.Schema == nil {
		return Report{}, fmt.Errorf("read gpuprobe report: no schema key; want %q", SchemaVersion)
	}
	if *head.Schema != SchemaVersion {
		return Report{}, fmt.Errorf("read gpuprobe report: schema %q is not supported; want %q", *head.Schema, SchemaVersion)
	}

	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var rep Report
	if err := dec.Decode(&rep); err != nil {
		return Report{}, fmt.Errorf("read gpuprobe report: %w", err)
	}
	var extra json.RawMessage
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return Report{}, errors.New("read gpuprobe report: trailing data after the report")
	}
	if err := validate(rep); err != nil {
		return Report{}, fmt.Errorf("read gpuprobe report: %w", err)
	}
	return rep, nil
}

// Write encodes r canonically: slices sorted, 2-space indent, no HTML
// escaping, trailing newline. The same report always gives the same bytes.
// r itself is not modified.
func Write(w io.Writer, r Report) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(canonical(r)); err != nil {
		return fmt.Errorf("write gpuprobe report: %w", err)
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("write gpuprobe report: %w", err)
	}
	return nil
}

func validate(r Report) error {
	switch r.Backend.Name {
	case BackendDCGMEmbedded, BackendDCGMStandalone, BackendNVML:
	default:
		return fmt.Errorf("backend.name: unknown backend %q; want one of %s, %s, %s",
			r.Backend.Name, BackendDCGMEmbedded, BackendDCGMStandalone, BackendNVML)
	}
	switch r.Benchmarks.Engine.Status {
	case EngineMeasured, EngineUnknown:
	default:
		return fmt.Errorf("benchmarks.engine.status: unknown status %q; want %s or %s",
			r.Benchmarks.Engine.Status, EngineMeasured, EngineUnknown)
	}
	for i, g := range r.GPUs {
		if err := validateFields(fmt.Sprintf("gpus[%d].fields", i), g.Fields); err != nil {
			return err
		}
		for j, in := range g.Instances {
			if err := validateFields(fmt.Sprintf("gpus[%d].instances[%d].fields", i, j), in.Fields); err != nil {
				return err
			}
		}
	}
	return validateFields("global", r.Global)
}

func validateFields(path string, fields []Field) error {
	for i, f := range fields {
		if !slices.Contains(Statuses(), f.Status) {
			return fmt.Errorf("%s[%d].status: unknown status %q", path, i, f.Status)
		}
	}
	return nil
}

// canonical returns a copy of r with every slice in its canonical order.
func canonical(r Report) Report {
	r.GPUs = slices.Clone(r.GPUs)
	for i := range r.GPUs {
		g := &r.GPUs[i]
		g.Fields = sortedFields(g.Fields)
		g.Instances = slices.Clone(g.Instances)
		for j := range g.Instances {
			g.Instances[j].Fields = sortedFields(g.Instances[j].Fields)
		}
		slices.SortStableFunc(g.Instances, func(a, b Instance) int { return cmp.Compare(a.EntityID, b.EntityID) })
	}
	slices.SortStableFunc(r.GPUs, func(a, b GPU) int { return cmp.Compare(a.Index, b.Index) })
	r.Global = sortedFields(r.Global)

	r.Profiling = slices.Clone(r.Profiling)
	for i := range r.Profiling {
		p := &r.Profiling[i]
		p.GPUs = sortedInts(p.GPUs)
		p.Groups = slices.Clone(p.Groups)
		for j := range p.Groups {
			p.Groups[j].FieldIDs = sortedInts(p.Groups[j].FieldIDs)
		}
		slices.SortStableFunc(p.Groups, func(a, b MetricGroup) int {
			return cmp.Or(cmp.Compare(a.Major, b.Major), cmp.Compare(a.Minor, b.Minor))
		})
	}
	slices.SortStableFunc(r.Profiling, func(a, b Profiling) int { return cmp.Compare(a.Model, b.Model) })

	c := &r.Capabilities
	c.Metrics = sortedStrings(c.Metrics)
	c.EventOnly = sortedStrings(c.EventOnly)
	c.Substitutes = slices.Clone(c.Substitutes)
	slices.SortStableFunc(c.Substitutes, func(a, b Substitute) int {
		return cmp.Or(cmp.Compare(a.Metric, b.Metric), cmp.Compare(a.Use, b.Use))
	})
	return r
}

// The sorted* helpers keep nil as nil so a report without a key writes it
// back the same way.

func sortedFields(fs []Field) []Field {
	fs = slices.Clone(fs)
	slices.SortStableFunc(fs, func(a, b Field) int { return cmp.Compare(a.ID, b.ID) })
	return fs
}

func sortedInts(xs []int) []int {
	xs = slices.Clone(xs)
	slices.Sort(xs)
	return xs
}

func sortedStrings(xs []string) []string {
	xs = slices.Clone(xs)
	slices.Sort(xs)
	return xs
}
