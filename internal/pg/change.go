package pg

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Stage names a step of ChangePassword, for reports.
type Stage string

// The steps of ChangePassword, in order.
const (
	StageConnect    Stage = "connect"     // first session, current password
	StageAlter      Stage = "alter"       // ALTER ROLE ... PASSWORD '<verifier>'
	StageAfterAlter Stage = "after-alter" // the AfterAlter hook (tests inject failures here)
	StageVerify     Stage = "verify"      // second connection with the new password
	StageCommit     Stage = "commit"      // saving the new password (e.g. .pgpass)
)

// ChangeOptions are the seams of ChangePassword.
type ChangeOptions struct {
	// AfterAlter, when set, runs right after the ALTER ROLE succeeded and before the second connection; an
	// error from it is handled like any failure after the ALTER (the old password is set back). Tests use it
	// to inject a failure.
	AfterAlter func(ctx context.Context) error
	// Commit saves the new password once a second connection has logged in with it (e.g. upserts .pgpass).
	// An error sets the old password back; Commit must leave its file unchanged when it fails.
	Commit func() error
}

// ChangeResult says what ChangePassword did; it is meaningful with or without an error.
type ChangeResult struct {
	Altered   bool   // the server took the new password
	Verified  bool   // a second connection logged in with the new password
	Committed bool   // Commit succeeded
	Restored  bool   // after a failure, the old password was set back on the server
	SSL       bool   // the first session was encrypted
	Role      string // the role whose password changed (current_user of the first session)
}

// ChangeError is a failure of ChangePassword at one stage.
type ChangeError struct {
	Stage Stage
	Err   error
	// Problem explains a connection failure (StageConnect, StageVerify); nil otherwise.
	Problem *Problem
	// RestoreErr is set when setting the old password back failed too: the server then has the new
	// password.
	RestoreErr error
}

func (e *ChangeError) Error() string { return fmt.Sprintf("%s: %s", e.Stage, e.Reason()) }

// Reason is the failure in one line, without the stage: the Problem's message when there is one.
func (e *ChangeError) Reason() string {
	if e.Problem != nil {
		return e.Problem.Message
	}
	return oneLine(e.Err.Error())
}

func (e *ChangeError) Unwrap() error { return e.Err }

// ChangePassword rotates p.User's password on the server from p.Password (the current one) to newPassword,
// so that it cannot half-happen:
//
//  1. log in with the current password (the first session, kept open to the end);
//  2. ALTER ROLE ... PASSWORD with a SCRAM-SHA-256 verifier computed here (the cleartext never reaches the
//     server);
//  3. log in on a second connection with the new password;
//  4. only then Commit (save the new password).
//
// If anything fails after step 2, the old password is set back through the first session (or, should that
// session have died, through a fresh connection with the new password) and Commit is not called (or its
// failure is the reason). The returned error is a *ChangeError; messages never contain either password.
func ChangePassword(ctx context.Context, p Params, newPassword string, opts ChangeOptions) (ChangeResult, error) {
	var res ChangeResult
	if err := CheckPassword(newPassword); err != nil {
		return res, &ChangeError{Stage: StageAlter, Err: err}
	}
	if newPassword == p.Password {
		return res, &ChangeError{Stage: StageAlter, Err: errors.New("the new password is the same as the current one")}
	}
	oldPassword := p.Password
	conn, err := Connect(ctx, p)
	if err != nil {
		return res, &ChangeError{Stage: StageConnect, Err: err, Problem: Classify(err, p)}
	}
	defer conn.Close(context.Background())

	qctx, cancel := context.WithTimeout(ctx, p.timeout())
	err = conn.QueryRow(qctx, `SELECT current_user, COALESCE((SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()), false)`).
		Scan(&res.Role, &res.SSL)
	cancel()
	if err != nil {
		return res, &ChangeError{Stage: StageConnect, Err: redactErr(err, oldPassword, newPassword)}
	}

	qctx, cancel = context.WithTimeout(ctx, p.timeout())
	err = SetPassword(qctx, conn, res.Role, newPassword)
	cancel()
	if err != nil {
		ce := &ChangeError{Stage: StageAlter, Err: redactErr(err, oldPassword, newPassword)}
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) {
			// No answer from the server (interrupted, connection lost): the ALTER may have happened. If the
			// new password logs in, it did: set the old one back.
			if tookNewPassword(ctx, p, newPassword) {
				res.Altered = true
				ce.RestoreErr = restore(ctx, conn, p, res.Role, newPassword)
				res.Restored = ce.RestoreErr == nil
			}
		}
		return res, ce
	}
	res.Altered = true

	fail := func(stage Stage, err error, pr *Problem) (ChangeResult, error) {
		ce := &ChangeError{Stage: stage, Err: redactErr(err, oldPassword, newPassword), Problem: pr}
		ce.RestoreErr = restore(ctx, conn, p, res.Role, newPassword)
		res.Restored = ce.RestoreErr == nil
		return res, ce
	}

	if opts.AfterAlter != nil {
		if err := opts.AfterAlter(ctx); err != nil {
			return fail(StageAfterAlter, err, nil)
		}
	}

	np := p
	np.Password = newPassword
	if _, err := Verify(ctx, np); err != nil {
		return fail(StageVerify, err, Classify(err, np))
	}
	res.Verified = true

	if opts.Commit != nil {
		if err := opts.Commit(); err != nil {
			return fail(StageCommit, err, nil)
		}
	}
	res.Committed = true
	return res, nil
}

// tookNewPassword reports whether newPassword logs in (even when ctx is cancelled).
func tookNewPassword(ctx context.Context, p Params, newPassword string) bool {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), p.timeout())
	defer cancel()
	np := p
	np.Password = newPassword
	conn, err := Connect(rctx, np)
	if err != nil {
		return false
	}
	conn.Close(context.Background())
	return true
}

// restore sets the old password (p.Password) back: through the open session when it still works, else
// through a fresh connection that logs in with the new password.
func restore(ctx context.Context, conn *pgx.Conn, p Params, role, newPassword string) error {
	// A cancelled ctx (Ctrl-C) must not stop the restore.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), p.timeout()+5*time.Second)
	defer cancel()
	firstErr := errors.New("the first session was closed")
	if !conn.IsClosed() {
		if firstErr = SetPassword(rctx, conn, role, p.Password); firstErr == nil {
			return nil
		}
	}
	np := p
	np.Password = newPassword
	fresh, err := Connect(rctx, np)
	if err != nil {
		return redactErr(fmt.Errorf("%v; a fresh connection failed too: %v", firstErr, err), p.Password, newPassword)
	}
	defer fresh.Close(context.Background())
	if err := SetPassword(rctx, fresh, role, p.Password); err != nil {
		return redactErr(err, p.Password, newPassword)
	}
	return nil
}

func redactErr(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	red := msg
	for _, s := range secrets {
		red = Redact(red, s)
	}
	if red == msg {
		return err
	}
	return errors.New(red)
}
