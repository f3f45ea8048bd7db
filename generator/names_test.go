package generator

import "testing"

func TestSnakeCase(t *testing.T) {
	for in, want := range map[string]string{
		"HandleWebhook":   "handle_webhook",
		"HTTPServer":      "http_server",
		"queryParam":      "query_param",
		"userID":          "user_id",
		"userId":          "user_id",
		"GitHubPush":      "github_push",
		"GithubWebhook":   "github_webhook",
		"GitLabMerge":     "gitlab_merge",
		"OAuth2Callback":  "oauth2_callback",
		"oauthToken":      "oauth_token",
		"iOSRelease":      "ios_release",
		"ParseIPv4":       "parse_ipv4",
		"JSONResponse":    "json_response",
		"GetAPIURL":       "get_apiurl",
		"APIKey":          "api_key",
		"StripeWebHook":   "stripe_webhook",
		"PostgreSQLDump":  "postgresql_dump",
		"Sync2Drive":      "sync2_drive",
		"already_snake":   "already_snake",
		"X":               "x",
		"GitHubUserID":    "github_user_id",
		"MyGraphQLServer": "my_graphql_server",
	} {
		if got := SnakeCase(in); got != want {
			t.Errorf("SnakeCase(%q) = %q, want %q", in, got, want)
		}
	}
}
