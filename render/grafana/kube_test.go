package grafana

import (
	"testing"

	"github.com/aiobs/aiobs/render/encode"
)

func TestConfigMapYAMLIsWhatTheEncoderWrites(t *testing.T) {
	cm := configMapObject{APIVersion: "v1", Kind: "ConfigMap", Metadata: configMapMeta{
		Name: "aiobs-dashboard-x", Labels: map[string]string{SidecarLabel: "1"}, Annotations: map[string]string{FolderAnnotation: "team"}}}
	for _, tc := range []struct{ key, dash string }{
		{"x.json", "{\n  \"title\": \"p95 < 1s\"\n}\n"},
		{"x.json", "{\n  \"title\": \"tea ☕ time\"\n}\n"},
		{"x.json", "{\n  \"title\": \"smile 🙂\"\n}\n"},    // the encoder double-quotes
		{"x.json", "{\n  \"title\": \"trailing \" \n}\n"}, // space before a break
		{"x.json", "{}"},
		{"yes", "{\n}\n"}, // a key YAML quotes
		{"1.json", "{\n}\n"},
	} {
		got, err := configMapYAML(cm, tc.key, []byte(tc.dash))
		if err != nil {
			t.Fatal(err)
		}
		full := cm
		full.Data = map[string]string{tc.key: tc.dash}
		want, err := encode.YAML(full)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Errorf("%s %q:\n got %q\nwant %q", tc.key, tc.dash, got, want)
		}
	}
}
