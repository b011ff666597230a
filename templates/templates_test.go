package templates

import (
	"bytes"
	"encoding/xml"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current templates")

// The awkward project path of the issue: spaces, both quotes, %, &, <, >, $, a backslash and non-ASCII.
const awkward = `/home/zoë/My "Voyce" 100% & <proj>'s $HOME \x`

func cases() map[string]Params {
	return map[string]Params{
		"plain": {
			Binary:        "/home/dev/go/bin/voyce-auth",
			EnvFile:       "/home/dev/voyce/.env",
			ProjectDir:    "/home/dev/voyce",
			DatabricksDir: "/usr/local/bin",
			GOOS:          "linux",
		},
		"special": {
			Binary:        "/opt/Voyce Tools 100%/bin/voyce-auth",
			EnvFile:       awkward + "/.env",
			ProjectDir:    awkward,
			DatabricksDir: "/home/zoë/.local/bin (dbx)",
			Interval:      10 * time.Minute,
			GOOS:          "darwin",
		},
		"nodatabricks": {
			Binary:     "/usr/local/bin/voyce-auth",
			EnvFile:    "/srv/app/.env",
			ProjectDir: "/srv/app",
			Interval:   time.Hour,
			GOOS:       "linux",
		},
	}
}

func TestGolden(t *testing.T) {
	for name, p := range cases() {
		for _, kind := range Kinds {
			files, err := Render(kind, p)
			if err != nil {
				t.Fatalf("%s/%s: %v", name, kind, err)
			}
			for _, f := range files {
				golden := filepath.Join("testdata", name+"."+f.Name+".golden")
				if *update {
					if err := os.WriteFile(golden, f.Content, 0o644); err != nil {
						t.Fatal(err)
					}
					continue
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("%v (run 'go test ./templates -update' to create it)", err)
				}
				if !bytes.Equal(f.Content, want) {
					t.Errorf("%s differs from %s (run 'go test ./templates -update' after checking the change):\n--- got\n%s\n--- want\n%s", f.Name, golden, f.Content, want)
				}
			}
		}
	}
}

func TestRenderDeterministicAndNoPlaceholders(t *testing.T) {
	for name, p := range cases() {
		for _, kind := range Kinds {
			a, _ := Render(kind, p)
			b, _ := Render(kind, p)
			for i := range a {
				if !bytes.Equal(a[i].Content, b[i].Content) {
					t.Errorf("%s/%s: two renders differ", name, kind)
				}
				if bytes.Contains(a[i].Content, []byte("<no value>")) || bytes.Contains(a[i].Content, []byte("{{")) {
					t.Errorf("%s/%s: unrendered placeholder in %s", name, kind, a[i].Name)
				}
			}
		}
	}
}

func TestSystemdEscaping(t *testing.T) {
	files, err := Render(Systemd, cases()["special"])
	if err != nil {
		t.Fatal(err)
	}
	svc := string(files[0].Content)
	for _, want := range []string{
		`WorkingDirectory=/home/zoë/My "Voyce" 100%% & <proj>'s $HOME \x` + "\n",
		`ExecStart="/opt/Voyce Tools 100%%/bin/voyce-auth" rotate --env-file "/home/zoë/My \"Voyce\" 100%% & <proj>'s $$HOME \\x/.env"` + "\n",
		`Environment="PATH=/home/zoë/.local/bin (dbx):/opt/homebrew/bin:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin"` + "\n",
	} {
		if !strings.Contains(svc, want) {
			t.Errorf("service lacks %q:\n%s", want, svc)
		}
	}
	tmr := string(files[1].Content)
	for _, want := range []string{"OnUnitActiveSec=10min\n", "RandomizedDelaySec=1min\n", "OnBootSec=1min\n", "OnStartupSec=1min\n"} {
		if !strings.Contains(tmr, want) {
			t.Errorf("timer lacks %q:\n%s", want, tmr)
		}
	}
}

func TestCronEscaping(t *testing.T) {
	files, err := Render(Cron, cases()["special"])
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(files[0].Content), "\n"), "\n")
	if len(lines) != 3 || lines[0] != CronHeader || !strings.HasPrefix(lines[1], "*/10 * * * * ") || !strings.HasPrefix(lines[2], "@reboot ") {
		t.Fatalf("unexpected cron block:\n%s", files[0].Content)
	}
	for _, l := range lines[1:] {
		if !strings.HasSuffix(l, " "+CronTag) {
			t.Errorf("line not tagged: %s", l)
		}
		if strings.Count(l, "%") != strings.Count(l, `\%`) {
			t.Errorf("unescaped %% in cron line: %s", l)
		}
	}
}

