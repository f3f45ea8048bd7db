package endpoint

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/bifrost-go/bifrost/examples/bench"
)

// Plain is the endpoint as most developers write it with echo: decode into
// pointer fields (to tell a missing member from a zero one), check the
// required members and the query parameter, call the function, answer JSON.
// No execution id, timeout or problem documents: the baseline users compare
// with.
func Plain(c echo.Context) error {
	var in struct {
		Name  *string        `json:"name"`
		Count *int           `json:"count"`
		Tags  []string       `json:"tags"`
		Meta  map[string]any `json:"meta"`
	}
	if err := json.NewDecoder(c.Request().Body).Decode(&in); err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "malformed JSON: "+err.Error())
	}
	switch {
	case in.Name == nil:
		return echo.NewHTTPError(http.StatusBadRequest, "name is required")
	case in.Count == nil:
		return echo.NewHTTPError(http.StatusBadRequest, "count is required")
	case in.Tags == nil:
		return echo.NewHTTPError(http.StatusBadRequest, "tags is required")
	case in.Meta == nil:
		return echo.NewHTTPError(http.StatusBadRequest, "meta is required")
	}
	var dryRun bool
	if s := c.QueryParam("dry_run"); s != "" {
		var err error
		if dryRun, err = strconv.ParseBool(s); err != nil {
			return echo.NewHTTPError(http.StatusBadRequest, "dry_run must be a boolean")
		}
	}
	out, err := bench.CreateItem(c.Request().Context(), bench.Item{Name: *in.Name, Count: *in.Count, Tags: in.Tags, Meta: in.Meta}, dryRun)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}
