package dotenv

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/joho/godotenv"
)

const voyceEnv = `# Voyce backend settings
export APP_ENV=development
POSTGRES_HOST=instance-abc.database.cloud.databricks.com
POSTGRES_PORT=5432
POSTGRES_DB="databricks_postgres"   # the default database
POSTGRES_USER='someone@voyce.ai'
POSTGRES_PASSWORD=${PGPASSWORD}
DATABASE_URL=postgresql+asyncpg://someone%40voyce.ai:${PGPASSWORD}@instance-abc.database.cloud.databricks.com:5432/databricks_postgres?ssl=require

# Databricks
DATABRICKS_HOST=https://dbc-123.cloud.databricks.com
DATABRICKS_OAUTH_TOKEN=old-token
FEATURE_FLAGS="a,b # not a comment"
DATABRICKS_OAUTH_TOKEN=older-token-wins-not
`

// Tricky values: every one must be written so both readers read it back exactly.
var trickyValues = []string{
	"plain",
	"",
	"with:colon",
	`back\slash`,
	`ends-with-backslash\`,
	`double\\backslash`,
	"hash#inside",
	"space #hash",
	"dollar$sign",
	"$HOME",
	"'single'",
	`"double"`,
	`mixed'and"quotes`,
	"inner spaces here",
	" leading and trailing ",
	"tab\there",
	"ünïcødé-密码-🔑",
	strings.Repeat("Ab1:#$\"\\ é", 20), // 200 characters
	"=equals=",
	"export",
	`\n not a newline`,
	"`backtick`",
}

func TestParseKeepsBytes(t *testing.T) {
	for _, in := range []string{voyceEnv, strings.ReplaceAll(voyceEnv, "\n", "\r\n"), "", "A=1", "\n\n#x", "broken line\nB='unterminated\n"} {
		f := Parse([]byte(in))
		if string(f.Bytes()) != in {
			t.Fatalf("Bytes() differs from input %q", in)
		}
	}
}

func TestLookupPythonDotenvRules(t *testing.T) {
	f := Parse([]byte(voyceEnv))
	for k, want := range map[string]string{
		"APP_ENV":                "development",
		"POSTGRES_DB":            "databricks_postgres",
		"POSTGRES_USER":          "someone@voyce.ai",
		"POSTGRES_PASSWORD":      "${PGPASSWORD}",
		"DATABRICKS_OAUTH_TOKEN": "older-token-wins-not",
		"FEATURE_FLAGS":          "a,b # not a comment",
	} {
		if got, ok := f.Lookup(k); !ok || got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if raw, _ := f.RawValue("POSTGRES_DB"); raw != `"databricks_postgres"` {
		t.Errorf("RawValue = %q", raw)
	}
	if _, ok := f.Lookup("MISSING"); ok {
		t.Error("MISSING found")
	}
}

func TestResolve(t *testing.T) {
	f := Parse([]byte("A=x\nB=${A}-${PGPASSWORD}-${NOPE:-dflt}-${NOPE}\nA=y\nC='${A}'\n"))
	env := map[string]string{"PGPASSWORD": "pw"}
	got, _ := f.Resolve("B", func(k string) string { return env[k] })
	if got != "x-pw-dflt-" {
		t.Fatalf("B resolved to %q", got)
	}
	// python-dotenv resolves inside single quotes too; the environment wins over the file.
	env["A"] = "from-env"
	if got, _ := f.Resolve("C", func(k string) string { return env[k] }); got != "from-env" {
		t.Fatalf("C resolved to %q", got)
	}
}

func TestSetChangesLastAssignmentOnly(t *testing.T) {
	f := Parse([]byte(voyceEnv))
	changed, err := f.Set("DATABRICKS_OAUTH_TOKEN", "eyJ.new.token")
	if err != nil || !changed {
		t.Fatalf("changed=%v err=%v", changed, err)
	}
	want := strings.Replace(voyceEnv, "older-token-wins-not", "eyJ.new.token", 1)
	if string(f.Bytes()) != want {
		t.Fatalf("got:\n%s", f.Bytes())
	}
	// Keeps quoting style and the trailing comment.
	f.Set("POSTGRES_DB", "other_db")
	if !strings.Contains(string(f.Bytes()), "POSTGRES_DB=\"other_db\"   # the default database\n") {
		t.Fatalf("got:\n%s", f.Bytes())
	}
	f.Set("APP_ENV", "prod")
	if !strings.Contains(string(f.Bytes()), "\nexport APP_ENV=prod\n") {
		t.Fatalf("export lost:\n%s", f.Bytes())
	}
	// Same value: unchanged, no byte moves.
	before := f.Bytes()
	if changed, err := f.Set("APP_ENV", "prod"); changed || err != nil {
		t.Fatalf("changed=%v err=%v", changed, err)
	}
	if changed, err := f.SetWithRefs("POSTGRES_PASSWORD", "${PGPASSWORD}"); changed || err != nil {
		t.Fatalf("reference rewritten: changed=%v err=%v", changed, err)
	}
	if !bytes.Equal(before, f.Bytes()) {
		t.Fatal("unchanged Set moved bytes")
	}
}

func TestSetAppendsKeepingLineEndings(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", "NEW=v\n"},
		{"A=1\n", "A=1\nNEW=v\n"},
		{"A=1", "A=1\nNEW=v\n"},
		{"A=1\r\nB=2\r\n", "A=1\r\nB=2\r\nNEW=v\r\n"},
		{"A=1\r\nB=2", "A=1\r\nB=2\r\nNEW=v\r\n"},
		{"# only a comment\n", "# only a comment\nNEW=v\n"},
	} {
		f := Parse([]byte(tc.in))
		if _, err := f.Set("NEW", "v"); err != nil {
			t.Fatal(err)
		}
		if got := string(f.Bytes()); got != tc.want {
			t.Errorf("Set on %q = %q, want %q", tc.in, got, tc.want)
		}
	}
	f := Parse([]byte("A=1\r\nB=2\r\n"))
	f.Set("A", "x y")
	if got := string(f.Bytes()); got != "A='x y'\r\nB=2\r\n" {
		t.Errorf("CRLF replace = %q", got)
	}
}

