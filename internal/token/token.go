// Package token decodes a Databricks OAuth access token (a JWT) without verifying its signature and judges
// it against an injected time and the expected workspace. Nothing here returns or prints the token itself.
package token

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Info is what a token says about itself.
type Info struct {
	Subject   string
	ClientID  string
	Issuer    string
	Scopes    []string // from a "scope" string (space-separated) or an "scp" array
	Audience  []string
	ID        string // jti
	IssuedAt  time.Time
	ExpiresAt time.Time // zero when the token has no exp
}

// Remaining is the time left at now (negative once expired; 0 when there is no exp).
func (i *Info) Remaining(now time.Time) time.Duration {
	if i.ExpiresAt.IsZero() {
		return 0
	}
	return i.ExpiresAt.Sub(now)
}

// ErrMissing is returned by Decode for an empty token.
var ErrMissing = errors.New("no token")

// ErrMalformed is wrapped by Decode's errors for a token that is not a readable JWT.
var ErrMalformed = errors.New("not a well-formed JWT")

// Decode reads the claims of raw without checking its signature or expiry. Its errors never contain the
// token or any part of it.
func Decode(raw string) (*Info, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil, ErrMissing
	}
	if strings.Count(raw, ".") != 2 {
		return nil, fmt.Errorf("%w (expected three dot-separated parts, found %d)", ErrMalformed, strings.Count(raw, ".")+1)
	}
	claims := jwt.MapClaims{}
	_, _, err := jwt.NewParser().ParseUnverified(raw, claims)
	if err != nil {
		part := "its header or claims could not be decoded"
		switch {
		case strings.Contains(err.Error(), "header"):
			part = "its header could not be decoded"
		case strings.Contains(err.Error(), "claim"):
			part = "its claims could not be decoded"
		}
		return nil, fmt.Errorf("%w (%s)", ErrMalformed, part)
	}
	info := &Info{}
	var bad []string
	str := func(name string) string {
		v, ok := claims[name]
		if !ok || v == nil {
			return ""
		}
		s, ok := v.(string)
		if !ok {
			bad = append(bad, name)
		}
		return s
	}
	info.Subject = str("sub")
	info.Issuer = str("iss")
	info.ClientID = str("client_id")
	info.ID = str("jti")
	if aud, err := claims.GetAudience(); err == nil {
		info.Audience = aud
	} else {
		bad = append(bad, "aud")
	}
	if exp, err := claims.GetExpirationTime(); err != nil {
		bad = append(bad, "exp")
	} else if exp != nil {
		info.ExpiresAt = exp.Time
	}
	if iat, err := claims.GetIssuedAt(); err != nil {
		bad = append(bad, "iat")
	} else if iat != nil {
		info.IssuedAt = iat.Time
	}
	if s, ok := claims["scope"].(string); ok {
		info.Scopes = strings.Fields(s)
	} else if scp, ok := claims["scp"]; ok {
		switch v := scp.(type) {
		case string:
			info.Scopes = strings.Fields(v)
		case []any:
			for _, x := range v {
				s, ok := x.(string)
				if !ok {
					bad = append(bad, "scp")
					info.Scopes = nil
					break
				}
				info.Scopes = append(info.Scopes, s)
			}
		default:
			bad = append(bad, "scp")
		}
	}
	if len(bad) > 0 {
		return nil, fmt.Errorf("%w (claim %s has the wrong type)", ErrMalformed, strings.Join(bad, ", "))
	}
	return info, nil
}

// NormalizeHost returns the workspace URL in its usual form: https:// added when there is no scheme, no
// trailing slash, host in lower case.
func NormalizeHost(host string) string {
	h := strings.TrimSpace(host)
	if h == "" {
		return ""
	}
	if !strings.Contains(h, "://") {
		h = "https://" + h
	}
	h = strings.TrimRight(h, "/")
	scheme, rest, _ := strings.Cut(h, "://")
	hostPart, path, hasPath := strings.Cut(rest, "/")
	h = strings.ToLower(scheme) + "://" + strings.ToLower(hostPart)
	if hasPath {
		h += "/" + path
	}
	return h
}

