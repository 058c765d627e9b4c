package encode

import (
	"bytes"
	"strings"
	"unicode/utf8"
)

// The YAML encoder spends most of its time deciding, character by
// character, how to write each scalar. Two artifacts repeat large content
// another artifact already holds: a PrometheusRule's spec is the rule
// file, and a dashboard ConfigMap's data is the dashboard JSON. The
// functions below compose such documents from bytes already encoded,
// writing exactly what YAML would (two-space indent, no line wrapping), so
// the content is analysed once.

// Nest returns head, a YAML mapping document as YAML writes it, with one
// more key whose value is doc, another mapping document: every non-empty
// line of doc indented by two spaces. Block scalars inside doc stay valid
// because their indentation is relative to their parent's.
func Nest(head []byte, key string, doc []byte) []byte {
	out := make([]byte, 0, len(head)+len(key)+2+len(doc)+len(doc)/8)
	out = append(out, head...)
	out = append(out, key...)
	out = append(out, ":\n"...)
	return appendIndented(out, doc, "  ")
}

// AppendLiteral appends s the way YAML writes a multi-line string value
// whose key ends out: " |", a line break, and each line of s indented by
// indent spaces. It reports false, leaving out as it was, when YAML would
// not write s as a clipped literal block; the caller then encodes the
// whole document with YAML. That is the case when s does not end in
// exactly one line break, starts with a space or a break, has a space
// before a line break, or holds a character YAML does not write in a
// block (see printableRune).
func AppendLiteral(out []byte, indent int, s []byte) ([]byte, bool) {
	if !LiteralBlock(s) {
		return out, false
	}
	pad := bytes.Repeat([]byte{' '}, indent)
	out = append(out, " |\n"...)
	return appendIndented(out, s, string(pad)), true
}

func appendIndented(out, doc []byte, pad string) []byte {
	for line := range bytes.Lines(doc) {
		if len(line) > 1 {
			out = append(out, pad...)
		}
		out = append(out, line...)
	}
	return out
}

// LiteralBlock reports whether YAML writes s as a literal block with the
// default (clip) chomping and no indentation indicator; such a block, its
// lines indented, also reads back as exactly s.
func LiteralBlock(s []byte) bool {
	n := len(s)
	if n < 2 || s[n-1] != '\n' || s[n-2] == '\n' || s[0] == ' ' || s[0] == '\n' {
		return false
	}
	// A block scalar opening with a document marker is still a literal,
	// but keep the proof simple: YAML's analysis treats it specially.
	if bytes.HasPrefix(s, []byte("---")) || bytes.HasPrefix(s, []byte("...")) {
		return false
	}
	for i := 0; i < n; {
		c := s[i]
		switch {
		case c == '\n':
			if i > 0 && s[i-1] == ' ' {
				return false
			}
			i++
		case c >= 0x20 && c < 0x7f:
			i++
		case c < utf8.RuneSelf:
			// Tabs and control characters.
			return false
		default:
			r, w := utf8.DecodeRune(s[i:])
			if !printableRune(r) || (r == utf8.RuneError && w == 1) {
				return false
			}
			i += w
		}
	}
	return true
}

// printableRune is the part of YAML's printable set above ASCII that
// yaml.v3's emitter accepts in a block scalar: U+00A0 to U+FFFD without
// the surrogates and the byte order mark. It writes characters beyond the
// Basic Multilingual Plane double-quoted, and treats U+0085, U+2028 and
// U+2029 as line breaks.
func printableRune(r rune) bool {
	switch {
	case r == 0x2028 || r == 0x2029 || r == 0xFEFF:
		return false
	case r >= 0xA0 && r <= 0xD7FF, r >= 0xE000 && r <= 0xFFFD:
		return true
	}
	return false
}

// PlainKey reports whether YAML writes a mapping key as it is and reads it
// back as that string: a letter followed by letters, digits, dots,
// underscores and dashes, with a dot somewhere so that it is never one of
// YAML's booleans or nulls.
func PlainKey(key string) bool {
	for i, c := range key {
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if !letter && (i == 0 || !(c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-')) {
			return false
		}
	}
	return strings.Contains(key, ".")
}
