package dotenv

import (
	"bytes"
	"strings"
	"testing"
)

// FuzzDotenvSet: set a key; every other key parses to what it was before, the key reads the new value, and
// the file minus the changed line is byte-identical (or, for a new key, the old file is a prefix of the new).
func FuzzDotenvSet(f *testing.F) {
	f.Add([]byte(voyceEnv), "POSTGRES_HOST", "new-host.example.com")
	f.Add([]byte(voyceEnv), "DATABRICKS_OAUTH_TOKEN", "eyJ$abc")
	f.Add([]byte(strings.ReplaceAll(voyceEnv, "\n", "\r\n")), "NEW_KEY", "a b # c")
	f.Add([]byte("A=1 # c #d\nB='x'\n"), "A", "y z")
	f.Add([]byte("export A=\"q\\\"\"\n"), "A", `back\`)
	f.Add([]byte("A='multi\nline'\nB=2"), "A", "ü")
	f.Add([]byte("garbage line\n=x\nA"), "A", "")
	for _, v := range trickyValues {
		f.Add([]byte(voyceEnv), "POSTGRES_USER", v)
	}
	f.Fuzz(func(t *testing.T, data []byte, key, value string) {
		file := Parse(data)
		file0 := Parse(data)
		if !bytes.Equal(file.Bytes(), data) {
			t.Fatal("Parse/Bytes is not byte-exact")
		}
		before := file.Values()
		changed, err := file.Set(key, value)
		after := file.Bytes()
		if err != nil || !changed {
			if !bytes.Equal(after, data) {
				t.Fatal("a refused or no-op Set changed the file")
			}
			if err == nil && file.Get(key) != value {
				t.Fatal("no-op Set but the key holds another value")
			}
			return
		}
		re := Parse(after)
		if got, ok := re.Lookup(key); !ok || got != value {
			t.Fatalf("key reads %q after Set, want %q", got, value)
		}
		for k, v := range re.Values() {
			if k == key {
				continue
			}
			if before[k] != v {
				t.Fatalf("other key %q changed from %q to %q", k, before[k], v)
			}
		}
		if len(re.Values()) != len(before) && len(re.Values()) != len(before)+1 {
			t.Fatal("keys appeared or disappeared")
		}
		p := 0
		for p < len(data) && p < len(after) && data[p] == after[p] {
			p++
		}
		s := 0
		for s < len(data)-p && s < len(after)-p && data[len(data)-1-s] == after[len(after)-1-s] {
			s++
		}
		oldMid, newMid := data[p:len(data)-s], after[p:len(after)-s]
		if p == len(data) {
			return // appended
		}
		// The change stays inside the key's last assignment (one line, or one multi-line quoted value).
		b := file0.bindings[file0.last(key)]
		if p < b.keyStart || len(data)-s > b.end || bytes.ContainsAny(newMid, "\r\n") {
			t.Fatalf("change outside the assignment: %q -> %q", oldMid, newMid)
		}
	})
}
