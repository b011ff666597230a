package pgtest

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestFindBinDir(t *testing.T) {
	none := func(string) (string, error) { return "", errors.New("not found") }
	if _, err := findBinDir(none, filepath.Join(t.TempDir(), "*", "bin")); err == nil || err.Error() != InstallHint {
		t.Fatalf("want the install hint, got %v", err)
	}
	// The highest version under the glob wins.
	root := t.TempDir()
	for _, v := range []string{"9.6", "15", "13"} {
		dir := filepath.Join(root, v, "bin")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, n := range []string{"initdb", "postgres"} {
			if err := os.WriteFile(filepath.Join(dir, n), []byte("#!/bin/sh\n"), 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	got, err := findBinDir(none, filepath.Join(root, "*", "bin"))
	if err != nil || got != filepath.Join(root, "15", "bin") {
		t.Fatalf("got %q, %v", got, err)
	}
	// PATH comes first (through symlinks).
	link := filepath.Join(t.TempDir(), "initdb")
	if err := os.Symlink(filepath.Join(root, "13", "bin", "initdb"), link); err != nil {
		t.Fatal(err)
	}
	got, _ = findBinDir(func(string) (string, error) { return link, nil }, filepath.Join(root, "*", "bin"))
	if got != filepath.Join(root, "13", "bin") {
		t.Fatalf("PATH not preferred: %q", got)
	}
}
