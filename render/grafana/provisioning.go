package grafana

import (
	"github.com/aiobs/aiobs/compile/plan"
	"github.com/aiobs/aiobs/render/encode"
	"github.com/aiobs/aiobs/render/write"
)

// providerFile is Grafana's dashboard provisioning file. Grafana expands
// $VAR and ${VAR} in it, so a literal dollar sign would have to be written
// $$; nothing aiobs writes here contains one.
type providerFile struct {
	APIVersion int        `yaml:"apiVersion"`
	Providers  []provider `yaml:"providers"`
}

type provider struct {
	Name                  string          `yaml:"name"`
	OrgID                 int             `yaml:"orgId"`
	Type                  string          `yaml:"type"`
	DisableDeletion       bool            `yaml:"disableDeletion"`
	AllowUIUpdates        bool            `yaml:"allowUiUpdates"`
	UpdateIntervalSeconds int             `yaml:"updateIntervalSeconds"`
	Options               providerOptions `yaml:"options"`
}

type providerOptions struct {
	Path                      string `yaml:"path"`
	FoldersFromFilesStructure bool   `yaml:"foldersFromFilesStructure"`
}

const providerHeader = `# Grafana dashboard provider written by aiobs. Copy <env>/grafana/dashboards/
# of the rendered output to ` + ProvisioningPath + `: every sub-directory
# (one per team, and ` + FleetFolder + `) becomes a Grafana folder.
# Grafana expands environment variables in this file: a literal dollar sign
# must be written twice.
`

// providerOf is the environment's dashboard file provider.
func providerOf(env *plan.Environment) (write.File, error) {
	data, err := encode.YAML(providerFile{
		APIVersion: 1,
		Providers: []provider{{
			Name: "aiobs",
			// Folders come from the directory tree, so neither folder nor
			// folderUid is set (Grafana rejects them together with
			// foldersFromFilesStructure).
			OrgID:                 1,
			Type:                  "file",
			DisableDeletion:       false,
			AllowUIUpdates:        false,
			UpdateIntervalSeconds: 30,
			Options: providerOptions{
				Path:                      ProvisioningPath,
				FoldersFromFilesStructure: true,
			},
		}},
	})
	if err != nil {
		return write.File{}, err
	}
	return write.File{
		Path:  env.Name + "/grafana/provisioning/dashboards/aiobs.yaml",
		Bytes: append([]byte(providerHeader), data...),
	}, nil
}
