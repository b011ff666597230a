// Package scram computes PostgreSQL SCRAM-SHA-256 password verifiers on the client, as psql's \password and
// libpq's PQencryptPasswordConn do, so that a password can be set with ALTER ROLE ... PASSWORD without the
// cleartext ever reaching the server (its logs, pg_stat_statements, or replication).
package scram

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/text/secure/precis"
)

// DefaultIterations is PostgreSQL's default scram_iterations.
const DefaultIterations = 4096

// SaltLen is the salt length PostgreSQL uses (SCRAM_DEFAULT_SALT_LEN).
const SaltLen = 16

// Verifier returns a "SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>" verifier for password with a
// fresh random salt and DefaultIterations.
func Verifier(password string) (string, error) {
	salt := make([]byte, SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("scram: random salt: %w", err)
	}
	return VerifierWith(password, salt, DefaultIterations)
}

// VerifierWith builds a verifier from a given salt and iteration count (for tests and known-answer checks).
func VerifierWith(password string, salt []byte, iterations int) (string, error) {
	if iterations < 1 {
		return "", errors.New("scram: iterations must be at least 1")
	}
	if len(salt) == 0 {
		return "", errors.New("scram: empty salt")
	}
	salted, err := pbkdf2.Key(sha256.New, Normalize(password), salt, iterations, sha256.Size)
	if err != nil {
		return "", fmt.Errorf("scram: %w", err)
	}
	clientKey := hmacSHA256(salted, "Client Key")
	storedKey := sha256.Sum256(clientKey)
	serverKey := hmacSHA256(salted, "Server Key")
	b64 := base64.StdEncoding.EncodeToString
	return "SCRAM-SHA-256$" + strconv.Itoa(iterations) + ":" + b64(salt) + "$" + b64(storedKey[:]) + ":" + b64(serverKey), nil
}

// Normalize applies SASLprep the way the clients that will log in do (pgx uses PRECIS OpaqueString, libpq
// pg_saslprep); when the password is not valid for it, the raw bytes are used, as PostgreSQL does. ASCII
// passwords without control characters are unchanged.
func Normalize(password string) string {
	ascii := true
	for i := 0; i < len(password); i++ {
		if password[i] >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		return password
	}
	n, err := precis.OpaqueString.String(password)
	if err != nil {
		return password
	}
	return n
}

func hmacSHA256(key []byte, msg string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(msg))
	return h.Sum(nil)
}

// IsVerifier reports whether s has the shape of a SCRAM-SHA-256 verifier (as stored in pg_authid.rolpassword).
func IsVerifier(s string) bool {
	rest, ok := strings.CutPrefix(s, "SCRAM-SHA-256$")
	if !ok {
		return false
	}
	iterSalt, keys, ok := strings.Cut(rest, "$")
	if !ok {
		return false
	}
	iter, salt, ok := strings.Cut(iterSalt, ":")
	if !ok {
		return false
	}
	if n, err := strconv.Atoi(iter); err != nil || n < 1 {
		return false
	}
	stored, server, ok := strings.Cut(keys, ":")
	if !ok {
		return false
	}
	for _, part := range []string{salt, stored, server} {
		if _, err := base64.StdEncoding.DecodeString(part); err != nil || part == "" {
			return false
		}
	}
	return true
}

// Recompute builds the verifier of password with the salt and iteration count of an existing verifier, so
// the two can be compared (equal means: password is the one stored).
func Recompute(verifier, password string) (string, error) {
	if !IsVerifier(verifier) {
		return "", errors.New("scram: not a SCRAM-SHA-256 verifier")
	}
	rest := strings.TrimPrefix(verifier, "SCRAM-SHA-256$")
	iterSalt, _, _ := strings.Cut(rest, "$")
	iter, salt64, _ := strings.Cut(iterSalt, ":")
	n, _ := strconv.Atoi(iter)
	salt, _ := base64.StdEncoding.DecodeString(salt64)
	return VerifierWith(password, salt, n)
}

// Matches reports whether verifier was made from password.
func Matches(verifier, password string) bool {
	v, err := Recompute(verifier, password)
	return err == nil && hmac.Equal([]byte(v), []byte(verifier))
}
