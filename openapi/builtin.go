package openapi

// The parts of the document that are the same for every set of workflows:
// the problem and execution schemas, the shared responses, the security
// schemes, and the executions API (SPEC §4).

const (
	schemaRef = "#/components/schemas/"

	// ProblemMediaType is the media type of every error answer (RFC 9457).
	ProblemMediaType = "application/problem+json"
	// ExecutionIDHeader is on every answer once an execution exists.
	ExecutionIDHeader = "X-Bifrost-Execution-Id"

	executionsTag = "executions"
)

// builtinSchemas are the components the builder itself defines; a Go type
// of the same name is qualified by its package.
func builtinSchemas() map[string]*Object {
	ref := func(name string) *Object { return NewObject("$ref", schemaRef+name) }
	str := func(description string) *Object { return NewObject("type", "string", "description", description) }
	nullable := func(typ, format, description string) *Object {
		o := NewObject("type", []any{typ, "null"})
		if format != "" {
			o.Set("format", format)
		}
		return o.Set("description", description)
	}
	return map[string]*Object{
		"Problem": NewObject(
			"type", "object",
			"description", "An error answer (RFC 9457 problem details).",
			"properties", NewObject(
				"type", NewObject("type", "string", "description", "A URI naming the kind of problem; about:blank when the status says it all.", "examples", []any{"about:blank"}),
				"title", NewObject("type", "string", "description", "The status text.", "examples", []any{"Bad Request"}),
				"status", NewObject("type", "integer", "format", "int32", "minimum", 400, "maximum", 599, "description", "The HTTP status.", "examples", []any{400}),
				"detail", str("What went wrong, for a person to read."),
				"instance", str("The path of the request."),
				"execution_id", str("The execution the answer belongs to, once one exists."),
				"errors", NewObject("type", "array", "items", ref("FieldError"), "description", "Every invalid input of the request, each located."),
			),
			"required", []any{"type", "title", "status"},
		),
		"FieldError": NewObject(
			"type", "object",
			"description", "One invalid input.",
			"properties", NewObject(
				"location", NewObject("type", "string", "description", "Where the input is: body.items[2].name, query.limit, header.X-Tenant.", "examples", []any{"body.items[2].name"}),
				"message", NewObject("type", "string", "description", "What is wrong with it.", "examples", []any{"required"}),
			),
			"required", []any{"location", "message"},
		),
		"Accepted": NewObject(
			"type", "object",
			"description", "The answer to a call of an async workflow: the execution runs in the background.",
			"properties", NewObject(
				"execution_id", NewObject("type", "string", "description", "The id of the execution.", "examples", []any{"0190a0b2-7c1e-7d3a-9f00-1b2c3d4e5f60"}),
				"status", ref("ExecutionStatus"),
				"status_url", NewObject("type", "string", "description", "Where to read the execution: GET it, with ?wait=30s to wait for its end.", "examples", []any{"/api/executions/0190a0b2-7c1e-7d3a-9f00-1b2c3d4e5f60"}),
			),
			"required", []any{"execution_id", "status", "status_url"},
		),
		"ExecutionStatus": NewObject(
			"type", "string",
			"description", "Where an execution is: pending and running ones have not ended.",
			"enum", []any{"pending", "running", "succeeded", "failed", "timed_out", "cancelled"},
		),
		"Execution": NewObject(
			"type", "object",
			"description", "One run of a workflow: its input, status, result or error, and logs.",
			"properties", NewObject(
				"id", str("The execution id (a UUIDv7)."),
				"workflow", str("The workflow's name."),
				"mode", NewObject("type", "string", "enum", []any{"sync", "async"}, "description", "How the workflow ran: in the request, or in the background."),
				"status", ref("ExecutionStatus"),
				"attempt", NewObject("type", "integer", "format", "int32", "minimum", 0, "description", "1 on the first run, one more on each retry or re-run after a crash."),
				"input", NewObject("description", "The decoded inputs, as JSON."),
				"result", NewObject("description", "The result, as JSON; null until the execution succeeds."),
				"error", nullable("string", "", "Why the execution failed; null unless it did."),
				"logs", NewObject("type", "array", "items", ref("ExecutionLog"), "description", "What the workflow logged with bifrost.Logger (capped)."),
				"created_at", NewObject("type", "string", "format", "date-time", "description", "When the execution was created (UTC)."),
				"started_at", nullable("string", "date-time", "When it started running; null before."),
				"finished_at", nullable("string", "date-time", "When it ended; null before."),
				"duration_ms", nullable("integer", "int64", "How long it ran, in milliseconds; null until it ends."),
			),
			"required", []any{"id", "workflow", "mode", "status", "attempt", "input", "result", "error", "logs", "created_at", "started_at", "finished_at", "duration_ms"},
		),
		"ExecutionLog": NewObject(
			"type", "object",
			"description", "One line the workflow logged.",
			"properties", NewObject(
				"time", NewObject("type", "string", "format", "date-time"),
				"level", NewObject("type", "string", "examples", []any{"INFO"}),
				"message", NewObject("type", "string"),
				"attrs", NewObject("type", "object", "additionalProperties", &Object{}, "description", "The attributes logged with the message."),
			),
			"required", []any{"time", "level", "message"},
		),
		"ExecutionList": NewObject(
			"type", "object",
			"description", "A page of executions, newest first.",
			"properties", NewObject(
				"executions", NewObject("type", "array", "items", ref("Execution")),
				"next_cursor", str("The cursor of the next page; absent on the last one."),
			),
			"required", []any{"executions"},
		),
	}
}

