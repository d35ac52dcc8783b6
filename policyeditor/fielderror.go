package policyeditor

import "strings"

// DocumentPath is the path of errors about the document as a whole (not JSON, not
// an object), so that every FieldError names a place an editor can point at.
const DocumentPath = "document"

// FieldError is one problem in a policy document, addressed by the path of the
// field that causes it (for example "rules[0].conditions[0].in[0]"), so the editor
// can show the message next to that field.
type FieldError struct {
	Path    string `json:"path"`
	Message string `json:"message"`
}

// Error formats the error as "path: message", the form the CLI prints.
func (e FieldError) Error() string { return e.Path + ": " + e.Message }

// FieldErrors is every problem found in a document, in document order. A document
// with any FieldErrors is refused whole: there is no partially valid policy.
type FieldErrors []FieldError

// Error joins all messages, one per line.
func (es FieldErrors) Error() string {
	var b strings.Builder
	for i, e := range es {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// For returns the messages for exactly one path, for an editor that renders each
// field's errors beside it.
func (es FieldErrors) For(path string) []string {
	var out []string
	for _, e := range es {
		if e.Path == path {
			out = append(out, e.Message)
		}
	}
	return out
}

// problems collects FieldErrors while a document is walked, so validation can keep
// going after the first problem and report all of them at once.
type problems struct{ errs FieldErrors }

func (p *problems) add(path, msg string) {
	p.errs = append(p.errs, FieldError{Path: path, Message: msg})
}

// err returns nil, not an empty FieldErrors, when nothing was found, so callers can
// test err != nil as usual.
func (p *problems) err() error {
	if len(p.errs) == 0 {
		return nil
	}
	return p.errs
}
