package generator

import (
	"strings"
	"unicode"
)

// compoundWords are names that a Go identifier writes with an inner capital
// but that people read, and Python Bifrost spells, as one word: without this
// table GitHubPush would be git_hub_push and OAuth2Callback o_auth2_callback.
// Initialisms written in capitals (ID, URL, HTTP, API, JSON…) need no entry:
// a run of capitals is one word already (HTTPServer → http_server). For any
// other name, name= in the directive says it exactly.
var compoundWords = []string{
	"GitHub", "GitLab", "BitBucket", "OAuth", "OpenID", "OpenAPI", "GraphQL",
	"iOS", "macOS", "IPv4", "IPv6", "WebSocket", "WebAuthn", "WebHook",
	"PayPal", "YouTube", "LinkedIn", "WordPress", "HubSpot", "DevOps",
	"JavaScript", "TypeScript", "PostgreSQL", "MySQL", "NoSQL", "DynamoDB", "MongoDB",
}

// SnakeCase turns a Go name into the snake_case of SPEC §2 and §8:
// HandleWebhook → handle_webhook, HTTPServer → http_server,
// queryParam → query_param, userID → user_id, GitHubPush → github_push,
// OAuth2Callback → oauth2_callback.
func SnakeCase(s string) string {
	for _, w := range compoundWords {
		if strings.Contains(s, w) {
			s = strings.ReplaceAll(s, w, oneWord(w))
		}
	}
	runes := []rune(s)
	var b strings.Builder
	for i, r := range runes {
		if unicode.IsUpper(r) {
			prevLower := i > 0 && (unicode.IsLower(runes[i-1]) || unicode.IsDigit(runes[i-1]))
			nextLower := i+1 < len(runes) && unicode.IsLower(runes[i+1])
			if i > 0 && (prevLower || (nextLower && unicode.IsUpper(runes[i-1]))) && runes[i-1] != '_' {
				b.WriteByte('_')
			}
			b.WriteRune(unicode.ToLower(r))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// oneWord writes a compound word as the splitter reads one word: a capital
// and lower case (GitHub → Github).
func oneWord(w string) string {
	return strings.ToUpper(w[:1]) + strings.ToLower(w[1:])
}
