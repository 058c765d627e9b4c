package panels

import (
	"encoding/json"
	"testing"
	"unicode/utf8"
)

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func utf8Valid(s string) bool { return utf8.ValidString(s) }
