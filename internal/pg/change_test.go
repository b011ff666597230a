package pg_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/voyce/voyce-auth/internal/pg"
	"github.com/voyce/voyce-auth/internal/pg/scram"
	"github.com/voyce/voyce-auth/internal/testutil/pgtest"
)

type changeFixture struct {
	srv          *pgtest.Server
	role         string
	oldPw, newPw string
	p            pg.Params
}

func newChangeFixture(t *testing.T) *changeFixture {
	srv := pgtest.Shared(t)
	f := &changeFixture{srv: srv, oldPw: pgtest.RandomPassword(), newPw: pgtest.RandomPassword()}
	f.role = srv.NewRole(t, f.oldPw)
	if _, err := srv.Admin(t).Exec(testCtx(t), "ALTER ROLE "+pgx.Identifier{f.role}.Sanitize()+
		" SET log_statement = 'all'"); err != nil {
		t.Fatal(err)
	}
	f.p = params(srv)
	f.p.User, f.p.Password = f.role, f.oldPw
	return f
}

func (f *changeFixture) logsIn(t *testing.T, pw string) bool {
	t.Helper()
	p := f.p
	p.Password = pw
	_, err := pg.Verify(testCtx(t), p)
	if err != nil && pg.Classify(err, p).Cause != pg.CauseWrongPassword {
		t.Fatalf("unexpected failure: %v", err)
	}
	return err == nil
}

func (f *changeFixture) stored(t *testing.T) string {
	var v string
	if err := f.srv.Admin(t).QueryRow(testCtx(t), "SELECT rolpassword FROM pg_authid WHERE rolname = $1", f.role).
		Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func (f *changeFixture) checkNoLeak(t *testing.T, errs ...error) {
	t.Helper()
	log := f.srv.Log(t)
	for _, pw := range []string{f.oldPw, f.newPw} {
		if strings.Contains(log, pw) {
			t.Fatal("the server log contains a password")
		}
		for _, err := range errs {
			if err != nil && strings.Contains(err.Error(), pw) {
				t.Fatal("an error message contains a password")
			}
		}
	}
}

func TestChangePasswordSuccess(t *testing.T) {
	f := newChangeFixture(t)
	commits := 0
	res, err := pg.ChangePassword(testCtx(t), f.p, f.newPw, pg.ChangeOptions{Commit: func() error {
		commits++
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Altered || !res.Verified || !res.Committed || res.Restored || !res.SSL || res.Role != f.role || commits != 1 {
		t.Fatalf("result %+v, commits %d", res, commits)
	}
	if !f.logsIn(t, f.newPw) || f.logsIn(t, f.oldPw) {
		t.Fatal("the new password should log in and the old one not")
	}
	v := f.stored(t)
	if !scram.IsVerifier(v) || !scram.Matches(v, f.newPw) {
		t.Fatal("pg_authid does not hold the new password's SCRAM verifier")
	}
	if !strings.Contains(f.srv.Log(t), `ALTER ROLE "`+f.role+`" PASSWORD 'SCRAM-SHA-256$`) {
		t.Fatal("the ALTER ROLE with a verifier was not logged; the leak check would prove nothing")
	}
	f.checkNoLeak(t)
}

func TestChangePasswordFailureAfterAlterRestores(t *testing.T) {
	f := newChangeFixture(t)
	committed := false
	injected := errors.New("injected failure")
	res, err := pg.ChangePassword(testCtx(t), f.p, f.newPw, pg.ChangeOptions{
		AfterAlter: func(context.Context) error { return injected },
		Commit:     func() error { committed = true; return nil },
	})
	var ce *pg.ChangeError
	if !errors.As(err, &ce) || ce.Stage != pg.StageAfterAlter || !errors.Is(err, injected) || ce.RestoreErr != nil {
		t.Fatalf("err = %v", err)
	}
	if !res.Altered || !res.Restored || committed {
		t.Fatalf("result %+v, committed %v", res, committed)
	}
	if !f.logsIn(t, f.oldPw) || f.logsIn(t, f.newPw) {
		t.Fatal("the old password should log in again and the new one not")
	}
	f.checkNoLeak(t, err)
}

func TestChangePasswordSecondConnectionFailsRestores(t *testing.T) {
	f := newChangeFixture(t)
	admin := f.srv.Admin(t)
	db, role := pgx.Identifier{f.srv.Database}.Sanitize(), pgx.Identifier{f.role}.Sanitize()
	res, err := pg.ChangePassword(testCtx(t), f.p, f.newPw, pg.ChangeOptions{
		// Make the second connection fail for real: the role loses CONNECT after the ALTER.
		AfterAlter: func(ctx context.Context) error {
			_, err := admin.Exec(ctx, "REVOKE CONNECT ON DATABASE "+db+" FROM "+role)
			return err
		},
		Commit: func() error { t.Fatal("Commit called after a failed second connection"); return nil },
	})
	var ce *pg.ChangeError
	if !errors.As(err, &ce) || ce.Stage != pg.StageVerify || ce.Problem == nil ||
		ce.Problem.Cause != pg.CauseNoConnectPrivilege || !res.Restored {
		t.Fatalf("err = %v, result %+v", err, res)
	}
	if _, err := admin.Exec(testCtx(t), "GRANT CONNECT ON DATABASE "+db+" TO "+role); err != nil {
		t.Fatal(err)
	}
	if !f.logsIn(t, f.oldPw) || f.logsIn(t, f.newPw) {
		t.Fatal("the old password should log in again and the new one not")
	}
	f.checkNoLeak(t, err)
}

func TestChangePasswordCommitFailureRestores(t *testing.T) {
	f := newChangeFixture(t)
	res, err := pg.ChangePassword(testCtx(t), f.p, f.newPw, pg.ChangeOptions{
		Commit: func() error { return errors.New("disk full") },
	})
	var ce *pg.ChangeError
	if !errors.As(err, &ce) || ce.Stage != pg.StageCommit || !res.Verified || !res.Restored || res.Committed {
		t.Fatalf("err = %v, result %+v", err, res)
	}
	if !f.logsIn(t, f.oldPw) || f.logsIn(t, f.newPw) {
		t.Fatal("the old password should log in again and the new one not")
	}
}

func TestChangePasswordWrongCurrentChangesNothing(t *testing.T) {
	f := newChangeFixture(t)
	before := f.stored(t)
	p := f.p
	p.Password = "Wrong-" + pgtest.RandomPassword()
	res, err := pg.ChangePassword(testCtx(t), p, f.newPw, pg.ChangeOptions{
		Commit: func() error { t.Fatal("Commit called"); return nil },
	})
	var ce *pg.ChangeError
	if !errors.As(err, &ce) || ce.Stage != pg.StageConnect || ce.Problem.Cause != pg.CauseWrongPassword || res.Altered {
		t.Fatalf("err = %v, result %+v", err, res)
	}
	if f.stored(t) != before {
		t.Fatal("pg_authid changed")
	}
	if strings.Contains(err.Error(), p.Password) {
		t.Fatal("error contains the password")
	}
}

func TestChangePasswordRefusesBadNewPassword(t *testing.T) {
	f := newChangeFixture(t)
	for _, bad := range []string{"", "two\nlines", f.oldPw} {
		res, err := pg.ChangePassword(testCtx(t), f.p, bad, pg.ChangeOptions{})
		if err == nil || res.Altered {
			t.Fatalf("new password of length %d accepted", len(bad))
		}
	}
	if !f.logsIn(t, f.oldPw) {
		t.Fatal("the old password stopped working")
	}
}
