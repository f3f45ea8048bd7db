package config

import (
	"context"
	"errors"
	"testing"
)

func TestEnvName(t *testing.T) {
	for key, want := range map[string]string{
		"webhook_secret": "BIFROST_CONFIG_WEBHOOK_SECRET",
		"stripe.key-v2":  "BIFROST_CONFIG_STRIPE_KEY_V2",
		"Région":         "BIFROST_CONFIG_R_GION",
	} {
		if got := EnvName(key); got != want {
			t.Errorf("EnvName(%q) = %q, want %q", key, got, want)
		}
	}
}

func TestGet(t *testing.T) {
	t.Setenv("BIFROST_CONFIG_API_URL", "https://env")
	ctx := context.Background()
	if v, err := Get(ctx, "api_url"); err != nil || v != "https://env" {
		t.Fatalf("from the environment: %q, %v", v, err)
	}
	ctx = WithValues(ctx, map[string]string{"api_url": "https://test"})
	if v, err := Get(ctx, "api_url"); err != nil || v != "https://test" {
		t.Fatalf("WithValues first: %q, %v", v, err)
	}
	if _, err := Get(ctx, "missing"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a missing key: %v, want ErrNotFound", err)
	}
}
