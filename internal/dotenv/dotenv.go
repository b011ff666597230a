// Package dotenv edits a project's .env file byte for byte.
//
// Guarantees:
//   - Parse never loses bytes: File.Bytes returns the input unchanged until a Set changes it.
//   - Set changes only the value of the key's last assignment (the one that wins), keeping its `export `,
//     spacing, trailing comment and line ending; a missing key is appended with the file's line ending
//     (CRLF files stay CRLF). Every other byte stays as it was.
//   - A value is written only when both godotenv (Go) and python-dotenv (the Voyce backend) read back exactly
//     that value: after encoding, the line is parsed back with both and compared. A value containing `$` is
//     single-quoted. Newlines, NUL, invalid UTF-8 and values that cannot round-trip are refused with a
//     *ValueError that names the key and the reason, never the value.
//   - References such as ${PGPASSWORD} stay references (SetWithRefs); Set refuses a literal value that
//     python-dotenv would resolve as a reference.
//   - Reading follows python-dotenv: Lookup returns the unquoted, unescaped text; Resolve also expands
//     ${NAME} and ${NAME:-default} from earlier keys of the file and the injected environment.
package dotenv

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/joho/godotenv"
)

// File is a parsed .env file that remembers every byte.
type File struct {
	src      []byte
	bindings []binding
}

// ValueError says why a value cannot be stored under a key. It never holds the value itself.
type ValueError struct {
	Key    string
	Reason string
}

func (e *ValueError) Error() string {
	return fmt.Sprintf("cannot write %s to .env: %s", e.Key, e.Reason)
}

// Parse reads data the way python-dotenv does. It never fails: lines python-dotenv cannot read are kept as
// they are and ignored, as python-dotenv ignores them (with a warning).
func Parse(data []byte) *File {
	src := append([]byte(nil), data...)
	return &File{src: src, bindings: parse(src)}
}

// Bytes returns the file's current content.
func (f *File) Bytes() []byte { return append([]byte(nil), f.src...) }

// Keys returns the keys that have a value, in order of first appearance.
func (f *File) Keys() []string {
	seen := map[string]bool{}
	var keys []string
	for _, b := range f.bindings {
		if b.hasValue && !seen[b.key] {
			seen[b.key] = true
			keys = append(keys, b.key)
		}
	}
	return keys
}

// Lookup returns the value of key's last assignment as python-dotenv reads it before resolving references:
// quotes removed, escapes decoded, ${...} kept as written.
func (f *File) Lookup(key string) (string, bool) {
	i := f.last(key)
	if i < 0 {
		return "", false
	}
	return f.bindings[i].value, true
}

// RawValue returns the value of key's last assignment exactly as written in the file (quotes and escapes
// included), e.g. to show a person the line they have.
func (f *File) RawValue(key string) (string, bool) {
	i := f.last(key)
	if i < 0 {
		return "", false
	}
	b := f.bindings[i]
	return string(f.src[b.valStart:b.valEnd]), true
}

// Get is Lookup without the found flag.
func (f *File) Get(key string) string {
	v, _ := f.Lookup(key)
	return v
}

// Values returns every key's value (last assignment wins), references unresolved.
func (f *File) Values() map[string]string {
	m := map[string]string{}
	for _, b := range f.bindings {
		if b.hasValue {
			m[b.key] = b.value
		}
	}
	return m
}

// HasReference reports whether s contains a reference that python-dotenv resolves (${NAME} or
// ${NAME:-default}).
func HasReference(s string) bool { return refRe.MatchString(s) }

// References returns the names referenced in s as ${NAME} or ${NAME:-default}, in order.
func References(s string) []string {
	var names []string
	for _, m := range refRe.FindAllStringSubmatch(s, -1) {
		names = append(names, m[1])
	}
	return names
}

// Resolve returns key's value with references resolved the way python-dotenv's load_dotenv does: each
// ${NAME} is looked up in the process environment (getenv; an empty result counts as unset), then in the
// keys assigned earlier in the file (already resolved), else replaced by its default or "".
func (f *File) Resolve(key string, getenv func(string) string) (string, bool) {
	if f.last(key) < 0 {
		return "", false
	}
	resolved := map[string]string{}
	var out string
	for _, b := range f.bindings {
		if b.key == "" {
			continue
		}
		v := ""
		if b.hasValue {
			v = Expand(b.value, func(name string) (string, bool) {
				if getenv != nil {
					if e := getenv(name); e != "" {
						return e, true
					}
				}
				r, ok := resolved[name]
				return r, ok
			})
		}
		resolved[b.key] = v
		if b.key == key && b.hasValue {
			out = v
		}
	}
	return out, true
}

// Expand replaces ${NAME} and ${NAME:-default} in s as python-dotenv does, looking names up with lookup.
func Expand(s string, lookup func(string) (string, bool)) string {
	return refRe.ReplaceAllStringFunc(s, func(m string) string {
		sub := refRe.FindStringSubmatch(m)
		if v, ok := lookup(sub[1]); ok {
			return v
		}
		return sub[3]
	})
}

var (
	refRe = regexp.MustCompile(`\$\{([^}:]*)(:-([^}]*))?\}`)
	keyRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	// bareRe: values safe to write without quotes in both readers.
	bareRe = regexp.MustCompile(`^[A-Za-z0-9_./:@%+,=~\\-]+$`)
)

// Set gives key the literal value: it changes the key's last assignment, or appends one. It reports whether
// the file changed (false when the key already holds exactly this value). A value that python-dotenv would
// resolve as a reference is refused; use SetWithRefs to store references.
func (f *File) Set(key, value string) (bool, error) {
	if HasReference(value) {
		return false, &ValueError{key, "the value contains ${...}, which python-dotenv would replace; it cannot be stored literally"}
	}
	return f.set(key, value)
}

