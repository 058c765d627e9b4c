package encode_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/aiobs/aiobs/internal/synth/benchcpu"
	"github.com/aiobs/aiobs/internal/synth/synthtest"
	"github.com/aiobs/aiobs/render/encode"
	"github.com/aiobs/aiobs/render/grafana"
	"github.com/aiobs/aiobs/render/write"
)

// The encoding benchmarks take the dashboards the grafana renderer makes
// for a case and time, per case (all dashboards of every environment):
// canonical JSON (what every dashboard goes through once) and the YAML of
// the sidecar ConfigMaps that carry them as one string each.

func dashboards(b *testing.B, c synthtest.Case) []write.File {
	files, err := grafana.Render(synthtest.Plan(b, c))
	if err != nil {
		b.Fatal(err)
	}
	var out []write.File
	var n int64
	for _, f := range files {
		if strings.Contains(f.Path, "/grafana/dashboards/") && strings.HasSuffix(f.Path, ".json") {
			out = append(out, f)
			n += int64(len(f.Bytes))
		}
	}
	b.SetBytes(n)
	return out
}

// BenchmarkCanonicalJSON re-encodes every dashboard canonically.
func BenchmarkCanonicalJSON(b *testing.B) {
	for _, c := range synthtest.Cases(b) {
		b.Run(c.Name, func(b *testing.B) {
			boards := dashboards(b, c)
			b.ReportAllocs()
			stop := benchcpu.Start(b)
			for b.Loop() {
				for _, f := range boards {
					if _, err := encode.CanonicalJSON(f.Bytes); err != nil {
						b.Fatal(err)
					}
				}
			}
			stop()
		})
	}
}

// configMap has the shape of the grafana renderer's sidecar ConfigMap.
type configMap struct {
	APIVersion string            `yaml:"apiVersion"`
	Kind       string            `yaml:"kind"`
	Metadata   map[string]any    `yaml:"metadata"`
	Data       map[string]string `yaml:"data"`
}

// BenchmarkYAMLConfigMap encodes every dashboard into its ConfigMap, with
// the YAML encoder alone and with the literal block the grafana renderer
// composes.
func BenchmarkYAMLConfigMap(b *testing.B) {
	for _, c := range synthtest.Cases(b) {
		boards := dashboards(b, c)
		b.Run("impl=encoder/"+c.Name, func(b *testing.B) {
			b.ReportAllocs()
			stop := benchcpu.Start(b)
			for b.Loop() {
				for _, f := range boards {
					cm := configMap{APIVersion: "v1", Kind: "ConfigMap",
						Metadata: map[string]any{"name": "aiobs-dashboard-x", "labels": map[string]string{"grafana_dashboard": "1"}},
						Data:     map[string]string{"x.json": string(f.Bytes)}}
					if _, err := encode.YAML(cm); err != nil {
						b.Fatal(err)
					}
				}
			}
			stop()
		})
		b.Run("impl=literal/"+c.Name, func(b *testing.B) {
			b.ReportAllocs()
			stop := benchcpu.Start(b)
			for b.Loop() {
				for _, f := range boards {
					if _, ok := encode.AppendLiteral([]byte("data:\n  x.json:"), 4, f.Bytes); !ok {
						b.Fatalf("%s: not a literal block", f.Path)
					}
				}
			}
			stop()
		})
	}
}

// The prototypes below back proposals in the performance report; they are
// not used by aiobs. Each benchmark first proves, for every dashboard of
// the case, that the prototype writes exactly the bytes the current code
// writes.

// BenchmarkCanonicalJSONPrototype times a canonicaliser that sorts keys
// and indents straight from the bytes, without decoding into map[string]any
// and encoding again.
func BenchmarkCanonicalJSONPrototype(b *testing.B) {
	for _, c := range synthtest.Cases(b) {
		b.Run(c.Name, func(b *testing.B) {
			boards := dashboards(b, c)
			for _, f := range boards {
				// The renderer canonicalises the SDK's compact output;
				// compact the canonical bytes to get the same input back.
				var compact bytes.Buffer
				if err := json.Compact(&compact, f.Bytes); err != nil {
					b.Fatal(err)
				}
				want, err := encode.CanonicalJSON(compact.Bytes())
				if err != nil {
					b.Fatal(err)
				}
				got, err := canonicalPrototype(compact.Bytes())
				if err != nil {
					b.Fatal(err)
				}
				if !bytes.Equal(got, want) {
					b.Fatalf("%s: prototype output differs from encode.CanonicalJSON", f.Path)
				}
			}
			b.ReportAllocs()
			stop := benchcpu.Start(b)
			for b.Loop() {
				for _, f := range boards {
					if _, err := canonicalPrototype(f.Bytes); err != nil {
						b.Fatal(err)
					}
				}
			}
			stop()
		})
	}
}

// canonicalPrototype re-encodes JSON as encode.CanonicalJSON does: object
// keys sorted bytewise, two-space indent, no HTML escaping, numbers as
// written, a trailing newline. It parses once into a flat tree of byte
// slices, sorts each object's members, and writes.
func canonicalPrototype(raw []byte) ([]byte, error) {
	p := &tree{in: raw, nodes: make([]node, 0, len(raw)/16)}
	p.space()
	root, err := p.parse()
	if err != nil {
		return nil, err
	}
	if p.space(); p.pos != len(p.in) {
		return nil, fmt.Errorf("canonical json: trailing data at %d", p.pos)
	}
	out := make([]byte, 0, len(raw)+len(raw)/2)
	out = p.write(out, root, 0)
	return append(out, '\n'), nil
}