// TestCronLineRunsInShell checks the cron command with what cron and sh would do to it: strip cron's
// '\%' escapes, then let sh parse the words (with a stub in place of exec).
func TestCronLineRunsInShell(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Fatal("sh is required for this test")
	}
	p := cases()["special"]
	files, err := Render(Cron, p)
	if err != nil {
		t.Fatal(err)
	}
	line := strings.Split(string(files[0].Content), "\n")[1]
	cmd := strings.TrimPrefix(line, "*/10 * * * * ")
	cmd = strings.ReplaceAll(cmd, `\%`, "%") // what cron does
	// Replace the parts with side effects by a printer of the words.
	cmd = strings.Replace(cmd, "cd ", "printf '%s\\n' ", 1)
	cmd = strings.Replace(cmd, " && umask 077 && mkdir -p logs && ", "; ", 1)
	cmd = strings.Replace(cmd, " exec ", " printf '%s\\n' ", 1)
	cmd = strings.Replace(cmd, " >>logs/oauth-rotation.cron.log 2>&1", "", 1)
	out, err := exec.Command(sh, "-c", cmd).CombinedOutput()
	if err != nil {
		t.Fatalf("sh: %v\n%s", err, out)
	}
	want := strings.Join([]string{p.ProjectDir, p.Binary, "rotate", "--env-file", p.EnvFile}, "\n") + "\n"
	if string(out) != want {
		t.Errorf("sh saw:\n%s\nwant:\n%s", out, want)
	}
}

func TestRefusals(t *testing.T) {
	good := cases()["plain"]
	tests := []struct {
		name  string
		kind  Kind
		edit  func(p *Params)
		field string
	}{
		{"newline in project", Systemd, func(p *Params) { p.ProjectDir = "/home/a\nb"; p.EnvFile = "/home/a\nb/.env" }, ".env path"},
		{"newline in project launchd", Launchd, func(p *Params) { p.EnvFile = "/home/a\rb/.env" }, ".env path"},
		{"control char", Cron, func(p *Params) { p.Binary = "/bin/a\x01b" }, "binary path"},
		{"invalid utf-8", Launchd, func(p *Params) { p.ProjectDir = "/home/\xff" }, "project folder"},
		{"relative", Cron, func(p *Params) { p.Binary = "bin/voyce-auth" }, "binary path"},
		{"empty", Systemd, func(p *Params) { p.EnvFile = "" }, ".env path"},
		{"backslash percent", Cron, func(p *Params) { p.ProjectDir = `/home/a\%b` }, "project folder"},
		{"dollar in binary", Systemd, func(p *Params) { p.Binary = "/home/$x/voyce-auth" }, "binary path"},
		{"trailing space", Systemd, func(p *Params) { p.ProjectDir = "/home/x " }, "project folder"},
		{"colon in PATH", Launchd, func(p *Params) { p.DatabricksDir = "/opt/a:b" }, "databricks folder"},
		{"interval too short", Systemd, func(p *Params) { p.Interval = 30 * time.Second }, "interval"},
		{"interval too long", Launchd, func(p *Params) { p.Interval = 2 * time.Hour }, "interval"},
		{"interval fraction", Launchd, func(p *Params) { p.Interval = 90*time.Second + time.Millisecond }, "interval"},
		{"cron interval", Cron, func(p *Params) { p.Interval = 7 * time.Minute }, "interval"},
		{"cron too long", Cron, func(p *Params) { p.ProjectDir = "/" + strings.Repeat("x", 800) }, "cron"},
		{"unknown kind", "upstart", func(p *Params) {}, "kind"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := good
			tt.edit(&p)
			_, err := Render(tt.kind, p)
			if err == nil {
				t.Fatal("rendered; want an error")
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, tt.field+":") || strings.Contains(msg, "\n") {
				t.Errorf("error %q: want one line starting with %q", msg, tt.field+":")
			}
		})
	}
	// The same odd-but-representable values are accepted where the format can carry them.
	p := good
	p.Binary = "/home/$x/voyce-auth"
	if _, err := Render(Launchd, p); err != nil {
		t.Errorf("launchd refused a '$' path: %v", err)
	}
	if _, err := Render(Cron, p); err != nil {
		t.Errorf("cron refused a '$' path: %v", err)
	}
}

