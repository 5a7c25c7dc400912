package preprocess

import (
	"unicode"
	"unicode/utf8"
)

// tokenize writes the instruction's token ids into dst, recomputing only
// when the instruction changed since the last call.
func (p *Preprocessor) tokenize(instruction string, dst []int64) {
	if instruction != p.lastInstruction || p.lastInstruction == "" {
		p.Tokenize(instruction, p.tokens)
		p.lastInstruction = instruction
	}
	copy(dst, p.tokens)
}

// Tokenize maps instruction to ids in dst: lowercase, split on every
// non-letter rune, each word's Vocabulary id (index+1) or 0 when unknown,
// truncated to len(dst) and padded with 0. It allocates nothing.
func (p *Preprocessor) Tokenize(instruction string, dst []int64) {
	n := 0
	flush := func() {
		if len(p.word) > 0 && n < len(dst) {
			dst[n] = p.vocab[string(p.word)] // map lookup with a []byte key conversion does not allocate
			n++
		}
		p.word = p.word[:0]
	}
	for _, r := range instruction {
		if unicode.IsLetter(r) {
			p.word = utf8.AppendRune(p.word, unicode.ToLower(r))
			continue
		}
		flush()
	}
	flush()
	clear(dst[n:])
}
