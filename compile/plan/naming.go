package plan

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
)

// maxUID is Grafana's limit on dashboard and folder uids.
const maxUID = 40

// ID names the workload uniquely across the organisation: team--workload.
// Names never contain a double dash, so the join cannot be ambiguous.
func (w *Workload) ID() string { return w.Team + "--" + w.Name }

// DashboardUID is the workload dashboard's uid: the same in every
// environment, at most 40 characters, lowercase letters, digits and dashes.
func (w *Workload) DashboardUID() string { return UID("aiobs", w.Team, w.Name) }

// UID joins the parts into a Grafana uid. When the result would exceed 40
// characters it keeps a readable prefix and appends 8 hex digits of a hash
// of the full identity, so distinct identities never collide silently.
func UID(parts ...string) string {
	full := strings.Join(parts, "--")
	if len(full) <= maxUID {
		return full
	}
	sum := sha256.Sum256([]byte(full))
	prefix := strings.TrimRight(full[:maxUID-9], "-")
	return prefix + "-" + hex.EncodeToString(sum[:4])
}

// DashboardURL is the link to a dashboard uid in the environment's Grafana.
func (e *Environment) DashboardURL(uid string) string {
	return e.GrafanaURL + "/d/" + uid
}

// Matchers returns every label matcher that selects a target's part of a
// catalogue series, sorted: the environment's static labels, the
// workload's selector, the model label and the series' own matchers.
func (t *Target) Matchers(s Series) []Matcher {
	var ms []Matcher
	for _, l := range t.Env.Labels {
		ms = append(ms, Matcher{Name: l.Name, Op: "=", Value: l.Value})
	}
	for _, l := range t.Workload.Selector {
		ms = append(ms, Matcher{Name: l.Name, Op: "=", Value: l.Value})
	}
	if t.Backend != nil && t.Backend.ModelLabel != "" {
		ms = append(ms, Matcher{Name: t.Backend.ModelLabel, Op: "=", Value: t.Workload.Model})
	}
	ms = append(ms, s.Matchers...)
	sortMatchers(ms)
	return ms
}

// Selector formats a PromQL vector selector for the target's part of the
// series, with suffix appended to the metric name (e.g. "_bucket").
func (t *Target) Selector(s Series, suffix string, extra ...Matcher) string {
	ms := append(t.Matchers(s), extra...)
	sortMatchers(ms)
	return s.Name + suffix + FormatMatchers(ms)
}

// FormatMatchers writes {a="x",b=~"y"} with every value quoted so that any
// character, quotes and backslashes included, reaches the query intact.
func FormatMatchers(ms []Matcher) string {
	var b strings.Builder
	b.WriteByte('{')
	for i, m := range ms {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(m.Name)
		b.WriteString(m.Op)
		b.WriteString(Quote(m.Value))
	}
	b.WriteByte('}')
	return b.String()
}

// Quote makes a PromQL or LogQL double-quoted string literal. Both
// languages read Go's escape sequences, so strconv.Quote is exact.
func Quote(s string) string { return strconv.Quote(s) }

func sortMatchers(ms []Matcher) {
	// Insertion sort keeps equal names in their given order, which matters
	// for a =~ and !~ pair on one label.
	for i := 1; i < len(ms); i++ {
		for j := i; j > 0 && ms[j].Name < ms[j-1].Name; j-- {
			ms[j], ms[j-1] = ms[j-1], ms[j]
		}
	}
}
