package policyeditor

import (
	"bytes"
	"context"
	"fmt"
	"strings"
)

// DiffOp marks a line of a Diff.
type DiffOp byte

// Diff line kinds.
const (
	DiffSame   DiffOp = ' '
	DiffAdd    DiffOp = '+'
	DiffRemove DiffOp = '-'
)

// DiffLine is one line of a version comparison.
type DiffLine struct {
	Op   DiffOp
	Text string
}

// Diff compares versions a and b of a policy line by line over their
// canonical JSON, which puts every rule, condition and list item on its own
// line: a readable change list without a JSON-aware differ.
func (s *Service) Diff(ctx context.Context, policyID string, a, b int) ([]DiffLine, error) {
	va, err := s.Store.PolicyVersion(ctx, policyID, a)
	if err != nil {
		return nil, err
	}
	vb, err := s.Store.PolicyVersion(ctx, policyID, b)
	if err != nil {
		return nil, err
	}
	return DiffLines(string(va.Document), string(vb.Document))
}

// maxDiffLines bounds the quadratic table below; policy documents are a few
// hundred lines at most.
const maxDiffLines = 4000

// DiffLines is a longest-common-subsequence line diff of two texts.
func DiffLines(a, b string) ([]DiffLine, error) {
	la, lb := splitLines(a), splitLines(b)
	if len(la) > maxDiffLines || len(lb) > maxDiffLines {
		return nil, fmt.Errorf("policyeditor: documents too long to compare (%d and %d lines)", len(la), len(lb))
	}
	// lcs[i][j] is the LCS length of la[i:] and lb[j:].
	lcs := make([][]int32, len(la)+1)
	for i := range lcs {
		lcs[i] = make([]int32, len(lb)+1)
	}
	for i := len(la) - 1; i >= 0; i-- {
		for j := len(lb) - 1; j >= 0; j-- {
			if la[i] == lb[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var out []DiffLine
	i, j := 0, 0
	for i < len(la) && j < len(lb) {
		switch {
		case la[i] == lb[j]:
			out = append(out, DiffLine{DiffSame, la[i]})
			i, j = i+1, j+1
		case lcs[i+1][j] >= lcs[i][j+1]:
			out = append(out, DiffLine{DiffRemove, la[i]})
			i++
		default:
			out = append(out, DiffLine{DiffAdd, lb[j]})
			j++
		}
	}
	for ; i < len(la); i++ {
		out = append(out, DiffLine{DiffRemove, la[i]})
	}
	for ; j < len(lb); j++ {
		out = append(out, DiffLine{DiffAdd, lb[j]})
	}
	return out, nil
}

func splitLines(s string) []string {
	s = strings.TrimSuffix(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// Unified renders a diff as text with "+", "-" and " " prefixes, for the CLI
// and tests.
func Unified(lines []DiffLine) string {
	var b bytes.Buffer
	for _, l := range lines {
		b.WriteByte(byte(l.Op))
		b.WriteString(l.Text)
		b.WriteByte('\n')
	}
	return b.String()
}
