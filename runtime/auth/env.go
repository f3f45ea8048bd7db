package auth

import "os"

// ConfigFromEnv reads the credentials configured in the environment:
// BIFROST_API_KEY, BIFROST_SESSION_SECRET, BIFROST_SESSION_JWKS_URL,
// BIFROST_SESSION_ISSUER and BIFROST_SESSION_AUDIENCE.
func ConfigFromEnv() Config {
	return Config{
		EnvKey:        os.Getenv("BIFROST_API_KEY"),
		SessionSecret: []byte(os.Getenv("BIFROST_SESSION_SECRET")),
		JWKSURL:       os.Getenv("BIFROST_SESSION_JWKS_URL"),
		Issuer:        os.Getenv("BIFROST_SESSION_ISSUER"),
		Audience:      os.Getenv("BIFROST_SESSION_AUDIENCE"),
	}
}
