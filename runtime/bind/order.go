package bind

import (
	"slices"
	"strings"

	"github.com/bifrost-go/bifrost"
	"github.com/bifrost-go/bifrost/runtime/jsonscan"
)

// sortByDocument orders the errors as a reader of the request meets them:
// query and header errors first (in the order recorded), then body errors
// by the position of their top-level member in the body, so a type error
// and the constraint errors of the members around it read top to bottom.
// It runs on the error path only.
func (e *FieldErrors) sortByDocument() {
	if len(e.body) == 0 || len(e.list) < 2 {
		return
	}
	order := map[string]int{}
	for it, i := jsonscan.Members(e.body), 0; it.Next(); i++ {
		if _, seen := order[string(it.Key())]; !seen {
			order[string(it.Key())] = i
		}
	}
	rank := func(location string) int {
		member, ok := strings.CutPrefix(location, "body.")
		if !ok {
			return -1
		}
		if end := strings.IndexAny(member, ".["); end >= 0 {
			member = member[:end]
		}
		if i, ok := order[member]; ok {
			return i
		}
		return len(order) // absent members: after those present
	}
	slices.SortStableFunc(e.list, func(a, b bifrost.FieldError) int { return rank(a.Location) - rank(b.Location) })
}