func TestSetRefuses(t *testing.T) {
	for _, tc := range []struct {
		value string
		refs  bool
	}{
		{"a\nb", false}, {"a\rb", false}, {"a\x00b", false}, {"\xff\xfe", false},
		{"it's $5", false}, {"lit ${HOME} ref", false}, {"it's ${X}", true},
	} {
		f := Parse([]byte(voyceEnv))
		var err error
		if tc.refs {
			_, err = f.SetWithRefs("POSTGRES_USER", tc.value)
		} else {
			_, err = f.Set("POSTGRES_USER", tc.value)
		}
		var ve *ValueError
		if !errors.As(err, &ve) || ve.Key != "POSTGRES_USER" {
			t.Errorf("value #%d (len %d): err = %v", len(tc.value), len(tc.value), err)
			continue
		}
		if tc.value != "" && strings.Contains(err.Error(), tc.value) {
			t.Errorf("error message contains the value")
		}
		if string(f.Bytes()) != voyceEnv {
			t.Errorf("refused Set changed the file")
		}
	}
	if _, err := Parse(nil).Set("1BAD", "x"); err == nil {
		t.Error("bad key accepted")
	}
}

// TestTrickyValuesRealReaders writes every tricky value and has godotenv and the real python-dotenv read the
// file back.
func TestTrickyValuesRealReaders(t *testing.T) {
	f := Parse([]byte(voyceEnv))
	want := map[string]string{}
	for i, v := range trickyValues {
		key := "TRICKY_" + string(rune('A'+i))
		if _, err := f.Set(key, v); err != nil {
			t.Fatalf("value %d: %v", i, err)
		}
		want[key] = v
	}
	// Also overwrite existing lines of every quoting style with tricky values.
	for i, key := range []string{"POSTGRES_DB", "POSTGRES_USER", "APP_ENV", "FEATURE_FLAGS"} {
		v := trickyValues[len(trickyValues)-1-i*3]
		if _, err := f.Set(key, v); err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		want[key] = v
	}
	ref := "postgresql+asyncpg://x%40y.z:${PGPASSWORD}@h:5432/db?ssl=require"
	if _, err := f.SetWithRefs("DATABASE_URL", ref); err != nil {
		t.Fatal(err)
	}
	data := f.Bytes()
	gm, err := godotenv.UnmarshalBytes(data)
	if err != nil {
		t.Fatalf("godotenv cannot read the written file: %v", err)
	}
	pm := pythonDotenv(t, data, false)
	for k, v := range want {
		if gm[k] != v {
			t.Errorf("godotenv reads %s differently (got len %d, want len %d)", k, len(gm[k]), len(v))
		}
		if pm[k] != v {
			t.Errorf("python-dotenv reads %s differently (got len %d, want len %d)", k, len(pm[k]), len(v))
		}
		if got, _ := Parse(data).Lookup(k); got != v {
			t.Errorf("Lookup reads %s differently", k)
		}
	}
	if pm["DATABASE_URL"] != ref || gm["DATABASE_URL"] != ref {
		t.Errorf("reference not kept: python %q godotenv %q", pm["DATABASE_URL"], gm["DATABASE_URL"])
	}
	// With interpolation, python-dotenv resolves the reference from the environment, as Resolve does.
	pi := pythonDotenv(t, data, true, "PGPASSWORD=s3cret")
	got, _ := Parse(data).Resolve("DATABASE_URL", func(k string) string {
		if k == "PGPASSWORD" {
			return "s3cret"
		}
		return ""
	})
	if pi["DATABASE_URL"] != got || !strings.Contains(got, ":s3cret@") {
		t.Errorf("Resolve disagrees with python-dotenv")
	}
	// Every value python-dotenv reads equals what our parser reads, for the whole file.
	for k, v := range Parse(data).Values() {
		if pm[k] != v {
			t.Errorf("parser disagrees with python-dotenv on %s", k)
		}
	}
}