type node struct {
	kind     byte   // '{', '[', '"' or 0 for a literal
	key      string // the member name, decoded, when in an object
	keyRaw   []byte // the member name as written, when it can be copied
	raw      []byte // a scalar as written, when it can be copied
	str      string // a string that needs re-escaping
	children []int32
}

type tree struct {
	in    []byte
	pos   int
	nodes []node
}

func (p *tree) space() {
	for p.pos < len(p.in) {
		switch p.in[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *tree) parse() (int32, error) {
	if p.pos >= len(p.in) {
		return 0, fmt.Errorf("canonical json: unexpected end")
	}
	i := int32(len(p.nodes))
	p.nodes = append(p.nodes, node{})
	switch c := p.in[p.pos]; c {
	case '{', '[':
		p.pos++
		close := byte('}')
		if c == '[' {
			close = ']'
		}
		var children []int32
		for {
			p.space()
			if p.pos < len(p.in) && p.in[p.pos] == close && len(children) == 0 {
				p.pos++
				break
			}
			var key string
			var keyRaw []byte
			if c == '{' {
				start := p.pos
				k, plain, err := p.str()
				if err != nil {
					return 0, err
				}
				key = k
				if plain {
					keyRaw = p.in[start:p.pos]
				}
				p.space()
				if p.pos >= len(p.in) || p.in[p.pos] != ':' {
					return 0, fmt.Errorf("canonical json: want ':' at %d", p.pos)
				}
				p.pos++
				p.space()
			}
			child, err := p.parse()
			if err != nil {
				return 0, err
			}
			p.nodes[child].key, p.nodes[child].keyRaw = key, keyRaw
			children = append(children, child)
			p.space()
			if p.pos < len(p.in) && p.in[p.pos] == ',' {
				p.pos++
				continue
			}
			if p.pos < len(p.in) && p.in[p.pos] == close {
				p.pos++
				break
			}
			return 0, fmt.Errorf("canonical json: want ',' or %q at %d", close, p.pos)
		}
		if c == '{' {
			// Sorted stably, the last of equal keys kept, as decoding
			// into a map does.
			slices.SortStableFunc(children, func(a, b int32) int { return strings.Compare(p.nodes[a].key, p.nodes[b].key) })
			kept := children[:0]
			for j, ch := range children {
				if j+1 < len(children) && p.nodes[children[j+1]].key == p.nodes[ch].key {
					continue
				}
				kept = append(kept, ch)
			}
			children = kept
		}
		p.nodes[i].kind, p.nodes[i].children = c, children
	case '"':
		start := p.pos
		s, plain, err := p.str()
		if err != nil {
			return 0, err
		}
		p.nodes[i].kind = '"'
		if plain {
			p.nodes[i].raw = p.in[start:p.pos]
		} else {
			p.nodes[i].str = s
		}
	default:
		start := p.pos
		for p.pos < len(p.in) {
			switch p.in[p.pos] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				goto done
			}
			p.pos++
		}
	done:
		p.nodes[i].raw = p.in[start:p.pos]
	}
	return i, nil
}

func (p *tree) write(out []byte, i int32, depth int) []byte {
	n := &p.nodes[i]
	switch n.kind {
	case '{', '[':
		if len(n.children) == 0 {
			return append(out, n.kind, n.kind+2) // {} and [] are two apart in ASCII
		}
		out = append(out, n.kind)
		for j, ch := range n.children {
			if j > 0 {
				out = append(out, ',')
			}
			out = indent(out, depth+1)
			if n.kind == '{' {
				c := &p.nodes[ch]
				if c.keyRaw != nil {
					out = append(out, c.keyRaw...)
				} else {
					out = appendString(out, c.key)
				}
				out = append(out, ':', ' ')
			}
			out = p.write(out, ch, depth+1)
		}
		out = indent(out, depth)
		return append(out, n.kind+2)
	case '"':
		if n.raw != nil {
			return append(out, n.raw...)
		}
		return appendString(out, n.str)
	}
	return append(out, n.raw...)
}

func indent(out []byte, depth int) []byte {
	out = append(out, '\n')
	for range depth {
		out = append(out, ' ', ' ')
	}
	return out
}

// str reads a string token. plain says the token can be copied as it is:
// no escapes, and nothing encoding/json would escape on the way out.
func (p *tree) str() (string, bool, error) {
	if p.pos >= len(p.in) || p.in[p.pos] != '"' {
		return "", false, fmt.Errorf("canonical json: want string at %d", p.pos)
	}
	start := p.pos
	p.pos++
	plain := true
	for p.pos < len(p.in) {
		c := p.in[p.pos]
		switch {
		case c == '"':
			p.pos++
			tok := p.in[start:p.pos]
			if plain {
				return string(tok[1 : len(tok)-1]), true, nil
			}
			var v string
			if err := json.Unmarshal(tok, &v); err != nil {
				return "", false, err
			}
			return v, false, nil
		case c == '\\':
			plain = false
			p.pos += 2
		case c < 0x20:
			return "", false, fmt.Errorf("canonical json: control character in string at %d", p.pos)
		case c < utf8.RuneSelf:
			p.pos++
		default:
			r, n := utf8.DecodeRune(p.in[p.pos:])
			if r == utf8.RuneError || r == '\u2028' || r == '\u2029' {
				plain = false
			}
			p.pos += n
		}
	}
	return "", false, fmt.Errorf("canonical json: unterminated string")
}

// appendString writes s as encoding/json does with HTML escaping off.
func appendString(out []byte, s string) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	return append(out, bytes.TrimSuffix(buf.Bytes(), []byte("\n"))...)
}

// BenchmarkYAMLConfigMapPrototype times writing the sidecar ConfigMap as
// text: a fixed header, then the dashboard as a literal block, every line
