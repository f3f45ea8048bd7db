// Uses the types openapi-typescript generates from the quickstart's document
// (schema.d.ts, written next to this file by consumers_test.go): tsc fails
// when a schema has the wrong shape. Values are the server's real answers.
import type { components, operations, paths } from "./schema";

type Schemas = components["schemas"];
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function assertType<T extends true>(): T | void {}

// json_response answers 200 with the JSONResult component.
type JSONResponse200 = operations["json_response"]["responses"][200]["content"]["application/json"];
assertType<Equal<JSONResponse200, Schemas["JSONResult"]>>();
const json: JSONResponse200 = { status: "success", data: { id: 123 } };
const id: number = json.data.id;
// @ts-expect-error data.id is an integer
const badJSON: Schemas["JSONResult"] = { status: "success", data: { id: "123" } };

// An async call answers 202 with an execution id, read at /api/executions/{id}.
type Accepted = paths["/api/endpoints/long_running_task"]["post"]["responses"][202]["content"]["application/json"];
assertType<Equal<Accepted, Schemas["Accepted"]>>();
const accepted: Accepted = {
  execution_id: "0190a0b2-7c1e-7d3a-9f00-1b2c3d4e5f60",
  status: "pending",
  status_url: "/api/executions/0190a0b2-7c1e-7d3a-9f00-1b2c3d4e5f60",
};
// @ts-expect-error status is the ExecutionStatus enum
const badAccepted: Accepted = { ...accepted, status: "queued" };
type GetExecution = operations["getExecution"];
const query: GetExecution["parameters"]["query"] = { wait: "30s" };
const path: GetExecution["parameters"]["path"] = { id: accepted.execution_id };
const execution: GetExecution["responses"][200]["content"]["application/json"] = {
  id: path.id,
  workflow: "long_running_task",
  mode: "async",
  trigger: "http",
  status: "succeeded",
  attempt: 1,
  input: { data: { a: 1 } },
  result: { done: true },
  error: null,
  logs: [{ time: "2026-01-01T00:00:00Z", level: "INFO", message: "processing", attrs: { keys: 1 } }],
  created_at: "2026-01-01T00:00:00Z",
  started_at: "2026-01-01T00:00:00Z",
  finished_at: "2026-01-01T00:00:00Z",
  duration_ms: 3,
};
const done: Schemas["ExecutionStatus"] = execution.status;
// @ts-expect-error result, error, started_at... are required (nullable, never absent)
const partial: Schemas["Execution"] = { id: "x", workflow: "w", mode: "sync", status: "pending", attempt: 0, input: null, logs: [], created_at: "" };

// A bad body answers 400 with a problem, every invalid input located.
type BadRequest = operations["slack_command"]["responses"][400]["content"]["application/problem+json"];
assertType<Equal<BadRequest, Schemas["Problem"]>>();
const problem: BadRequest = {
  type: "about:blank",
  title: "Bad Request",
  status: 400,
  detail: "body.command: required",
  instance: "/api/endpoints/slack_command",
  errors: [{ location: "body.command", message: "required" }],
};
const locations: string[] = (problem.errors ?? []).map((e) => e.location);
// @ts-expect-error a FieldError has a location
const badError: Schemas["FieldError"] = { message: "required" };

// slack_command's JSON body is the SlashCommand component; the form body has its fields.
type SlackBody = operations["slack_command"]["requestBody"]["content"];
const slack: SlackBody["application/json"] = { command: "/deploy", user_name: "ana" };
const form: SlackBody["application/x-www-form-urlencoded"] = { ...slack, text: "prod" };

export { id, done, query, locations, form, badJSON, badAccepted, partial, badError };
