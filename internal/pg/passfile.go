package pg

import (
	"fmt"
	"os"
	"runtime"
	"strconv"

	"github.com/voyce/voyce-auth/internal/pgpass"
)

// Where ResolvePassword found a password.
const (
	SourcePGPASSWORD = "PGPASSWORD"
	SourcePassfile   = "passfile"
)

// ResolvePassword finds the password libpq (psql) would use for p when none is given: PGPASSWORD, else the
// first matching entry of the password file at passfile (looked up with p's exact host, port, database and
// user, as libpq does). Like libpq it ignores a password file with group or world access (on Unix); then err
// says so. source is SourcePGPASSWORD, SourcePassfile or "" when nothing was found. Config never does this
// by itself: callers that want libpq's behaviour call ResolvePassword and set Params.Password.
func ResolvePassword(p Params, getenv func(string) string, passfile string) (password, source string, err error) {
	if getenv != nil {
		if pw := getenv("PGPASSWORD"); pw != "" {
			return pw, SourcePGPASSWORD, nil
		}
	}
	if passfile == "" {
		return "", "", nil
	}
	fi, err := os.Stat(passfile)
	if os.IsNotExist(err) {
		return "", "", nil
	}
	if err != nil {
		return "", "", err
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0 {
		return "", "", fmt.Errorf("password file %s has group or world access (%04o), so psql ignores it; "+
			"fix: chmod 600 %s", passfile, fi.Mode().Perm(), passfile)
	}
	f, _, err := pgpass.ReadFile(passfile)
	if err != nil {
		return "", "", err
	}
	pw, _, ok := f.Lookup(pgpass.Conn{Host: p.Host, Port: strconv.Itoa(p.Port), Database: p.Database, User: p.User})
	if !ok || pw == "" {
		return "", "", nil
	}
	return pw, SourcePassfile, nil
}
