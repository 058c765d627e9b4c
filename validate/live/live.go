// Package live checks the datasource bindings of environments against a
// running Grafana: every bound uid must exist there with the bound plugin
// type.
//
// It is the only check in aiobs that talks to the network, so it stays
// apart from validate's offline checks and runs only when asked for. It asks
// Grafana's HTTP API (GET /api/datasources/uid/:uid) once per distinct uid,
// reads at most 1 MiB per answer, and gives up when the context does.
// Missing or mistyped datasources are findings; a Grafana that cannot be
// reached, refuses the token or answers nonsense is an error, because then
// nothing was checked.
package live

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/aiobs/aiobs/compile/diag"
	"github.com/aiobs/aiobs/compile/plan"
)

// maxBody bounds what one answer may make us read; a datasource is a few
// hundred bytes, so anything near this is not Grafana.
const maxBody = 1 << 20

// Check confirms that the metrics, logs and traces datasources bound by
// envs exist in the Grafana at baseURL with the bound plugin type. token,
// when not empty, is sent as a bearer token. It returns
// DATASOURCE_MISSING and DATASOURCE_TYPE_MISMATCH findings at the
// decision that binds the datasource, or an error when Grafana could not
// answer the question.
func Check(ctx context.Context, client *http.Client, baseURL, token string, envs []*plan.Environment) (diag.List, error) {
	c := &checker{
		client: client,
		base:   strings.TrimRight(baseURL, "/"),
		token:  token,
		budget: budget(ctx, client),
		seen:   map[string]*answer{},
	}
	var out diag.List
	for _, env := range envs {
		for _, b := range []struct {
			signal string
			ds     plan.Datasource
		}{
			{"metrics", env.Datasources.Metrics},
			{"logs", env.Datasources.Logs},
			{"traces", env.Datasources.Traces},
		} {
			if b.ds.UID == "" {
				continue // unbound: validate's offline checks report it
			}
			got, err := c.lookup(ctx, b.ds.UID)
			if err != nil {
				return nil, err
			}
			d := diag.Diagnostic{Pos: b.ds.Pos, Rule: "DATASOURCE_MISSING", Severity: diag.Error,
				Path: "environments." + env.Name + ".datasources." + b.signal}
			switch {
			case !got.found:
				d.Msg = fmt.Sprintf("datasource uid %q (type %s) does not exist in grafana at %s", b.ds.UID, b.ds.Type, c.base)
			case got.typ != b.ds.Type:
				d.Rule = "DATASOURCE_TYPE_MISMATCH"
				d.Msg = fmt.Sprintf("datasource uid %q has type %s in grafana at %s, want %s", b.ds.UID, got.typ, c.base, b.ds.Type)
			default:
				continue
			}
			out = append(out, d)
		}
	}
	return out, nil
}

type checker struct {
	client *http.Client
	base   string
	token  string
	budget time.Duration // for the timeout message; 0 if unknown
	seen   map[string]*answer
}

// answer is what Grafana says about one uid.
type answer struct {
	found bool
	typ   string
}

// lookup asks Grafana about uid once; environments often share a
// datasource, and a second request could only disagree with the first.
func (c *checker) lookup(ctx context.Context, uid string) (*answer, error) {
	if a, ok := c.seen[uid]; ok {
		return a, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/api/datasources/uid/"+url.PathEscape(uid), nil)
	if err != nil {
		return nil, fmt.Errorf("--grafana-url %q is not a usable URL", c.base)
	}
	req.Header.Set("Accept", "application/json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return nil, c.transportError(ctx, err)
	}
	defer resp.Body.Close()
	a := &answer{}
	switch resp.StatusCode {
	case http.StatusOK:
		var ds struct {
			UID  string `json:"uid"`
			Type string `json:"type"`
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
		if err != nil {
			return nil, c.transportError(ctx, err)
		}
		if err := json.Unmarshal(body, &ds); err != nil || ds.Type == "" {
			return nil, fmt.Errorf("grafana at %s answered datasource uid %q with something other than a datasource: is --grafana-url the root of a Grafana?", c.base, uid)
		}
		a.found, a.typ = true, ds.Type
	case http.StatusNotFound:
	case http.StatusUnauthorized, http.StatusForbidden:
		return nil, fmt.Errorf("grafana at %s refused the token (%d): set AIOBS_GRAFANA_TOKEN to a service-account token with datasources:read", c.base, resp.StatusCode)
	default:
		return nil, fmt.Errorf("grafana at %s answered %s for datasource uid %q", c.base, resp.Status, uid)
	}
	c.seen[uid] = a
	return a, nil
}

// transportError says in a few words why no answer came. The raw error
// chain (Get "...": dial tcp ...: connect: ...) repeats the URL and buries
// the cause, so it is classified instead of wrapped.
func (c *checker) transportError(ctx context.Context, err error) error {
	var dnsErr *net.DNSError
	var netErr net.Error
	var certErr *tls.CertificateVerificationError
	switch {
	case errors.Is(ctx.Err(), context.Canceled):
		return fmt.Errorf("live check against grafana at %s was interrupted", c.base)
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		if c.budget > 0 {
			return fmt.Errorf("grafana at %s did not answer within %s", c.base, c.budget)
		}
		return fmt.Errorf("grafana at %s did not answer in time", c.base)
	case errors.As(err, &dnsErr):
		return fmt.Errorf("grafana at %s: host not found", c.base)
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("grafana at %s refused the connection", c.base)
	case errors.As(err, &certErr):
		return fmt.Errorf("grafana at %s: its TLS certificate is not trusted", c.base)
	}
	return fmt.Errorf("could not reach grafana at %s", c.base)
}

// budget is the time the caller allowed, for the timeout message: the
// context's deadline or the client's timeout, whichever is sooner.
func budget(ctx context.Context, client *http.Client) time.Duration {
	d := client.Timeout
	if deadline, ok := ctx.Deadline(); ok {
		if left := time.Until(deadline).Round(time.Millisecond); d == 0 || left < d {
			d = left
		}
	}
	return d
}
