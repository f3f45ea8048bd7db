package webhook

import (
	"encoding/json"
	"net/http"
)

// maxDeliveryID bounds an id taken from a request: it names a delivery, it
// is not a payload.
const maxDeliveryID = 200

// DeliveryID is the sender's id of one delivery, the same on each of its
// retries, or "" when the scheme has none: GitHub's X-GitHub-Delivery,
// Standard Webhooks' webhook-id (svix-id), and for Stripe the event's "id"
// in the body. Slack and generic HMAC-SHA256 requests carry none. Call it
// after Verify: an unsigned id proves nothing.
func DeliveryID(kind string, h http.Header, body []byte) string {
	var id string
	switch kind {
	case "github":
		id = h.Get("X-GitHub-Delivery")
	case "standard":
		id = h.Get("webhook-id")
		if id == "" {
			id = h.Get("svix-id")
		}
	case "stripe":
		var event struct {
			ID string `json:"id"`
		}
		if json.Unmarshal(body, &event) == nil {
			id = event.ID
		}
	}
	if len(id) > maxDeliveryID || !isToken(id) {
		return ""
	}
	return id
}
