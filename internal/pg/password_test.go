package pg_test

import (
	"strings"
	"testing"

	"github.com/voyce/voyce-auth/internal/pg"
)

func TestCheckPassword(t *testing.T) {
	for _, ok := range []string{"Abc123-_.~", "with space inside", "pässwörd", "日本語のパスワード", `a:b\c'd"e$f`} {
		if err := pg.CheckPassword(ok); err != nil {
			t.Errorf("%q refused: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "line\nbreak", "tab\there", "nb\u00a0sp", "zero\u200bwidth", "ﬁle", "ｆｕｌｌ", "bad\xffutf8"} {
		err := pg.CheckPassword(bad)
		if err == nil {
			t.Errorf("%q accepted", bad)
			continue
		}
		if strings.Contains(err.Error(), bad) && bad != "" {
			t.Errorf("error repeats the password: %v", err)
		}
	}
}

func TestGeneratePassword(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 20; i++ {
		pw, err := pg.GeneratePassword(0)
		if err != nil {
			t.Fatal(err)
		}
		if len(pw) != pg.GenerateLength || strings.Trim(pw, pg.GenerateAlphabet) != "" || seen[pw] {
			t.Fatalf("bad generated password (len %d)", len(pw))
		}
		if err := pg.CheckPassword(pw); err != nil {
			t.Fatal(err)
		}
		seen[pw] = true
	}
	if pw, _ := pg.GeneratePassword(40); len(pw) != 40 {
		t.Fatal("length 40 not honoured")
	}
}
