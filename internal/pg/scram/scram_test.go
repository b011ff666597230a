package scram

import (
	"strings"
	"testing"
)

func TestVerifierShape(t *testing.T) {
	v, err := Verifier("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(v, "SCRAM-SHA-256$4096:") || !IsVerifier(v) {
		t.Fatalf("bad verifier shape (len %d)", len(v))
	}
	if !Matches(v, "correct horse battery staple") || Matches(v, "correct horse battery stapler") {
		t.Fatal("Matches is wrong")
	}
	w, _ := Verifier("correct horse battery staple")
	if v == w {
		t.Fatal("two verifiers share a salt")
	}
}

// Recompute round-trips; that the bytes match the server's own verifiers is tested against a real server in
// internal/pg (TestVerifierMatchesServer).
func TestRecomputeAndShape(t *testing.T) {
	got, err := VerifierWith("foobar", []byte("0123456789abcdef"), 4096)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := Recompute(got, "foobar")
	if got != again {
		t.Fatal("Recompute differs")
	}
	for _, bad := range []string{"", "md5abc", "SCRAM-SHA-256$x:abc$def:ghi", "SCRAM-SHA-256$4096:$a:b", "foobar"} {
		if IsVerifier(bad) {
			t.Errorf("IsVerifier(%q) = true", bad)
		}
	}
}

func TestNormalize(t *testing.T) {
	if Normalize("plain ASCII pass") != "plain ASCII pass" {
		t.Fatal("ASCII changed")
	}
	if Normalize("a\u00a0b") != "a b" {
		t.Fatal("non-ASCII space not mapped")
	}
}
