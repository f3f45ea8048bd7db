// Package webhooks receives the webhooks of four senders, each verified by
// the generated binding before anything else: the signature is checked over
// the exact bytes received, in constant time, with the secret read from
// configuration (`config set github_webhook_secret ... --secret`, or
// BIFROST_CONFIG_GITHUB_WEBHOOK_SECRET). A missing, bad or stale signature is
// a 401 and the workflow never runs.
package webhooks

//go:generate go tool bifrostgen generate .

import (
	"context"

	"github.com/bifrost-go/bifrost"
)

// PushEvent is the part of GitHub's push event this example reads.
type PushEvent struct {
	Ref        string `json:"ref"`
	After      string `json:"after,omitempty"`
	Repository struct {
		FullName string `json:"full_name"`
	} `json:"repository"`
}

// GitHubPush receives GitHub push events signed with X-Hub-Signature-256.
//
//bifrost:workflow endpoint public name=github_push verify=github secret=github_webhook_secret
func GitHubPush(ctx context.Context, event PushEvent, h bifrost.Headers) (map[string]string, error) {
	bifrost.Logger(ctx).Info("push", "repository", event.Repository.FullName, "ref", event.Ref,
		"delivery", h.Get("X-GitHub-Delivery"))
	return map[string]string{"received": event.Ref}, nil
}

// StripeEvent is a Stripe event envelope.
type StripeEvent struct {
	ID   string         `json:"id"`
	Type string         `json:"type"`
	Data map[string]any `json:"data,omitempty"`
}

// StripeEvents receives Stripe events signed with Stripe-Signature (several
// v1 signatures during a secret roll; five minutes of tolerance).
//
//bifrost:workflow endpoint public verify=stripe secret=stripe_webhook_secret
func StripeEvents(ctx context.Context, event StripeEvent) (map[string]bool, error) {
	bifrost.Logger(ctx).Info("stripe event", "id", event.ID, "type", event.Type)
	return map[string]bool{"received": true}, nil
}

// SlashCommand is what Slack posts for a slash command: a form body.
type SlashCommand struct {
	Command  string `json:"command"`
	Text     string `json:"text,omitempty"`
	UserName string `json:"user_name"`
}

// SlackCommand answers a Slack slash command signed with X-Slack-Signature
// over "v0:" + timestamp + ":" + the form body as sent.
//
//bifrost:workflow endpoint public name=slack_slash_command verify=slack secret=slack_signing_secret
func SlackCommand(ctx context.Context, cmd SlashCommand) (map[string]string, error) {
	return map[string]string{"response_type": "ephemeral", "text": "Running " + cmd.Command + " " + cmd.Text}, nil
}

// StandardEvent is a Standard Webhooks payload.
type StandardEvent struct {
	Type string         `json:"type"`
	Data map[string]any `json:"data"`
}

// StandardReceiver receives Standard Webhooks (webhook-id, webhook-timestamp,
// webhook-signature; whsec_ secrets), as sent by Svix and others.
//
//bifrost:workflow endpoint public verify=standard secret=standard_webhook_secret
func StandardReceiver(ctx context.Context, event StandardEvent) error {
	bifrost.Logger(ctx).Info("event", "type", event.Type)
	return nil
}

// SignedAlert receives a generic HMAC-SHA256 signature in a header of the
// sender's choosing.
//
//bifrost:workflow endpoint public verify=hmac-sha256 secret=alerts_secret signature_header=X-Alert-Signature
func SignedAlert(ctx context.Context, alert map[string]any) error {
	return nil
}
