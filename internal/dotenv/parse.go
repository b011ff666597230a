package dotenv

import (
	"regexp"
)

// The parser below follows python-dotenv 1.x (dotenv/parser.py) regex for regex, so that what voyce-auth
// reads is what the Python backend reads. Python's \s is Unicode-aware; ws spells out the same set.
const (
	ws     = `\t\n\v\f\r\x1c-\x1f \x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}`
	hws    = `\t\v\f\x1c-\x1f \x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}` // [^\S\r\n]
	anchor = `^(?:`
)

var (
	reMultilineWS    = regexp.MustCompile(anchor + `[` + ws + `]*)`)
	reWhitespace     = regexp.MustCompile(anchor + `[` + hws + `]*)`)
	reExport         = regexp.MustCompile(anchor + `(?:export[` + hws + `]+)?)`)
	reSingleQuoteKey = regexp.MustCompile(anchor + `'([^']+)')`)
	reUnquotedKey    = regexp.MustCompile(anchor + `([^=#` + ws + `]+))`)
	reEqualSign      = regexp.MustCompile(anchor + `(=[` + hws + `]*))`)
	reSingleValue    = regexp.MustCompile(anchor + `'((?:\\'|[^'])*)')`)
	reDoubleValue    = regexp.MustCompile(anchor + `"((?:\\"|[^"])*)")`)
	reUnquotedValue  = regexp.MustCompile(anchor + `([^\r\n]*))`)
	reComment        = regexp.MustCompile(anchor + `(?:[` + hws + `]*#[^\r\n]*)?)`)
	reEndOfLine      = regexp.MustCompile(anchor + `[` + hws + `]*(?:\r\n|\n|\r|$))`)
	reRestOfLine     = regexp.MustCompile(anchor + `[^\r\n]*(?:\r|\n|\r\n)?)`)
	reInlineComment  = regexp.MustCompile(`[` + ws + `]+#`)
	reDoubleEscapes  = regexp.MustCompile(`\\[\\'"abfnrtv]`)
	reSingleEscapes  = regexp.MustCompile(`\\[\\']`)
)

// binding is one python-dotenv statement with the byte offsets needed to edit its value in place.
type binding struct {
	start, end int // the statement's bytes, leading blank lines included (as python-dotenv counts them)
	keyStart   int // where `export`/the key begins
	key        string
	hasValue   bool   // KEY=... (python-dotenv gives a bare KEY the value None)
	value      string // unquoted, unescaped, references not resolved
	quote      byte   // 0, '\'' or '"'
	valStart   int    // value token (quotes included)
	valEnd     int
	commentEnd int // end of a trailing comment (== valEnd when none)
	err        bool
}

type reader struct {
	src []byte
	pos int
}

func (r *reader) read(re *regexp.Regexp) ([][]byte, bool) {
	m := re.FindSubmatchIndex(r.src[r.pos:])
	if m == nil {
		return nil, false
	}
	var groups [][]byte
	for g := 1; g < len(m)/2; g++ {
		if m[2*g] >= 0 {
			groups = append(groups, r.src[r.pos+m[2*g]:r.pos+m[2*g+1]])
		} else {
			groups = append(groups, nil)
		}
	}
	r.pos += m[1]
	return groups, true
}

func (r *reader) peek() byte {
	if r.pos < len(r.src) {
		return r.src[r.pos]
	}
	return 0
}

func parse(src []byte) []binding {
	r := &reader{src: src}
	var out []binding
	for r.pos < len(src) {
		start := r.pos
		b, ok := parseBinding(r)
		if !ok {
			r.pos = start
			r.read(reMultilineWS)
			r.read(reRestOfLine)
			b = binding{err: true}
			if r.pos == start { // cannot happen, but never loop forever
				r.pos = len(src)
			}
		}
		b.start, b.end = start, r.pos
		out = append(out, b)
	}
	return out
}

func parseBinding(r *reader) (binding, bool) {
	var b binding
	r.read(reMultilineWS)
	if r.pos >= len(r.src) {
		return b, true
	}
	b.keyStart = r.pos
	r.read(reExport)
	switch r.peek() {
	case '#':
		// comment: key None
	case '\'':
		g, ok := r.read(reSingleQuoteKey)
		if !ok {
			return b, false
		}
		b.key = string(g[0])
	default:
		g, ok := r.read(reUnquotedKey)
		if !ok {
			return b, false
		}
		b.key = string(g[0])
	}
	r.read(reWhitespace)
	if b.key != "" || r.peek() != '#' {
		if r.peek() == '=' {
			r.read(reEqualSign)
			b.hasValue = true
			b.valStart = r.pos
			switch r.peek() {
			case '\'':
				g, ok := r.read(reSingleValue)
				if !ok {
					return b, false
				}
				b.quote, b.value = '\'', reSingleEscapes.ReplaceAllStringFunc(string(g[0]), unescape)
			case '"':
				g, ok := r.read(reDoubleValue)
				if !ok {
					return b, false
				}
				b.quote, b.value = '"', reDoubleEscapes.ReplaceAllStringFunc(string(g[0]), unescape)
			case 0, '\n', '\r':
			default:
				g, _ := r.read(reUnquotedValue)
				part := g[0]
				if loc := reInlineComment.FindIndex(part); loc != nil {
					part = part[:loc[0]]
				}
				part = rstripPy(part)
				b.value = string(part)
				r.pos = b.valStart + len(part)
			}
			b.valEnd = r.pos
		}
	}
	if b.key == "" && b.hasValue {
		return b, false
	}
	r.read(reComment)
	b.commentEnd = r.pos
	if _, ok := r.read(reEndOfLine); !ok {
		return b, false
	}
	if !b.hasValue {
		b.valStart, b.valEnd, b.commentEnd = r.pos, r.pos, r.pos
	}
	return b, true
}

func unescape(m string) string {
	switch m[1] {
	case 'a':
		return "\a"
	case 'b':
		return "\b"
	case 'f':
		return "\f"
	case 'n':
		return "\n"
	case 'r':
		return "\r"
	case 't':
		return "\t"
	case 'v':
		return "\v"
	}
	return m[1:]
}

var reTrailingWS = regexp.MustCompile(`[` + ws + `]+$`)

func rstripPy(b []byte) []byte {
	if loc := reTrailingWS.FindIndex(b); loc != nil {
		return b[:loc[0]]
	}
	return b
}
