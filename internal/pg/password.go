package pg

import (
	"context"
	"errors"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"golang.org/x/text/unicode/norm"

	"github.com/voyce/voyce-auth/internal/pg/scram"
)

// Verifier returns the SCRAM-SHA-256 verifier of password (fresh salt), as psql's \password computes it.
func Verifier(password string) (string, error) { return scram.Verifier(password) }

// SetPassword sets role's password through conn with ALTER ROLE ... PASSWORD, sending a SCRAM-SHA-256
// verifier computed here, so the cleartext never reaches the server (its log, pg_stat_statements). Errors
// never contain the password.
func SetPassword(ctx context.Context, conn *pgx.Conn, role, password string) error {
	if password == "" {
		return errors.New("the new password is empty")
	}
	v, err := scram.Verifier(password)
	if err != nil {
		return err
	}
	return SetVerifier(ctx, conn, role, v)
}

// SetVerifier sets role's stored password to an already computed SCRAM-SHA-256 verifier.
func SetVerifier(ctx context.Context, conn *pgx.Conn, role, verifier string) error {
	if !scram.IsVerifier(verifier) || strings.ContainsAny(verifier, "'\\") {
		return errors.New("not a SCRAM-SHA-256 verifier")
	}
	// DDL takes no parameters; the verifier holds only base64, digits, '$' and ':'.
	_, err := conn.Exec(ctx, "ALTER ROLE "+pgx.Identifier{role}.Sanitize()+" PASSWORD '"+verifier+"'")
	return err
}

// CheckPassword reports why password cannot be used as a Postgres password the same way by every client
// (psql/libpq, pgx, the Python backend): it must be non-empty valid UTF-8 without control characters, and text
// outside ASCII must be left unchanged by SASLprep (NFKC, no non-ASCII spaces or invisible characters), or the
// clients could derive different SCRAM keys from it. It returns nil when the password is fine.
func CheckPassword(password string) error {
	if password == "" {
		return errors.New("the password is empty")
	}
	if !utf8.ValidString(password) {
		return errors.New("the password is not valid UTF-8 text")
	}
	for _, r := range password {
		switch {
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
			return errors.New("the password contains a control character (such as a newline or tab), " +
				"which the credential files cannot hold")
		case r > 0x7f && unicode.Is(unicode.Zs, r):
			return errors.New("the password contains a non-ASCII space, which clients normalise differently")
		case mappedToNothing(r):
			return errors.New("the password contains an invisible character (zero-width or soft hyphen), " +
				"which clients drop differently")
		}
	}
	if norm.NFKC.String(password) != password {
		return errors.New("the password contains characters that Unicode normalisation changes " +
			"(e.g. ligatures or full-width letters), which clients handle differently")
	}
	return nil
}

// mappedToNothing is RFC 3454 table B.1, which SASLprep removes.
func mappedToNothing(r rune) bool {
	switch {
	case r == 0x00ad, r == 0x034f, r == 0x1806, r >= 0x180b && r <= 0x180d, r >= 0x200b && r <= 0x200d,
		r == 0x2060, r >= 0xfe00 && r <= 0xfe0f, r == 0xfeff:
		return true
	}
	return false
}
