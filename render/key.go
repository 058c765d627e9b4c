package render

import (
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"math"
	"reflect"
	"slices"

	"github.com/aiobs/aiobs/compile/plan"
)

// digest is the SHA-256 of a plan value as the unit keys see it: every
// field reachable from it, in declaration order, except fields tagged
// key:"-". Such a field is either where a decision was written (a
// diag.Pos, which only findings read) or data a unit never reads (a
// team's list of workloads: each target reads its own). Two values with
// equal digests render equal bytes, so nothing an artifact depends on may
// carry that tag.
func digest(v any) [32]byte {
	return newDigester().sum(reflect.ValueOf(v))
}

// newDigester returns a digester whose memo lets values that share a
// pointer (the workload, environment and backend of many targets) be
// walked once. The plan must not change while it is in use.
func newDigester() *digester {
	return &digester{memo: map[pointer][32]byte{}}
}

// pointer identifies a pointed-to value.
type pointer struct {
	typ  reflect.Type
	addr uintptr
}

// unitKey is the hex key of a unit: its kind, the renderer's identity
// (salt) and the digests of everything its artifacts read.
func unitKey(salt, kind string, parts ...[32]byte) string {
	h := sha256.New()
	d := digester{h: h}
	d.string(salt)
	d.string(kind)
	for _, p := range parts {
		h.Write(p[:])
	}
	return hex.EncodeToString(h.Sum(nil))
}

type digester struct {
	h    hash.Hash
	buf  [8]byte
	memo map[pointer][32]byte
	// all includes the fields tagged key:"-".
	all bool
}

// sum is the digest of v alone.
func (d *digester) sum(v reflect.Value) [32]byte {
	sub := digester{h: sha256.New(), memo: d.memo, all: d.all}
	sub.value(v)
	var out [32]byte
	sub.h.Sum(out[:0])
	return out
}

func (d *digester) uint(n uint64) {
	binary.LittleEndian.PutUint64(d.buf[:], n)
	d.h.Write(d.buf[:])
}

// string writes s with its length first, so that no two sequences of
// strings hash alike.
func (d *digester) string(s string) {
	d.uint(uint64(len(s)))
	d.h.Write([]byte(s))
}

func (d *digester) value(v reflect.Value) {
	switch v.Kind() {
	case reflect.String:
		d.string(v.String())
	case reflect.Bool:
		if v.Bool() {
			d.uint(1)
		} else {
			d.uint(0)
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		d.uint(uint64(v.Int()))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		d.uint(v.Uint())
	case reflect.Float32, reflect.Float64:
		d.uint(math.Float64bits(v.Float()))
	case reflect.Pointer:
		if v.IsNil() {
			d.uint(0)
			return
		}
		d.uint(1)
		k := pointer{v.Type(), v.Pointer()}
		sum, ok := d.memo[k]
		if !ok {
			sum = d.sum(v.Elem())
			d.memo[k] = sum
		}
		d.h.Write(sum[:])
	case reflect.Interface:
		if v.IsNil() {
			d.uint(0)
			return
		}
		d.uint(1)
		d.value(v.Elem())
	case reflect.Slice, reflect.Array:
		d.uint(uint64(v.Len()))
		for i := range v.Len() {
			d.value(v.Index(i))
		}
	case reflect.Map:
		keys := v.MapKeys()
		if v.Type().Key().Kind() != reflect.String {
			panic(fmt.Sprintf("render: unit keys cannot hash map keys of type %s", v.Type().Key()))
		}
		slices.SortFunc(keys, func(a, b reflect.Value) int { return cmp.Compare(a.String(), b.String()) })
		d.uint(uint64(len(keys)))
		for _, k := range keys {
			d.string(k.String())
			d.value(v.MapIndex(k))
		}
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			if !d.all && f.Tag.Get("key") == "-" {
				continue
			}
			d.string(f.Name)
			d.value(v.Field(i))
		}
	default:
		// A func or channel in the plan would make keys meaningless; the
		// key test walks every plan type, so this cannot reach a user.
		panic(fmt.Sprintf("render: unit keys cannot hash a %s", v.Type()))
	}
}

// Fingerprint identifies a plan, every field of it positions included,
// together with its artifacts and the renderer (salt): two equal
// fingerprints mean the same findings, which is what lets the CLI
// remember a clean validation.
func Fingerprint(salt string, p *plan.Plan, files []Artifact) string {
	d := newDigester()
	d.all = true
	h := sha256.New()
	sub := digester{h: h}
	sub.string(salt)
	sum := d.sum(reflect.ValueOf(p))
	h.Write(sum[:])
	for _, f := range files {
		sub.string(f.Path)
		s := f.Sum()
		h.Write(s[:])
	}
	return hex.EncodeToString(h.Sum(nil))
}
