package openapi

import "maps"

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

// typed is {type: name}.
func typed(name string) *Schema { return &Schema{Type: Type(name)} }

// ref is a reference to a component schema.
func ref(name string) *Schema { return &Schema{Ref: schemaRef + name} }

// str is a described string.
func str(description string) *Schema { return &Schema{Type: Type("string"), Description: description} }

// orNull is a described type [typ, "null"].
func orNull(typ, format, description string) *Schema {
	return &Schema{Type: Types{typ, "null"}, Format: format, Description: description}
}

// object is {type: object} with properties, the required ones named.
func object(description string, required []string, props Members[*Schema]) *Schema {
	return &Schema{Type: Type("object"), Description: description, Properties: props, Required: required}
}

// builtinSchemas are the components the builder itself defines; a Go type
// of the same name is qualified by its package.
func builtinSchemas() map[string]*Schema {
	out := problemSchemas()
	maps.Copy(out, executionSchemas())
	return out
}

// problemSchemas describe the answers that are not a workflow's result.
func problemSchemas() map[string]*Schema {
	example := func(s *Schema, v any) *Schema { s.Examples = []any{v}; return s }
	return map[string]*Schema{
		"Problem": object("An error answer (RFC 9457 problem details).", []string{"type", "title", "status"}, Members[*Schema]{
			{"type", example(str("A URI naming the kind of problem; about:blank when the status says it all."), "about:blank")},
			{"title", example(str("The status text."), "Bad Request")},
			{"status", &Schema{Type: Type("integer"), Format: "int32", Minimum: "400", Maximum: "599",
				Description: "The HTTP status.", Examples: []any{400}}},
			{"detail", str("What went wrong, for a person to read.")},
			{"instance", str("The path of the request.")},
			{"execution_id", str("The execution the answer belongs to, once one exists.")},
			{"errors", &Schema{Type: Type("array"), Items: ref("FieldError"), Description: "Every invalid input of the request, each located."}},
		}),
		"FieldError": object("One invalid input.", []string{"location", "message"}, Members[*Schema]{
			{"location", example(str("Where the input is: body.items[2].name, query.limit, header.X-Tenant."), "body.items[2].name")},
			{"message", example(str("What is wrong with it."), "required")},
		}),
		"Accepted": object("The answer to a call of an async workflow: the execution runs in the background.",
			[]string{"execution_id", "status", "status_url"}, Members[*Schema]{
				{"execution_id", example(str("The id of the execution."), "0190a0b2-7c1e-7d3a-9f00-1b2c3d4e5f60")},
				{"status", ref("ExecutionStatus")},
				{"status_url", example(str("Where to read the execution: GET it, with ?wait=30s to wait for its end."), "/api/executions/0190a0b2-7c1e-7d3a-9f00-1b2c3d4e5f60")},
			}),
	}
}