// problemResponse is a shared response whose body is a problem.
func problemResponse(description string, headers ...any) *Object {
	h := NewObject(ExecutionIDHeader, NewObject("$ref", "#/components/headers/ExecutionId"))
	for i := 0; i+1 < len(headers); i += 2 {
		h.Set(headers[i].(string), headers[i+1])
	}
	return NewObject(
		"description", description,
		"headers", h,
		"content", NewObject(ProblemMediaType, NewObject("schema", NewObject("$ref", schemaRef+"Problem"))),
	)
}

// builtinResponses are the shared responses, by component name.
func builtinResponses() map[string]*Object {
	return map[string]*Object{
		"Accepted": NewObject(
			"description", "Accepted: the execution runs in the background; read it at status_url.",
			"headers", NewObject(
				"Location", NewObject("description", "The execution's URL.", "schema", NewObject("type", "string")),
				ExecutionIDHeader, NewObject("$ref", "#/components/headers/ExecutionId"),
			),
			"content", NewObject("application/json", NewObject("schema", NewObject("$ref", schemaRef+"Accepted"))),
		),
		"BadRequest": problemResponse("An input is invalid or missing: each one is named in errors."),
		"Unauthorized": problemResponse("No valid credential, or a bad, missing or stale signature.",
			"WWW-Authenticate", NewObject("description", `Bearer realm="bifrost"`, "schema", NewObject("type", "string"))),
		"Forbidden":            problemResponse("The credential may not call this workflow."),
		"NotFound":             problemResponse("No execution has this id, or the credential may not see it."),
		"ContentTooLarge":      problemResponse("The body is larger than the server's limit (10 MiB by default)."),
		"UnsupportedMediaType": problemResponse("The body is neither JSON nor a form."),
		"TooManyRequests": problemResponse("Over the workflow's rate limit.",
			"Retry-After", NewObject("description", "Seconds until a call is allowed again.", "schema", NewObject("type", "integer"))),
		"InternalServerError": problemResponse("The workflow failed; the execution record has the details."),
		"ServiceUnavailable":  problemResponse("The store did not answer."),
		"GatewayTimeout":      problemResponse("The workflow did not finish within its timeout."),
		"Error":               problemResponse("An error the workflow answered with (bifrost.Errorf)."),
	}
}

// builtinOther are the other shared components: parameters, headers and
// security schemes.
func builtinParameters() *Object {
	return NewObject(
		"IdempotencyKey", NewObject(
			"name", "Idempotency-Key",
			"in", "header",
			"description", "A call with the key of an earlier call (same workflow and credential, within 24 hours) answers with the first execution instead of starting another.",
			"schema", NewObject("type", "string", "maxLength", 255),
		),
		"ExecutionIdPath", NewObject(
			"name", "id",
			"in", "path",
			"required", true,
			"description", "The execution id.",
			"schema", NewObject("type", "string"),
		),
	)
}

