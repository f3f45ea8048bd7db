// Package quickstart ports every example of the Python Bifrost "HTTP
// Endpoints" page to Go: plain functions, marked with //bifrost:workflow,
// served by the binary in cmd/quickstart.
package quickstart

//go:generate go tool bifrostgen generate --openapi openapi.json .

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"

	"github.com/bifrost-go/bifrost"
	"github.com/bifrost-go/bifrost/config"
	"github.com/bifrost-go/bifrost/runtime"
)

// HandleWebhook handles an incoming webhook.
//
// Any JSON object is accepted and acknowledged.
//
//bifrost:workflow endpoint methods=POST
func HandleWebhook(ctx context.Context, payload map[string]any) (map[string]any, error) {
	return map[string]any{"status": "processed"}, nil
}

// SecureEndpoint requires authentication: an API key or a session token.
//
//bifrost:workflow endpoint methods=POST
func SecureEndpoint(ctx context.Context, data map[string]any) (map[string]any, error) {
	return map[string]any{"processed": true}, nil
}

// GitHubEvent is the part of a GitHub webhook payload this example reads.
type GitHubEvent struct {
	Action string `json:"action,omitempty"`
}

// GithubWebhook is a public webhook for GitHub: it answers with the event's action.
//
//bifrost:workflow endpoint methods=POST public
func GithubWebhook(ctx context.Context, payload GitHubEvent) (map[string]any, error) {
	return map[string]any{"event": payload.Action}, nil
}

// FlexibleEndpoint accepts GET or POST: a query parameter, and an optional
// JSON body on POST.
//
//bifrost:workflow endpoint methods=GET,POST
func FlexibleEndpoint(ctx context.Context, query *string, payload map[string]any) (map[string]any, error) {
	return map[string]any{"query": query, "payload": payload}, nil
}

// VerifiedWebhook checks an HMAC-SHA256 signature by hand, the way the
// Python page shows it, but correctly: over the raw body bytes as received
// (never a re-serialised payload) and in constant time. The verify= option
// does the same declaratively for the common senders.
//
//bifrost:workflow endpoint methods=POST public
func VerifiedWebhook(ctx context.Context, req *bifrost.Request) (map[string]any, error) {
	secret, err := config.Get(ctx, "webhook_secret")
	if err != nil {
		return nil, fmt.Errorf("verified_webhook: %w", err)
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(req.Body)
	expected := "sha256=" + hex.EncodeToString(mac.Sum(nil))
	if !hmac.Equal([]byte(req.Header.Get("X-Signature-256")), []byte(expected)) {
		return nil, bifrost.Errorf(http.StatusUnauthorized, "invalid signature")
	}
	return map[string]any{"status": "verified"}, nil
}

// ProcessRequest shows the request data a workflow receives: the JSON body
// and a query parameter.
//
//bifrost:workflow endpoint methods=POST
func ProcessRequest(ctx context.Context, body map[string]any, queryParam string) (map[string]any, error) {
	return map[string]any{"body": body, "query": queryParam}, nil
}

// JSONData is the data part of JSONResponse's answer.
type JSONData struct {
	ID int `json:"id"`
}

// JSONResult is the answer of JSONResponse.
type JSONResult struct {
	Status string   `json:"status"`
	Data   JSONData `json:"data"`
}

// JSONResponse returns a JSON document.
//
//bifrost:workflow endpoint
func JSONResponse(ctx context.Context) (JSONResult, error) {
	return JSONResult{Status: "success", Data: JSONData{ID: 123}}, nil
}

// CustomStatus answers 201 Created: the Go form of Python's `return data, 201`.
//
//bifrost:workflow endpoint
func CustomStatus(ctx context.Context) (map[string]any, int, error) {
	return map[string]any{"created": true}, http.StatusCreated, nil
}

// LongRunningTask runs durably in the background: the caller gets 202 with an
// execution id at once and reads the result from /api/executions/{id}
// (?wait=30s holds the answer until it ends). An accepted call survives a
// crash of the server: it runs again when the server is back. Its work is a
// durable step: should the run after it fail or its process die, the next
// attempt hands back the step's recorded result instead of doing it again
// (docs/durable.md).
//
//bifrost:workflow endpoint mode=async
func LongRunningTask(ctx context.Context, data map[string]any) (map[string]any, error) {
	keys, err := bifrost.Step(ctx, "process", func(ctx context.Context) (int, error) {
		bifrost.Logger(ctx).Info("processing", "keys", len(data))
		return len(data), nil
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{"done": true, "keys": keys}, nil
}

// HandOff answers a webhook at once and hands the heavy work to
// LongRunningTask: a typed call in Go (the generated StartLongRunningTask),
// not an HTTP request to itself. The delivery's id makes a redelivery start
// nothing new.
//
//bifrost:workflow endpoint methods=POST
func HandOff(ctx context.Context, data map[string]any, h bifrost.Headers) (map[string]any, error) {
	var opts []runtime.StartOption
	if delivery := h.Get("X-Delivery-Id"); delivery != "" {
		opts = append(opts, runtime.WithIdempotencyKey(delivery))
	}
	id, err := StartLongRunningTask(ctx, runtime.ClientFrom(ctx), data, opts...)
	if err != nil {
		return nil, err
	}
	return map[string]any{"execution_id": id, "status_url": "/api/executions/" + id}, nil
}

// WeekdayReport runs at 09:00 UTC on weekdays, once across every replica,
// and on demand through its endpoint. A tick is an execution like any
// other, with trigger "schedule".
//
//bifrost:workflow endpoint mode=async schedule="0 9 * * 1-5"
func WeekdayReport(ctx context.Context) (map[string]any, error) {
	bifrost.Logger(ctx).Info("report")
	return map[string]any{"sent": true}, nil
}

// SlashCommand is a Slack slash command: Slack posts a form body.
type SlashCommand struct {
	Command  string `json:"command"`
	Text     string `json:"text,omitempty"`
	UserName string `json:"user_name"`
}

// SlackCommand handles a Slack slash command and answers in the channel at
// once, as Slack expects.
//
//bifrost:workflow endpoint methods=POST public
func SlackCommand(ctx context.Context, payload SlashCommand) (map[string]any, error) {
	bifrost.Logger(ctx).Info("slack command", "command", payload.Command, "user", payload.UserName)
	return map[string]any{
		"response_type": "in_channel",
		"text":          "Processing: " + payload.Text,
	}, nil
}