// executionSchemas describe executions, as the executions API answers them.
func executionSchemas() map[string]*Schema {
	return map[string]*Schema{
		"ExecutionStatus": {
			Type:        Type("string"),
			Enum:        []any{"pending", "running", "succeeded", "failed", "timed_out", "cancelled"},
			Description: "Where an execution is: pending and running ones have not ended.",
		},
		"Execution": object("One run of a workflow: its input, status, result or error, and logs.",
			[]string{"id", "workflow", "mode", "trigger", "status", "attempt", "input", "result", "error", "logs", "created_at", "started_at", "finished_at", "duration_ms"},
			Members[*Schema]{
				{"id", str("The execution id (a UUIDv7).")},
				{"workflow", str("The workflow's name.")},
				{"mode", &Schema{Type: Type("string"), Enum: []any{"sync", "async"}, Description: "How the workflow ran: in the request, or in the background."}},
				{"trigger", &Schema{Type: Type("string"), Enum: []any{"http", "replay", "schedule", "enqueue"}, Description: "What started it: a request to the endpoint, a replay of another execution, the workflow's schedule, or a Start call from Go code."}},
				{"replay_of", str("For a replay, the id of the execution it repeats; absent otherwise.")},
				{"replays", &Schema{Type: Type("array"), Items: typed("string"), Description: "The ids of its replays, newest first (at most 100); absent when it has none. Only with a credential."}},
				{"trace_id", str("The OpenTelemetry trace id of the request that started it, when tracing is on; absent otherwise.")},
				{"status", ref("ExecutionStatus")},
				{"attempt", &Schema{Type: Type("integer"), Format: "int32", Minimum: "0", Description: "1 on the first run, one more on each retry or re-run after a crash."}},
				{"input", &Schema{Description: "The decoded inputs, as JSON."}},
				{"result", &Schema{Description: "The result, as JSON; null until the execution succeeds."}},
				{"error", orNull("string", "", "Why the execution failed; null unless it did.")},
				{"logs", &Schema{Type: Type("array"), Items: ref("ExecutionLog"), Description: "What the workflow logged with bifrost.Logger (capped)."}},
				{"steps", &Schema{Type: Type("array"), Items: ref("ExecutionStep"), Description: "The durable steps (bifrost.Step) in the order they started, in GET /api/executions/{id} only; absent when there are none or the caller may not see the logs."}},
				{"created_at", &Schema{Type: Type("string"), Format: "date-time", Description: "When the execution was created (UTC)."}},
				{"started_at", orNull("string", "date-time", "When it started running; null before.")},
				{"finished_at", orNull("string", "date-time", "When it ended; null before.")},
				{"duration_ms", orNull("integer", "int64", "How long it ran, in milliseconds; null until it ends.")},
			}),
		"ExecutionLog": object("One line the workflow logged.", []string{"time", "level", "message"}, Members[*Schema]{
			{"time", &Schema{Type: Type("string"), Format: "date-time"}},
			{"level", &Schema{Type: Type("string"), Examples: []any{"INFO"}}},
			{"message", typed("string")},
			{"attrs", &Schema{Type: Type("object"), AdditionalProperties: &Schema{}, Description: "The attributes logged with the message."}},
		}),
		"ExecutionStep": object("One durable step of the execution: the last attempt that ran it. A step that succeeded is not run again by a later attempt.",
			[]string{"name", "status", "attempt", "started_at", "ended_at", "duration_ms"}, Members[*Schema]{
				{"name", str("The step's name, unique within the execution.")},
				// No enum: client generators would give its constants the
				// names of ExecutionStatus's (oapi-codegen then renames both).
				{"status", &Schema{Type: Type("string"), Examples: []any{"succeeded"}, Description: "succeeded or failed."}},
				{"attempt", &Schema{Type: Type("integer"), Format: "int32", Minimum: "1", Description: "The attempt of the execution that ran it."}},
				{"started_at", &Schema{Type: Type("string"), Format: "date-time"}},
				{"ended_at", &Schema{Type: Type("string"), Format: "date-time"}},
				{"duration_ms", &Schema{Type: Type("integer"), Format: "int64"}},
				{"error", str("Why the step failed; absent unless it did.")},
			}),
		"ExecutionList": object("A page of executions, newest first.", []string{"executions"}, Members[*Schema]{
			{"executions", &Schema{Type: Type("array"), Items: ref("Execution")}},
			{"next_cursor", str("The cursor of the next page; absent on the last one.")},
		}),
	}
}

// executionIDHeader is a reference to the X-Bifrost-Execution-Id header.
func executionIDHeader() *Header {
	return &Header{Ref: "#/components/headers/" + ExecutionIDHeaderComponent}
}

// problemResponse is a shared response whose body is a problem.
func problemResponse(description string, headers ...Member[*Header]) *Response {
	return &Response{
		Description: description,
		Headers:     append(Members[*Header]{{ExecutionIDHeader, executionIDHeader()}}, headers...),
		Content:     map[string]*MediaType{ProblemMediaType: {Schema: ref("Problem")}},
	}
}

