package pg

import (
	"context"
	"errors"
	"strings"

	"github.com/jackc/pgx/v5"

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