// ExpectedIssuer is the "iss" a workspace's tokens carry: https://<host>/oidc.
func ExpectedIssuer(host string) string {
	h := NormalizeHost(host)
	if h == "" {
		return ""
	}
	return h + "/oidc"
}

// Status is the verdict on a token.
type Status int

const (
	// Valid: well-formed, exp present and in the future, issuer matching the workspace.
	Valid Status = iota
	// Missing: there is no token.
	Missing
	// Malformed: not a readable JWT.
	Malformed
	// NoExpiry: the token has no exp claim (treated as invalid).
	NoExpiry
	// Expired: exp is not in the future.
	Expired
	// IssuerMismatch: issued by another workspace than the expected host.
	IssuerMismatch
)

var statusNames = map[Status]string{
	Valid: "valid", Missing: "missing", Malformed: "malformed", NoExpiry: "missing exp",
	Expired: "expired", IssuerMismatch: "issuer mismatch",
}

func (s Status) String() string { return statusNames[s] }

// Verdict is a judged token.
type Verdict struct {
	Status Status
	// Info is nil when the token is missing or malformed.
	Info *Info
	// Message says in one line what is wrong (or, when valid, how long it lasts). No token in it.
	Message string
	// Remaining is the time left at the judging time (0 when unknown).
	Remaining time.Duration
}

// Valid reports whether the token can be used.
func (v Verdict) Valid() bool { return v.Status == Valid }

// Err returns the verdict as an error (nil when valid).
func (v Verdict) Err() error {
	if v.Valid() {
		return nil
	}
	return errors.New(v.Message)
}

// Check judges raw at now for the workspace host (issuer not checked when host is "").
func Check(raw string, now time.Time, host string) Verdict {
	info, err := Decode(raw)
	switch {
	case errors.Is(err, ErrMissing):
		return Verdict{Status: Missing, Message: "there is no token"}
	case err != nil:
		return Verdict{Status: Malformed, Message: "the token is " + err.Error()}
	}
	return Judge(info, now, host)
}

// Judge judges decoded claims at now for the workspace host (issuer not checked when host is "").
func Judge(info *Info, now time.Time, host string) Verdict {
	v := Verdict{Info: info}
	if info.ExpiresAt.IsZero() {
		v.Status, v.Message = NoExpiry, "the token has no expiry time (exp claim), so it cannot be trusted"
		return v
	}
	v.Remaining = info.ExpiresAt.Sub(now)
	if v.Remaining <= 0 {
		v.Status = Expired
		v.Message = fmt.Sprintf("the token expired %s ago (at %s)", Human(-v.Remaining), info.ExpiresAt.UTC().Format("2006-01-02 15:04:05 UTC"))
		return v
	}
	if want := ExpectedIssuer(host); want != "" && !strings.EqualFold(strings.TrimRight(info.Issuer, "/"), want) {
		v.Status = IssuerMismatch
		v.Message = fmt.Sprintf("the token was issued by %q, not by the workspace in DATABRICKS_HOST (expected %q)", info.Issuer, want)
		return v
	}
	v.Status = Valid
	v.Message = fmt.Sprintf("the token is valid for %s more (until %s)", Human(v.Remaining), info.ExpiresAt.UTC().Format("2006-01-02 15:04:05 UTC"))
	return v
}

// Human renders a duration for people, rounded to its unit: "42 minutes", "1 hour 5 minutes", "30 seconds".
func Human(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	if d >= time.Minute-time.Second/2 {
		d = d.Round(time.Minute)
	} else {
		d = d.Round(time.Second)
	}
	plural := func(n int64, unit string) string {
		if n == 1 {
			return fmt.Sprintf("1 %s", unit)
		}
		return fmt.Sprintf("%d %ss", n, unit)
	}
	switch {
	case d < time.Minute:
		return plural(int64(d/time.Second), "second")
	case d < time.Hour:
		return plural(int64(d/time.Minute), "minute")
	case d < 48*time.Hour:
		h, m := int64(d/time.Hour), int64(d%time.Hour/time.Minute)
		if m == 0 {
			return plural(h, "hour")
		}
		return plural(h, "hour") + " " + plural(m, "minute")
	default:
		return plural(int64(d/(24*time.Hour)), "day")
	}
}
