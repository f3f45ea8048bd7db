package bench

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
)

// HandwrittenCreateItem is CreateItem served the way a careful developer
// would write it by hand with echo: the baseline of the benchmark. It does
// the work the generated binding does — body limit, content type, JSON
// decoding with required members, a typed query parameter, a timeout, an
// execution id, RFC 9457 problems — and answers identically (see
// TestHandwrittenAnswersAsGenerated).
func HandwrittenCreateItem(c echo.Context) error {
	id, err := uuid.NewV7()
	if err != nil {
		return err
	}
	executionID := id.String()
	c.Response().Header().Set("X-Bifrost-Execution-Id", executionID)
	req := c.Request()
	if mt, _, err := mime.ParseMediaType(req.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return problem(c, executionID, http.StatusUnsupportedMediaType, "the body must be application/json", nil)
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Response(), req.Body, 10<<20))
	if err != nil {
		return problem(c, executionID, http.StatusRequestEntityTooLarge, "the body is too large", nil)
	}
	// Pointers tell a missing member from a zero value.
	var in struct {
		Name  *string        `json:"name"`
		Count *int           `json:"count"`
		Tags  []string       `json:"tags"`
		Meta  map[string]any `json:"meta"`
	}
	var errs []fieldError
	if err := json.Unmarshal(body, &in); err != nil {
		var te *json.UnmarshalTypeError
		if !errors.As(err, &te) {
			return problem(c, executionID, http.StatusBadRequest, "malformed JSON", nil)
		}
		errs = append(errs, fieldError{"body." + te.Field, "expected " + jsonKind(te.Type.String())})
	}
	if in.Name == nil {
		errs = append(errs, fieldError{"body.name", "required"})
	}
	if in.Count == nil {
		errs = append(errs, fieldError{"body.count", "required"})
	}
	if in.Tags == nil {
		errs = append(errs, fieldError{"body.tags", "required"})
	}
	if in.Meta == nil {
		errs = append(errs, fieldError{"body.meta", "required"})
	}
	var dryRun bool
	if s := c.QueryParam("dry_run"); s != "" {
		if dryRun, err = strconv.ParseBool(s); err != nil {
			errs = append(errs, fieldError{"query.dry_run", "expected boolean"})
		}
	}
	if len(errs) > 0 {
		detail := errs[0].Location + ": " + errs[0].Message
		if len(errs) > 1 {
			detail += " (and " + strconv.Itoa(len(errs)-1) + " more)"
		}
		return problem(c, executionID, http.StatusBadRequest, detail, errs)
	}
	ctx, cancel := context.WithTimeout(req.Context(), 60*time.Second)
	defer cancel()
	out, err := CreateItem(ctx, Item{Name: *in.Name, Count: *in.Count, Tags: in.Tags, Meta: in.Meta}, dryRun)
	if err != nil {
		return problem(c, executionID, http.StatusInternalServerError, "the workflow failed", nil)
	}
	return c.JSON(http.StatusOK, out)
}

type fieldError struct {
	Location string `json:"location"`
	Message  string `json:"message"`
}

func jsonKind(goType string) string {
	switch goType {
	case "string":
		return "string"
	case "int":
		return "integer"
	case "[]string":
		return "array"
	}
	return "object"
}

func problem(c echo.Context, executionID string, status int, detail string, errs []fieldError) error {
	c.Response().Header().Set("Content-Type", "application/problem+json")
	c.Response().WriteHeader(status)
	return json.NewEncoder(c.Response()).Encode(struct {
		Type        string       `json:"type"`
		Title       string       `json:"title"`
		Status      int          `json:"status"`
		Detail      string       `json:"detail,omitempty"`
		Instance    string       `json:"instance"`
		ExecutionID string       `json:"execution_id"`
		Errors      []fieldError `json:"errors,omitempty"`
	}{"about:blank", http.StatusText(status), status, detail, c.Request().URL.Path, executionID, errs})
}