// builtinResponses are the shared responses, by component name.
func builtinResponses() map[string]*Response {
	described := func(description, typ string) *Header {
		return &Header{Description: description, Schema: typed(typ)}
	}
	return map[string]*Response{
		"Accepted": {
			Description: "Accepted: the execution runs in the background; read it at status_url.",
			Headers: Members[*Header]{
				{"Location", described("The execution's URL.", "string")},
				{ExecutionIDHeader, executionIDHeader()},
			},
			Content: map[string]*MediaType{"application/json": {Schema: ref("Accepted")}},
		},
		"BadRequest": problemResponse("An input is invalid or missing: each one is named in errors."),
		"Unauthorized": problemResponse("No valid credential, or a bad, missing or stale signature.",
			Member[*Header]{"WWW-Authenticate", described(`Bearer realm="bifrost"`, "string")}),
		"Forbidden":            problemResponse("The credential may not call this workflow."),
		"NotFound":             problemResponse("No execution has this id, or the credential may not see it."),
		"ContentTooLarge":      problemResponse("The body is larger than the server's limit (10 MiB by default)."),
		"UnsupportedMediaType": problemResponse("The body is neither JSON nor a form."),
		"TooManyRequests": problemResponse("Over the workflow's rate limit.",
			Member[*Header]{"Retry-After", described("Seconds until a call is allowed again.", "integer")}),
		"InternalServerError": problemResponse("The workflow failed; the execution record has the details."),
		"ServiceUnavailable":  problemResponse("The store did not answer."),
		"GatewayTimeout":      problemResponse("The workflow did not finish within its timeout."),
		"Error":               problemResponse("An error the workflow answered with (bifrost.Errorf)."),
	}
}

// builtinParameters are the shared parameters.
func builtinParameters() Members[*Parameter] {
	return Members[*Parameter]{
		{"IdempotencyKey", &Parameter{
			Name:        "Idempotency-Key",
			In:          "header",
			Description: "A call with the key of an earlier call (same workflow and credential, within 24 hours) answers with the first execution instead of starting another.",
			Schema:      &Schema{Type: Type("string"), MaxLength: Ptr(255)},
		}},
		{"ExecutionIdPath", &Parameter{
			Name:        "id",
			In:          "path",
			Description: "The execution id.",
			Required:    true,
			Schema:      typed("string"),
		}},
	}
}

// builtinHeaders are the shared headers.
func builtinHeaders() Members[*Header] {
	return Members[*Header]{{ExecutionIDHeaderComponent, &Header{
		Description: "The id of the execution this answer belongs to.",
		Schema:      typed("string"),
	}}}
}

// ExecutionIDHeaderComponent is the name of the header component.
const ExecutionIDHeaderComponent = "ExecutionId"

func securitySchemes() Members[*SecurityScheme] {
	return Members[*SecurityScheme]{
		{"bearerAuth", &SecurityScheme{
			Type:        "http",
			Scheme:      "bearer",
			Description: "Authorization: Bearer with an API key (bf_<id>_<secret>) or a session token (JWT).",
		}},
		{"apiKeyAuth", &SecurityScheme{
			Type:        "apiKey",
			In:          "header",
			Name:        "X-Bifrost-Key",
			Description: "An API key (bf_<id>_<secret>).",
		}},
	}
}

