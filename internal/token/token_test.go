package token

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

var now = time.Date(2026, 11, 26, 7, 0, 0, 0, time.UTC)

const host = "https://adb-1234567890123456.7.azuredatabricks.net"

func sign(t *testing.T, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, claims)
	tok.Header["typ"] = "at+jwt"
	s, err := tok.SignedString([]byte("test-key-not-secret"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func databricksClaims() jwt.MapClaims {
	return jwt.MapClaims{
		"sub": "dev.user@example.com", "iss": host + "/oidc", "aud": "databricks-cli",
		"client_id": "databricks-cli", "scope": "offline_access all-apis",
		"iat": now.Add(-10 * time.Minute).Unix(), "exp": now.Add(50 * time.Minute).Unix(), "jti": "abc",
	}
}

func TestDecodeDatabricksToken(t *testing.T) {
	info, err := Decode(sign(t, databricksClaims()))
	if err != nil {
		t.Fatal(err)
	}
	if info.Subject != "dev.user@example.com" || info.ClientID != "databricks-cli" || info.Issuer != host+"/oidc" ||
		strings.Join(info.Scopes, ",") != "offline_access,all-apis" || strings.Join(info.Audience, ",") != "databricks-cli" ||
		!info.IssuedAt.Equal(now.Add(-10*time.Minute)) || !info.ExpiresAt.Equal(now.Add(50*time.Minute)) || info.ID != "abc" {
		t.Errorf("info = %+v", info)
	}
	if r := info.Remaining(now); r != 50*time.Minute {
		t.Errorf("remaining %v", r)
	}
}

func TestDecodeScpArrayAndAudienceArray(t *testing.T) {
	c := databricksClaims()
	delete(c, "scope")
	c["scp"] = []any{"sql", "offline_access"}
	c["aud"] = []any{"a", "b"}
	info, err := Decode(sign(t, c))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(info.Scopes, " ") != "sql offline_access" || len(info.Audience) != 2 {
		t.Errorf("scopes %v aud %v", info.Scopes, info.Audience)
	}
}

func TestCheck(t *testing.T) {
	expired := databricksClaims()
	expired["exp"] = now.Add(-3 * time.Minute).Unix()
	noExp := databricksClaims()
	delete(noExp, "exp")
	other := databricksClaims()
	other["iss"] = "https://other.cloud.databricks.com/oidc"
	badExp := databricksClaims()
	badExp["exp"] = "tomorrow"
	good := sign(t, databricksClaims())
	parts := strings.Split(good, ".")
	cases := []struct {
		name, raw, host string
		want            Status
		msg             string
	}{
		{"valid", good, host, Valid, "valid for 50 minutes more"},
		{"valid, host with slash and no scheme", good, strings.TrimPrefix(host, "https://") + "/", Valid, ""},
		{"valid, no host check", good, "", Valid, ""},
		{"expired", sign(t, expired), host, Expired, "expired 3 minutes ago"},
		{"no exp", sign(t, noExp), host, NoExpiry, "no expiry time"},
		{"exp of the wrong type", sign(t, badExp), host, Malformed, "claim exp has the wrong type"},
		{"issuer", sign(t, other), host, IssuerMismatch, "other.cloud.databricks.com"},
		{"missing", "  ", host, Missing, "no token"},
		{"two parts", parts[0] + "." + parts[1], host, Malformed, "three dot-separated parts"},
		{"bad base64", parts[0] + ".!!!." + parts[2], host, Malformed, "claims could not be decoded"},
		{"bad json", parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"sub":`)) + "." + parts[2], host, Malformed, "claims"},
		{"bad header", "x" + good, host, Malformed, "header"},
	}
	for _, c := range cases {
		v := Check(c.raw, now, c.host)
		if v.Status != c.want || !strings.Contains(v.Message, c.msg) {
			t.Errorf("%s: status %v message %q", c.name, v.Status, v.Message)
		}
		if v.Valid() != (c.want == Valid) || (v.Err() == nil) != (c.want == Valid) {
			t.Errorf("%s: Valid/Err disagree", c.name)
		}
		for _, p := range strings.Split(c.raw, ".") {
			if len(p) > 8 && strings.Contains(v.Message, p) {
				t.Errorf("%s: message contains part of the token", c.name)
			}
		}
	}
}

func TestExpectedIssuer(t *testing.T) {
	for in, want := range map[string]string{
		"https://adb-1.azuredatabricks.net":   "https://adb-1.azuredatabricks.net/oidc",
		"adb-1.azuredatabricks.net/":          "https://adb-1.azuredatabricks.net/oidc",
		"HTTPS://ADB-1.azuredatabricks.net//": "https://adb-1.azuredatabricks.net/oidc",
		"http://127.0.0.1:8080":               "http://127.0.0.1:8080/oidc",
		"":                                    "",
	} {
		if got := ExpectedIssuer(in); got != want {
			t.Errorf("ExpectedIssuer(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestHuman(t *testing.T) {
	for d, want := range map[time.Duration]string{
		30 * time.Second: "30 seconds", time.Minute: "1 minute", 59 * time.Minute: "59 minutes",
		time.Hour: "1 hour", 59*time.Minute + 59*time.Second: "1 hour", 42*time.Minute + 20*time.Second: "42 minutes", 65 * time.Minute: "1 hour 5 minutes", -2 * time.Minute: "2 minutes", 72 * time.Hour: "3 days",
	} {
		if got := Human(d); got != want {
			t.Errorf("Human(%v) = %q, want %q", d, got, want)
		}
	}
}