func builtinHeaders() *Object {
	return NewObject(ExecutionIDHeaderComponent, NewObject(
		"description", "The id of the execution this answer belongs to.",
		"schema", NewObject("type", "string"),
	))
}

// ExecutionIDHeaderComponent is the name of the header component.
const ExecutionIDHeaderComponent = "ExecutionId"

func securitySchemes() *Object {
	return NewObject(
		"bearerAuth", NewObject(
			"type", "http",
			"scheme", "bearer",
			"description", "Authorization: Bearer with an API key (bf_<id>_<secret>) or a session token (JWT).",
		),
		"apiKeyAuth", NewObject(
			"type", "apiKey",
			"in", "header",
			"name", "X-Bifrost-Key",
			"description", "An API key (bf_<id>_<secret>).",
		),
	)
}

// executionPaths are the operations of the executions API. With
// anyPublic, reading an execution needs no credential (its workflow may be
// public: then its id is enough).
func executionPaths(anyPublic bool) map[string]*Object {
	ok := func(description, schema string) *Object {
		return NewObject(
			"description", description,
			"headers", NewObject(ExecutionIDHeader, NewObject("$ref", "#/components/headers/ExecutionId")),
			"content", NewObject("application/json", NewObject("schema", NewObject("$ref", schemaRef+schema))),
		)
	}
	problems := func(r *Object, names ...string) *Object {
		codes := map[string]string{"BadRequest": "400", "Unauthorized": "401", "Forbidden": "403", "NotFound": "404", "ServiceUnavailable": "503"}
		for _, name := range names {
			r.Set(codes[name], NewObject("$ref", "#/components/responses/"+name))
		}
		return r
	}
	idParam := NewObject("$ref", "#/components/parameters/ExecutionIdPath")
	tags := []any{executionsTag}
	return map[string]*Object{
		"/api/executions": NewObject("get", NewObject(
			"tags", tags,
			"summary", "List executions",
			"description", "Executions, newest first, a page at a time. Needs a global credential.",
			"operationId", "listExecutions",
			"security", authSecurity(false),
			"parameters", []any{
				NewObject("name", "workflow", "in", "query", "description", "Only the executions of this workflow.", "schema", NewObject("type", "string")),
				NewObject("name", "status", "in", "query", "description", "Only the executions with this status.", "schema", NewObject("$ref", schemaRef+"ExecutionStatus")),
				NewObject("name", "limit", "in", "query", "description", "The most executions to answer with.", "schema", NewObject("type", "integer", "minimum", 1, "maximum", 500, "default", 50)),
				NewObject("name", "cursor", "in", "query", "description", "The next_cursor of the previous page.", "schema", NewObject("type", "string")),
			},
			"responses", problems(NewObject("200", ok("A page of executions.", "ExecutionList")),
				"BadRequest", "Unauthorized", "Forbidden", "ServiceUnavailable"),
		)),
		"/api/executions/{id}": NewObject("get", NewObject(
			"tags", tags,
			"summary", "Get an execution",
			"description", "The execution, visible to the credentials that may call its workflow (to anyone holding the id of a public workflow's execution). With wait, the answer waits until the execution ends, at most 60 seconds.",
			"operationId", "getExecution",
			"security", authSecurity(anyPublic),
			"parameters", []any{
				idParam,
				NewObject("name", "wait", "in", "query", "description", "How long to wait for the execution to end: a duration such as 30s, or seconds; at most 60s.", "schema", NewObject("type", "string", "examples", []any{"30s"})),
			},
			"responses", problems(NewObject("200", ok("The execution.", "Execution")),
				"BadRequest", "Unauthorized", "NotFound", "ServiceUnavailable"),
		)),
		"/api/executions/{id}/cancel": NewObject("post", NewObject(
			"tags", tags,
			"summary", "Cancel an execution",
			"description", "A pending execution is cancelled at once; a running one is asked to stop (its context is cancelled) and ends as cancelled. An ended one stays as it is.",
			"operationId", "cancelExecution",
			"security", authSecurity(anyPublic),
			"parameters", []any{idParam},
			"responses", problems(NewObject("202", ok("The execution, as the cancellation left it.", "Execution")),
				"Unauthorized", "NotFound", "ServiceUnavailable"),
		)),
	}
}
