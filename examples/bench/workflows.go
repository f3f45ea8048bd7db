// Package bench holds the workflow that the benchmarks serve two ways: through
// its generated binding, and through a hand-written echo handler doing the
// same work (handwritten.go), the baseline the binding is held to.
package bench

//go:generate go tool bifrostgen generate .

import "context"

// Item is the body of CreateItem.
type Item struct {
	Name  string         `json:"name"`
	Count int            `json:"count"`
	Tags  []string       `json:"tags"`
	Meta  map[string]any `json:"meta"`
}

// Created is the answer of CreateItem.
type Created struct {
	Name   string `json:"name"`
	Count  int    `json:"count"`
	Tags   int    `json:"tags"`
	DryRun bool   `json:"dry_run"`
}

// CreateItem acknowledges an item.
//
//bifrost:workflow endpoint public
func CreateItem(ctx context.Context, item Item, dryRun bool) (Created, error) {
	return Created{Name: item.Name, Count: item.Count, Tags: len(item.Tags), DryRun: dryRun}, nil
}
