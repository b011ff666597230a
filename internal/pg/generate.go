package pg

import (
	"crypto/rand"
	"math/big"
)

// GenerateAlphabet holds only letters and digits: safe unquoted in .pgpass, URLs (no percent-encoding), .env
// files and shell commands.
const GenerateAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// GenerateLength is the length of generated passwords (about 190 bits).
const GenerateLength = 32

// GeneratePassword returns n (at least GenerateLength) characters drawn uniformly from GenerateAlphabet with
// crypto/rand.
func GeneratePassword(n int) (string, error) {
	if n < GenerateLength {
		n = GenerateLength
	}
	max := big.NewInt(int64(len(GenerateAlphabet)))
	b := make([]byte, n)
	for i := range b {
		k, err := rand.Int(rand.Reader, max)
		if err != nil {
			return "", err
		}
		b[i] = GenerateAlphabet[k.Int64()]
	}
	return string(b), nil
}