func TestCronSchedule(t *testing.T) {
	for d, want := range map[time.Duration]string{
		time.Minute: "* * * * *", 5 * time.Minute: "*/5 * * * *", 30 * time.Minute: "*/30 * * * *", time.Hour: "0 * * * *",
	} {
		if got, err := CronSchedule(d); err != nil || got != want {
			t.Errorf("CronSchedule(%s) = %q, %v; want %q", d, got, err, want)
		}
	}
}

// TestSystemdAnalyzeVerify renders the units for a real awkward folder and runs systemd's own offline check.
func TestSystemdAnalyzeVerify(t *testing.T) {
	sa, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Fatal("systemd-analyze is required: apt-get install -y systemd")
	}
	root := t.TempDir()
	// "%Z" is an unknown systemd specifier: left unescaped, systemd refuses the line.
	project := filepath.Join(root, `My "Voyce" 100% & <proj>'s $HOME \x zoë 50%Zed`)
	bin := filepath.Join(root, "Voyce Tools 100%", "bin", "voyce-auth")
	dbx := filepath.Join(root, "dbx bin")
	for _, d := range []string{project, filepath.Dir(bin), dbx} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(bin, []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	files, err := Render(Systemd, Params{Binary: bin, EnvFile: filepath.Join(project, ".env"), ProjectDir: project, DatabricksDir: dbx, GOOS: "linux"})
	if err != nil {
		t.Fatal(err)
	}
	units := t.TempDir()
	var paths []string
	for _, f := range files {
		p := filepath.Join(units, f.Name)
		if err := os.WriteFile(p, f.Content, 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	// As a system unit, and as a user unit (what install makes it; --user needs a runtime folder).
	runtime := t.TempDir()
	os.Chmod(runtime, 0o700)
	for _, mode := range [][]string{{"verify"}, {"--user", "verify"}} {
		cmd := exec.Command(sa, append(mode, paths...)...)
		cmd.Env = append(os.Environ(), "SYSTEMD_LOG_COLOR=0", "XDG_RUNTIME_DIR="+runtime)
		out, err := cmd.CombinedOutput()
		// verify exits 0 on unknown keys and bad values, printing a warning: any output is a failure.
		if err != nil || len(bytes.TrimSpace(out)) > 0 {
			t.Fatalf("systemd-analyze %s: %v\n%s", strings.Join(mode, " "), err, out)
		}
	}
	// The same unit without the %% escaping draws a complaint, so the escaping is what made it pass.
	raw := strings.ReplaceAll(string(files[0].Content), "%%", "%")
	if err := os.WriteFile(paths[0], []byte(raw), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(sa, append([]string{"verify"}, paths...)...).CombinedOutput(); err == nil && len(bytes.TrimSpace(out)) == 0 {
		t.Fatalf("systemd-analyze verify accepted an unescaped '%%':\n%s", raw)
	}
	os.WriteFile(paths[0], files[0].Content, 0o644)
	// A unit whose program does not exist must fail, so the check above means something.
	if err := os.Remove(bin); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(sa, append([]string{"verify"}, paths...)...).CombinedOutput(); err == nil {
		t.Fatalf("systemd-analyze verify passed with a missing binary:\n%s", out)
	}
}

// plist is enough of the property-list format to read the LaunchAgent back.
type plistValue struct {
	XMLName xml.Name
	Text    string       `xml:",chardata"`
	Items   []plistValue `xml:",any"`
}

func decodePlist(t *testing.T, r io.Reader) map[string]plistValue {
	t.Helper()
	var doc struct {
		XMLName xml.Name   `xml:"plist"`
		Dict    plistValue `xml:"dict"`
	}
	dec := xml.NewDecoder(r)
	dec.Strict = true
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("encoding/xml: %v", err)
	}
	m := map[string]plistValue{}
	items := doc.Dict.Items
	for i := 0; i+1 < len(items); i += 2 {
		if items[i].XMLName.Local != "key" {
			t.Fatalf("dict item %d is <%s>, want <key>", i, items[i].XMLName.Local)
		}
		m[items[i].Text] = items[i+1]
	}
	return m
}

func checkPlist(t *testing.T, m map[string]plistValue, p Params) {
	t.Helper()
	var args []string
	for _, a := range m["ProgramArguments"].Items {
		args = append(args, a.Text)
	}
	want := []string{p.Binary, "rotate", "--env-file", p.EnvFile}
	if fmt.Sprint(args) != fmt.Sprint(want) || len(args) != 4 {
		t.Errorf("ProgramArguments = %q, want %q", args, want)
	}
	if got := m["WorkingDirectory"].Text; got != p.ProjectDir {
		t.Errorf("WorkingDirectory = %q, want %q", got, p.ProjectDir)
	}
	if got := m["Label"].Text; got != LaunchdLabel {
		t.Errorf("Label = %q", got)
	}
	if got := m["StartInterval"]; got.XMLName.Local != "integer" || got.Text != fmt.Sprint(int64(p.Interval/time.Second)) {
		t.Errorf("StartInterval = <%s>%s", got.XMLName.Local, got.Text)
	}
	if got := m["RunAtLoad"].XMLName.Local; got != "true" {
		t.Errorf("RunAtLoad = <%s/>", got)
	}
	if got := m["StandardErrorPath"].Text; got != filepath.Join(p.ProjectDir, LaunchdStderrLog) {
		t.Errorf("StandardErrorPath = %q", got)
	}
	env := m["EnvironmentVariables"].Items
	if len(env) != 2 || env[0].Text != "PATH" || env[1].Text != p.Path() {
		t.Errorf("EnvironmentVariables = %+v, want PATH=%s", env, p.Path())
	}
}

func TestPlistParses(t *testing.T) {
	plistutil, err := exec.LookPath("plistutil")
	if err != nil {
		t.Fatal("plistutil is required: apt-get install -y libplist-utils")
	}
	for name, p := range cases() {
		if p.Interval == 0 {
			p.Interval = DefaultInterval
		}
		files, err := Render(Launchd, p)
		if err != nil {
			t.Fatal(err)
		}
		checkPlist(t, decodePlist(t, bytes.NewReader(files[0].Content)), p)

		// plistutil reads it and writes it back; what it wrote must carry the same values.
		dir := t.TempDir()
		in := filepath.Join(dir, PlistName)
		if err := os.WriteFile(in, files[0].Content, 0o644); err != nil {
			t.Fatal(err)
		}
		outPath := filepath.Join(dir, "roundtrip.plist")
		if out, err := exec.Command(plistutil, "-i", in, "-f", "xml", "-o", outPath).CombinedOutput(); err != nil {
			t.Fatalf("%s: plistutil: %v\n%s", name, err, out)
		}
		rt, err := os.Open(outPath)
		if err != nil {
			t.Fatalf("%s: plistutil wrote nothing: %v", name, err)
		}
		checkPlist(t, decodePlist(t, rt), p)
		rt.Close()
	}
	// A broken plist must fail plistutil, so the check above means something.
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.plist")
	os.WriteFile(bad, []byte(`<?xml version="1.0"?><plist version="1.0"><dict><key>a</key><string>x & y</string></dict></plist>`), 0o644)
	if out, err := exec.Command(plistutil, "-i", bad, "-f", "xml", "-o", filepath.Join(dir, "o")).CombinedOutput(); err == nil {
		if _, statErr := os.Stat(filepath.Join(dir, "o")); statErr == nil {
			t.Logf("note: plistutil accepted a bare '&': %s", out)
		}
	}
}

func TestShortDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{7 * time.Minute: "7m", time.Hour: "1h", 90 * time.Second: "1m30s", 2*time.Hour + time.Minute: "2h1m", 30 * time.Second: "30s"} {
		if got := ShortDuration(d); got != want {
			t.Errorf("ShortDuration(%v) = %q, want %q", d, got, want)
		}
	}
}
