package databricks

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/voyce/voyce-auth/internal/token"
)

// User is the answer of SCIM Me.
type User struct {
	ID          string
	UserName    string
	DisplayName string
	Active      bool
}

// Me asks the workspace who the token belongs to (GET {host}/api/2.0/preview/scim/v2/Me). serverDate is the
// response's Date header (zero when absent), the workspace's clock. A 401 or 403 is a *Error of
// KindUnauthorized ("rotate or log in again").
func Me(ctx context.Context, hc *http.Client, host, tok string) (*User, time.Time, error) {
	if hc == nil {
		hc = &http.Client{Timeout: 15 * time.Second}
	}
	host = token.NormalizeHost(host)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, host+"/api/2.0/preview/scim/v2/Me", nil)
	if err != nil {
		return nil, time.Time{}, &Error{Kind: KindOther, Msg: "bad workspace URL " + host, Fix: "set DATABRICKS_HOST to https://<workspace host>"}
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		msg := err.Error()
		var ue *url.Error
		if asURLError(err, &ue) {
			msg = ue.Err.Error()
		}
		return nil, time.Time{}, &Error{Kind: KindNetwork, Msg: "could not reach the workspace " + host + ": " + msg,
			Fix: "check the network and DATABRICKS_HOST", Err: err}
	}
	defer resp.Body.Close()
	var date time.Time
	if d := resp.Header.Get("Date"); d != "" {
		date, _ = http.ParseTime(d)
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusUnauthorized, http.StatusForbidden:
		var e struct {
			Message string `json:"message"`
		}
		json.Unmarshal(body, &e)
		what := "expired"
		if resp.StatusCode == http.StatusForbidden {
			what = "invalid"
		}
		msg := fmt.Sprintf("the workspace refused the token as %s (HTTP %d", what, resp.StatusCode)
		if e.Message != "" {
			msg += ": " + strings.TrimSpace(e.Message)
		}
		return nil, date, &Error{Kind: KindUnauthorized, Msg: msg + ")",
			Fix: "rotate it (voyce-auth rotate --force) or log in again (" + LoginCommand(host, "") + ")"}
	default:
		return nil, date, &Error{Kind: KindOther, Msg: fmt.Sprintf("the workspace answered HTTP %d to SCIM Me", resp.StatusCode)}
	}
	var u struct {
		ID          string `json:"id"`
		UserName    string `json:"userName"`
		DisplayName string `json:"displayName"`
		Active      bool   `json:"active"`
	}
	if err := json.Unmarshal(body, &u); err != nil || u.UserName == "" {
		return nil, date, &Error{Kind: KindGarbage, Msg: fmt.Sprintf("the workspace's SCIM Me answer is not the expected JSON (%d bytes)", len(body))}
	}
	return &User{ID: u.ID, UserName: u.UserName, DisplayName: u.DisplayName, Active: u.Active}, date, nil
}

func asURLError(err error, target **url.Error) bool {
	ue, ok := err.(*url.Error)
	if ok {
		*target = ue
	}
	return ok
}

// ValidateHost checks a workspace URL and returns its normal form: https (http only on loopback, for
// tests), a host, no path, query or credentials.
func ValidateHost(raw string) (string, error) {
	h := strings.TrimSpace(raw)
	if h == "" {
		return "", fmt.Errorf("DATABRICKS_HOST is empty: give the workspace URL, e.g. https://adb-1234567890123456.7.azuredatabricks.net")
	}
	norm := token.NormalizeHost(h)
	u, err := url.Parse(norm)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("DATABRICKS_HOST %q is not a URL: give https://<workspace host>", raw)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" || (u.Path != "" && u.Path != "/") {
		return "", fmt.Errorf("DATABRICKS_HOST %q must be only https://<workspace host>, without a path, query or user", raw)
	}
	switch u.Scheme {
	case "https":
	case "http":
		hn := u.Hostname()
		if hn != "localhost" && hn != "127.0.0.1" && hn != "::1" {
			return "", fmt.Errorf("DATABRICKS_HOST %q must use https://", raw)
		}
	default:
		return "", fmt.Errorf("DATABRICKS_HOST %q must use https://", raw)
	}
	return u.Scheme + "://" + u.Host, nil
}
