package main

import (
	"flag"
	"fmt"

	"portico/store"
)

// pageFlags are the list commands' paging options: a list prints one page
// (--limit rows) and, when there is more, says on stderr which --after
// gives the next page; stdout stays the list alone, JSON or text.
type pageFlags struct {
	limit  *int
	after  *string
	before *string
	q      *string
}

func addPageFlags(fs *flag.FlagSet, def int, search string) pageFlags {
	p := pageFlags{
		limit:  fs.Int("limit", def, fmt.Sprintf("at most this many rows (1 to %d)", store.MaxPageSize)),
		after:  fs.String("after", "", "print the page after this cursor (printed on stderr by the previous page)"),
		before: fs.String("before", "", "print the page before this cursor"),
	}
	if search != "" {
		p.q = fs.String("q", "", "only rows whose "+search)
	}
	return p
}

func (p pageFlags) page() (store.Page, error) {
	if *p.limit < 1 || *p.limit > store.MaxPageSize {
		return store.Page{}, fmt.Errorf("--limit must be between 1 and %d, not %d", store.MaxPageSize, *p.limit)
	}
	if *p.after != "" && *p.before != "" {
		return store.Page{}, fmt.Errorf("give --after or --before, not both")
	}
	pg := store.Page{Limit: *p.limit, After: *p.after, Before: *p.before}
	if p.q != nil {
		pg.Q = *p.q
	}
	return pg, nil
}

// notePage tells the operator on stderr how to reach the neighbouring pages.
func (c *cli) notePage(info store.PageInfo) {
	if info.Next != "" {
		fmt.Fprintf(c.stderr, "more: next page with --after %s\n", info.Next)
	}
	if info.Prev != "" {
		fmt.Fprintf(c.stderr, "previous page with --before %s\n", info.Prev)
	}
}