// pythonWithDotenv finds a python3 that can import dotenv: PYTHON_DOTENV_PYTHON, else each python3 on PATH,
// else /usr/bin/python3 (where Debian's python3-dotenv installs).
func pythonWithDotenv(t *testing.T) string {
	t.Helper()
	var cands []string
	if p := os.Getenv("PYTHON_DOTENV_PYTHON"); p != "" {
		cands = append(cands, p)
	}
	for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
		cands = append(cands, filepath.Join(dir, "python3"))
	}
	cands = append(cands, "/usr/bin/python3")
	for _, c := range cands {
		if exec.Command(c, "-c", "import dotenv.main").Run() == nil {
			return c
		}
	}
	t.Fatal("no python3 with python-dotenv found (the backend's .env reader, used to check written files): " +
		"apt-get install python3-dotenv, or pip install python-dotenv")
	return ""
}

// pythonDotenv reads data with the real python-dotenv (the Voyce backend's reader).
func pythonDotenv(t *testing.T, data []byte, interpolate bool, env ...string) map[string]string {
	t.Helper()
	py := pythonWithDotenv(t)
	p := filepath.Join(t.TempDir(), ".env")
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	interp := "False"
	if interpolate {
		interp = "True"
	}
	cmd := exec.Command(py, "-c", `import json, sys
from dotenv.main import DotEnv
# override=False: the environment wins, as with load_dotenv()
print(json.dumps(DotEnv(sys.argv[1], interpolate=`+interp+`, override=False).dict()))`, p)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}, env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		if strings.Contains(stderr.String(), "No module named") {
			t.Fatal("python-dotenv is needed to check .env files: pip install python-dotenv (or apt-get install python3-dotenv)")
		}
		t.Fatalf("python-dotenv failed: %v: %s", err, stderr.String())
	}
	var m map[string]*string
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatal(err)
	}
	res := map[string]string{}
	for k, v := range m {
		if v != nil {
			res[k] = *v
		}
	}
	return res
}

func TestEncodeValue(t *testing.T) {
	for in, want := range map[string]string{
		"plain":         "plain",
		"a b":           "'a b'",
		"$x":            "'$x'",
		"it's":          `"it's"`,
		"":              "''",
		"${PGPASSWORD}": "'${PGPASSWORD}'",
	} {
		got, err := EncodeValue("K", in)
		if err != nil || got != want {
			t.Errorf("EncodeValue(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestUnset(t *testing.T) {
	f := Parse([]byte("A=1\n# keep\nB=2 # c\r\nA='x'\nC=3"))
	if !f.Unset("A") || string(f.Bytes()) != "# keep\nB=2 # c\r\nC=3" {
		t.Fatalf("got %q", f.Bytes())
	}
	if f.Unset("A") {
		t.Fatal("second Unset changed something")
	}
	f.Unset("C")
	if string(f.Bytes()) != "# keep\nB=2 # c\r\n" {
		t.Fatalf("got %q", f.Bytes())
	}
}