// SetWithRefs is Set for a value whose ${NAME} references are meant to stay references, resolved by whoever
// reads the file (e.g. DATABASE_URL with ${PGPASSWORD}).
func (f *File) SetWithRefs(key, value string) (bool, error) { return f.set(key, value) }

func (f *File) set(key, value string) (bool, error) {
	if !keyRe.MatchString(key) {
		return false, fmt.Errorf("invalid .env key %q: use letters, digits and _, not starting with a digit", key)
	}
	switch {
	case strings.ContainsAny(value, "\n\r"):
		return false, &ValueError{key, "the value contains a line break"}
	case strings.ContainsRune(value, 0):
		return false, &ValueError{key, "the value contains a NUL byte"}
	case !utf8.ValidString(value):
		return false, &ValueError{key, "the value is not valid UTF-8"}
	}
	i := f.last(key)
	if i >= 0 && f.bindings[i].value == value {
		return false, nil
	}
	var tries [][]byte
	if i >= 0 {
		b := f.bindings[i]
		for _, tok := range candidates(value, b.quote) {
			tries = append(tries, concat(f.src[:b.valStart], tok, f.src[b.valEnd:]))
		}
		if b.commentEnd > b.valEnd { // same again without a trailing comment that one reader might take in
			for _, tok := range candidates(value, b.quote) {
				tries = append(tries, concat(f.src[:b.valStart], tok, f.src[b.commentEnd:]))
			}
		}
	} else {
		prefix := f.src
		eol := f.eol()
		if len(prefix) > 0 && prefix[len(prefix)-1] != '\n' && prefix[len(prefix)-1] != '\r' {
			prefix = concat(prefix, []byte(eol))
		}
		for _, tok := range candidates(value, 0) {
			tries = append(tries, concat(prefix, []byte(key+"="), tok, []byte(eol)))
		}
	}
	for _, src := range tries {
		if nb, ok := f.verify(src, key, value, i); ok {
			f.src, f.bindings = src, nb
			return true, nil
		}
	}
	return false, &ValueError{key, "the value cannot be written so that both godotenv and python-dotenv read it back exactly (e.g. it holds both ' and $, or ends with a backslash)"}
}

// verify parses src and checks: key's last assignment reads value in python-dotenv and (line alone) in
// godotenv, and every other assignment reads as before.
func (f *File) verify(src []byte, key, value string, changed int) ([]binding, bool) {
	nb := parse(src)
	want := len(f.bindings)
	if changed < 0 {
		want++
		changed = len(f.bindings)
	}
	if len(nb) != want {
		return nil, false
	}
	for j, b := range nb {
		if j == changed {
			if b.key != key || !b.hasValue || b.value != value {
				return nil, false
			}
			continue
		}
		o := f.bindings[j]
		if b.key != o.key || b.hasValue != o.hasValue || b.value != o.value {
			return nil, false
		}
	}
	b := nb[changed]
	m, err := godotenv.UnmarshalBytes(src[b.keyStart:b.end])
	if err != nil || len(m) != 1 || m[key] != value {
		return nil, false
	}
	return nb, true
}

// candidates lists encodings of value to try, the existing quote style first.
func candidates(value string, prefer byte) [][]byte {
	var out [][]byte
	add := func(q byte) {
		switch q {
		case 0:
			if bareRe.MatchString(value) {
				out = append(out, []byte(value))
			}
		case '\'':
			if !strings.Contains(value, "'") && !strings.Contains(value, `\\`) {
				out = append(out, []byte("'"+value+"'"))
			}
		case '"':
			if !strings.Contains(value, "$") {
				r := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
				out = append(out, []byte(`"`+r.Replace(value)+`"`))
			}
		}
	}
	if strings.Contains(value, "$") {
		add('\'')
		return out
	}
	if prefer != 0 {
		add(prefer)
	}
	if value == "" {
		add('\'')
	}
	add(0)
	add('\'')
	add('"')
	return out
}

// EncodeValue returns how Set would write value on a new line (KEY=<result>), or the reason it cannot.
func EncodeValue(key, value string) (string, error) {
	f := Parse(nil)
	var err error
	if HasReference(value) {
		_, err = f.SetWithRefs(key, value)
	} else {
		_, err = f.Set(key, value)
	}
	if err != nil {
		return "", err
	}
	line := strings.TrimSuffix(string(f.src), "\n")
	return strings.TrimPrefix(line, key+"="), nil
}

func (f *File) last(key string) int {
	for i := len(f.bindings) - 1; i >= 0; i-- {
		if f.bindings[i].key == key && f.bindings[i].hasValue {
			return i
		}
	}
	return -1
}

// eol is the file's line ending: CRLF when its first line ends so, else LF.
func (f *File) eol() string {
	if i := bytes.IndexByte(f.src, '\n'); i > 0 && f.src[i-1] == '\r' {
		return "\r\n"
	}
	return "\n"
}

func concat(parts ...[]byte) []byte {
	var n int
	for _, p := range parts {
		n += len(p)
	}
	out := make([]byte, 0, n)
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// Unset removes every assignment of key (each statement's line, line ending included; comments and blank
// lines around it stay). It reports whether the file changed.
func (f *File) Unset(key string) bool {
	var out []byte
	prev := 0
	for _, b := range f.bindings {
		if b.key == key && !b.err {
			out = append(out, f.src[prev:b.keyStart]...)
			prev = b.end
		}
	}
	if prev == 0 {
		return false
	}
	out = append(out, f.src[prev:]...)
	f.src, f.bindings = out, parse(out)
	return true
}