// executionPaths are the operations of the executions API. With
// anyPublic, reading an execution needs no credential (its workflow may be
// public: then its id is enough).
func executionPaths(anyPublic bool) map[string]*PathItem {
	ok := func(code, description, schema string, problems ...string) map[string]*Response {
		out := map[string]*Response{code: {
			Description: description,
			Headers:     Members[*Header]{{ExecutionIDHeader, executionIDHeader()}},
			Content:     map[string]*MediaType{"application/json": {Schema: ref(schema)}},
		}}
		codes := map[string]string{"BadRequest": "400", "Unauthorized": "401", "Forbidden": "403", "NotFound": "404", "ServiceUnavailable": "503"}
		for _, name := range problems {
			out[codes[name]] = &Response{Ref: "#/components/responses/" + name}
		}
		return out
	}
	query := func(name, description string, schema *Schema) *Parameter {
		return &Parameter{Name: name, In: "query", Description: description, Schema: schema}
	}
	idParam := &Parameter{Ref: "#/components/parameters/ExecutionIdPath"}
	tags := []string{executionsTag}
	return map[string]*PathItem{
		"/api/executions": {Get: &Operation{
			Tags:        tags,
			Summary:     "List executions",
			Description: "Executions, newest first, a page at a time. Needs a global credential.",
			OperationID: "listExecutions",
			Security:    authSecurity(false),
			Parameters: []*Parameter{
				query("workflow", "Only the executions of this workflow.", typed("string")),
				query("status", "Only the executions with this status.", ref("ExecutionStatus")),
				query("limit", "The most executions to answer with.", &Schema{Type: Type("integer"), Minimum: "1", Maximum: "500", Default: 50}),
				query("cursor", "The next_cursor of the previous page.", typed("string")),
			},
			Responses: ok("200", "A page of executions.", "ExecutionList", "BadRequest", "Unauthorized", "Forbidden", "ServiceUnavailable"),
		}},
		"/api/executions/{id}": {Get: &Operation{
			Tags:        tags,
			Summary:     "Get an execution",
			Description: "The execution, visible to the credentials that may call its workflow (to anyone holding the id of a public workflow's execution). With wait, the answer waits until the execution ends, at most 60 seconds.",
			OperationID: "getExecution",
			Security:    authSecurity(anyPublic),
			Parameters: []*Parameter{
				idParam,
				query("wait", "How long to wait for the execution to end: a duration such as 30s, or seconds; at most 60s.",
					&Schema{Type: Type("string"), Examples: []any{"30s"}}),
			},
			Responses: ok("200", "The execution.", "Execution", "BadRequest", "Unauthorized", "NotFound", "ServiceUnavailable"),
		}},
		"/api/executions/{id}/cancel": {Post: &Operation{
			Tags:        tags,
			Summary:     "Cancel an execution",
			Description: "A pending execution is cancelled at once; a running one is asked to stop (its context is cancelled) and ends as cancelled. An ended one stays as it is.",
			OperationID: "cancelExecution",
			Security:    authSecurity(anyPublic),
			Parameters:  []*Parameter{idParam},
			Responses:   ok("202", "The execution, as the cancellation left it.", "Execution", "Unauthorized", "NotFound", "ServiceUnavailable"),
		}},
		"/api/executions/{id}/replay": {Post: &Operation{
			Tags:        tags,
			Summary:     "Replay an execution",
			Description: "Starts a new execution of the same workflow with the stored input, linked to this one (replay_of; this one lists it in replays). It runs in the background whatever the workflow's mode. Needs a credential that may call the workflow. Headers the record never keeps (Authorization, Cookie…) are not in the stored input; an input cut at the store limit cannot be replayed (409).",
			OperationID: "replayExecution",
			Security:    authSecurity(false),
			Parameters:  []*Parameter{idParam},
			Responses:   replayResponses(),
		}},
	}
}

// replayResponses are the answers of a replay: an async call's accept, or
// a problem.
func replayResponses() map[string]*Response {
	out := map[string]*Response{
		"202": {Ref: "#/components/responses/Accepted"},
		"409": problemResponse("The execution cannot be replayed: its stored input was cut at the store limit, or this binary has no such workflow."),
	}
	for code, name := range map[string]string{"401": "Unauthorized", "404": "NotFound", "503": "ServiceUnavailable"} {
		out[code] = &Response{Ref: "#/components/responses/" + name}
	}
	return out
}
