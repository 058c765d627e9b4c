package grafana

import (
	"encoding/json"
	"fmt"

	"github.com/aiobs/aiobs/compile/diag"
	"github.com/aiobs/aiobs/compile/plan"
	"github.com/aiobs/aiobs/render/encode"
	"github.com/aiobs/aiobs/render/write"
)

// Size limits of a dashboard's ConfigMap. Client-side kubectl apply keeps
// a copy of the whole object in the last-applied-configuration
// annotation, and annotations may hold 256 KiB in all; the API server
// refuses any ConfigMap over 1 MiB.
const (
	MaxAppliedBytes   = 262144
	MaxConfigMapBytes = 1 << 20
)

// Sidecar conventions of the Grafana Helm chart's k8s-sidecar: it loads
// ConfigMaps carrying the label and, with folderAnnotation set to
// FolderAnnotation and foldersFromFilesStructure on, files each one into
// the folder its annotation names.
const (
	SidecarLabel     = "grafana_dashboard"
	FolderAnnotation = "grafana_folder"
)

// configMapObject is a ConfigMap with its fields in kubectl's order.
type configMapObject struct {
	APIVersion string            `json:"apiVersion" yaml:"apiVersion"`
	Kind       string            `json:"kind" yaml:"kind"`
	Metadata   configMapMeta     `json:"metadata" yaml:"metadata"`
	Data       map[string]string `json:"data" yaml:"data,omitempty"`
}

type configMapMeta struct {
	Name        string            `json:"name" yaml:"name"`
	Labels      map[string]string `json:"labels" yaml:"labels"`
	Annotations map[string]string `json:"annotations" yaml:"annotations"`
}

// configMap wraps one dashboard for the sidecar, refusing one that
// kubectl apply or the API server would reject for its size.
func configMap(env *plan.Environment, b *board, dash []byte) (write.File, diag.List, error) {
	cm := configMapObject{
		APIVersion: "v1",
		Kind:       "ConfigMap",
		Metadata: configMapMeta{
			Name: "aiobs-dashboard-" + b.uid,
			Labels: map[string]string{
				SidecarLabel:                   "1",
				"app.kubernetes.io/managed-by": "aiobs",
			},
			Annotations: map[string]string{FolderAnnotation: b.folder},
		},
		Data: map[string]string{b.uid + ".json": string(dash)},
	}
	path := env.Name + "/kubernetes/grafana-dashboards/" + b.uid + ".yaml"
	applied, err := json.Marshal(cm)
	if err != nil {
		return write.File{}, nil, err
	}
	if d := sizeFinding(len(applied), path, b.pos); d != nil {
		return write.File{}, diag.List{*d}, nil
	}
	data, err := configMapYAML(cm, b.uid+".json", dash)
	if err != nil {
		return write.File{}, nil, err
	}
	return write.File{Path: path, Bytes: data}, nil, nil
}

// configMapYAML writes the ConfigMap with its one data key. The dashboard
// is already canonical JSON, which YAML writes as a literal block: its
// lines indented under the key. Composing that from the bytes avoids the
// encoder's character-by-character analysis of the largest artifact
// aiobs writes; anything the composition cannot prove it writes as the
// encoder would goes through the encoder.
func configMapYAML(cm configMapObject, key string, dash []byte) ([]byte, error) {
	if encode.PlainKey(key) {
		cm.Data = nil
		head, err := encode.YAML(cm)
		if err != nil {
			return nil, err
		}
		out := make([]byte, 0, len(head)+len(key)+len(dash)+len(dash)/4+16)
		out = append(append(append(out, head...), "data:\n  "...), key...)
		if out, ok := encode.AppendLiteral(append(out, ':'), 4, dash); ok {
			return out, nil
		}
	}
	cm.Data = map[string]string{key: string(dash)}
	return encode.YAML(cm)
}

// sizeFinding reports a ConfigMap of n bytes (as kubectl would store it)
// that is too large, or nil.
func sizeFinding(n int, path string, pos diag.Pos) *diag.Diagnostic {
	limit, what := 0, ""
	switch {
	case n > MaxConfigMapBytes:
		limit, what = MaxConfigMapBytes, "the API server's 1 MiB object limit"
	case n > MaxAppliedBytes:
		limit, what = MaxAppliedBytes, "the 262144-byte annotation limit of kubectl apply"
	default:
		return nil
	}
	return &diag.Diagnostic{Pos: pos, Rule: "CONFIGMAP_TOO_LARGE", Severity: diag.Error, Artifact: path,
		Msg: fmt.Sprintf("dashboard ConfigMap is %d bytes, over %s (%d); split the workload or apply it server-side", n, what, limit)}
}
