import AITBCWire
import HTTPTypes
import Hummingbird

/// The OpenAPI 3.1 description of every route: bodies, the error shape, the key schemes and the
/// rate-limit headers. A test checks it against the routes the router registers, both ways.
enum OpenAPIDocument {
    /// The path of a route of the router as this document names it. The router's trie knows one
    /// capture name per position (`{job_id}` under `/v1/miners/`, for the result and fail routes);
    /// the document gives each route its own.
    static func documentedPath(_ path: RouterPath, method: HTTPRequest.Method) -> String {
        let routed = path.description
        return method == .delete && routed == "/v1/miners/{job_id}" ? "/v1/miners/{miner_id}" : routed
    }

    // MARK: building blocks

    static func ref(_ name: String) -> JSONValue { ["$ref": .string("#/components/schemas/\(name)")] }
    static func nullable(_ type: String, format: String? = nil) -> JSONValue {
        var schema: [String: JSONValue] = ["type": [.string(type), "null"]]
        if let format { schema["format"] = .string(format) }
        return .object(schema)
    }
    static let string: JSONValue = ["type": "string"]
    static let integer: JSONValue = ["type": "integer"]
    static let number: JSONValue = ["type": "number"]
    static let boolean: JSONValue = ["type": "boolean"]
    static let dateTime: JSONValue = ["type": "string", "format": "date-time"]
    static let anyJSON: JSONValue = [:]
    static let jsonObject: JSONValue = ["type": "object", "additionalProperties": true]

    static func object(_ properties: [String: JSONValue], required: [String]) -> JSONValue {
        ["type": "object", "properties": .object(properties), "required": .array(required.map { .string($0) })]
    }

    static func page(of item: String) -> JSONValue {
        object(
            ["items": ["type": "array", "items": ref(item)], "next_cursor": nullable("string"), "has_more": boolean],
            required: ["items", "next_cursor", "has_more"])
    }

    static let rateLimitHeaders: JSONValue = [
        "X-RateLimit-Limit": ["$ref": "#/components/headers/X-RateLimit-Limit"],
        "X-RateLimit-Remaining": ["$ref": "#/components/headers/X-RateLimit-Remaining"],
        "X-RateLimit-Reset": ["$ref": "#/components/headers/X-RateLimit-Reset"],
        "RateLimit-Policy": ["$ref": "#/components/headers/RateLimit-Policy"],
        "RateLimit": ["$ref": "#/components/headers/RateLimit"],
        "X-Request-ID": ["$ref": "#/components/headers/X-Request-ID"],
    ]

    static func json(_ schema: JSONValue) -> JSONValue { ["application/json": ["schema": schema]] }

    /// One operation: summary, the success status and body, an optional request body and parameters.
    static func operation(
        _ summary: String, tag: String, status: String = "200", response: JSONValue?, body: JSONValue? = nil,
        bodyRequired: Bool = true, parameters: [JSONValue] = [], public isPublic: Bool = false, extra: [String: JSONValue] = [:]
    ) -> JSONValue {
        var success: [String: JSONValue] = ["description": .string(summary)]
        if let response { success["content"] = json(response) }
        if !isPublic { success["headers"] = rateLimitHeaders }
        var responses: [String: JSONValue] = [status: .object(success), "default": ["$ref": "#/components/responses/Error"]]
        for (key, value) in extra { responses[key] = value }
        var operation: [String: JSONValue] = [
            "summary": .string(summary), "tags": [.string(tag)], "responses": .object(responses),
        ]
        if let body {
            operation["requestBody"] = ["required": .bool(bodyRequired), "content": json(body)]
        }
        if !parameters.isEmpty { operation["parameters"] = .array(parameters) }
        if isPublic { operation["security"] = [] }
        return .object(operation)
    }

    static func pathParameter(_ name: String) -> JSONValue {
        ["name": .string(name), "in": "path", "required": true, "schema": ["type": "string", "maxLength": 64]]
    }
    static func query(_ name: String, _ schema: JSONValue, _ description: String) -> JSONValue {
        ["name": .string(name), "in": "query", "required": false, "schema": schema, "description": .string(description)]
    }
    static let pageParameters: [JSONValue] = [
        query("limit", ["type": "integer", "minimum": 1, "maximum": 100], "page size (default 20)"),
        query("cursor", string, "next_cursor of the previous page"),
    ]
    static let minerParameters: [JSONValue] = [
        query("miner_id", ["type": "string", "minLength": 1, "maxLength": 128], "the miner (else X-Miner-ID, else the key's latest)"),
    ]

    // MARK: the document

    static let document: JSONValue = [
        "openapi": "3.1.0",
        "info": [
            "title": "AITBC Coordinator API", "version": "1.0.0",
            "description": "Clients submit AI compute jobs; miners run them. Every /v1 call carries an API key; every response after authentication carries the rate-limit headers. Errors have one shape: {\"error\": {\"code\", \"message\", \"details\"}}.",
        ],
        "security": [["ApiKeyHeader": []], ["BearerKey": []], ["ApiKeyQuery": []]],
        "paths": merged(corePaths, featurePaths),
        "components": merged(components, [["schemas": mergedSchemas(coreSchemas, featureSchemas)]]),
    ]

    /// Each feature's paths, from its own `OpenAPIDocument+Feature.swift`.
    static let featurePaths: [JSONValue] = [usagePaths, quotasPaths, webhookPaths]
    /// Each feature's schemas, from its own `OpenAPIDocument+Feature.swift`.
    static let featureSchemas: [JSONValue] = [usageSchemas, quotasSchemas, allowListSchemas, webhookSchemas]

    static let corePaths: JSONValue = [
        "/health": ["get": operation("The process answers", tag: "health", response: ref("Health"), public: true)],
        "/ready": ["get": operation("Storage answers and no shutdown has begun", tag: "health", response: ref("Health"), public: true)],
        "/openapi.json": ["get": operation("This document", tag: "health", response: jsonObject, public: true)],
        "/docs": [
            "get": [
                "summary": "Readable documentation of this API", "tags": ["health"], "security": [],
                "responses": ["200": ["description": "HTML", "content": ["text/html": ["schema": string]]]],
            ]
        ],
        "/metrics": [
            "get": [
                "summary": "Prometheus metrics (operator keys)", "tags": ["operations"],
                "responses": [
                    "200": ["description": "Prometheus text format", "content": ["text/plain": ["schema": string]]],
                    "default": ["$ref": "#/components/responses/Error"],
                ],
            ]
        ],
        "/v1/me": ["get": operation("The calling key, its tenant, plan and limit state", tag: "identity", response: ref("Me"))],
        "/v1/api-keys": [
            "post": operation("Create a key; the secret is in api_key, shown once", tag: "api-keys", status: "201", response: ref("APIKey"), body: ref("CreateAPIKey")),
            "get": operation("List keys, newest first; never a secret", tag: "api-keys", response: page(of: "APIKey"), parameters: pageParameters),
        ],
        "/v1/api-keys/{key_id}": [
            "get": operation("One key", tag: "api-keys", response: ref("APIKey"), parameters: [pathParameter("key_id")]),
            "patch": operation(
                "Change name, scopes, expiry, limit or metadata, within the delegation rule", tag: "api-keys",
                response: ref("APIKey"), body: ref("UpdateAPIKey"), parameters: [pathParameter("key_id")]),
            "delete": operation("Revoke; effective before the response; idempotent", tag: "api-keys", response: ref("APIKey"), parameters: [pathParameter("key_id")]),
        ],
        "/v1/api-keys/{key_id}/regenerate": [
            "post": operation("New secret for the same key id; the old one works for the grace period", tag: "api-keys", response: ref("APIKey"), body: ref("Regenerate"), bodyRequired: false, parameters: [pathParameter("key_id")])
        ],
        "/v1/api-keys/{key_id}/usage": [
            "get": operation("Per-minute and per-hour counts over 24 hours, last use", tag: "api-keys", response: ref("KeyUsage"), parameters: [pathParameter("key_id")])
        ],
        "/v1/audit-events": [
            "get": operation("Key and tenant changes, newest first", tag: "api-keys", response: page(of: "AuditEvent"), parameters: pageParameters)
        ],
        "/v1/tenants": [
            "post": operation("Create a tenant and its first master key (operator)", tag: "tenants", status: "201", response: ref("Tenant"), body: ref("CreateTenant")),
            "get": operation("List tenants (operator)", tag: "tenants", response: page(of: "Tenant"), parameters: pageParameters),
        ],
        "/v1/tenants/{tenant_id}": [
            "get": operation("One tenant (operator)", tag: "tenants", response: ref("Tenant"), parameters: [pathParameter("tenant_id")]),
            "patch": operation("Change plan, name or custom limit; effective on the next request (operator)", tag: "tenants", response: ref("Tenant"), body: ref("UpdateTenant"), parameters: [pathParameter("tenant_id")]),
        ],
        "/v1/jobs": [
            "post": operation(
                "Submit a job", tag: "jobs", status: "201", response: ref("Job"), body: ref("SubmitJob"),
                parameters: [["name": "Idempotency-Key", "in": "header", "required": false, "schema": ["type": "string", "maxLength": 255]]],
                extra: ["200": ["description": "The original job of a repeated Idempotency-Key", "content": json(ref("Job")), "headers": rateLimitHeaders]]),
            "get": operation(
                "The tenant's jobs, newest first", tag: "jobs", response: page(of: "Job"),
                parameters: pageParameters + [
                    query("state", ["type": "string", "enum": ["QUEUED", "RUNNING", "COMPLETED", "FAILED", "CANCELED", "EXPIRED"]], "only jobs in this state"),
                    query("status", ["type": "string", "enum": ["QUEUED", "RUNNING", "COMPLETED", "FAILED", "CANCELED", "EXPIRED"]], "AITBC's name for state"),
                    query("offset", ["type": "integer", "minimum": 0, "maximum": 1_000_000], "AITBC's offset paging"),
                ]),
        ],
        "/v1/jobs/{job_id}": [
            "get": operation("One job", tag: "jobs", response: ref("Job"), parameters: [pathParameter("job_id")]),
            "delete": operation("Cancel a QUEUED or RUNNING job", tag: "jobs", response: ref("Job"), parameters: [pathParameter("job_id")]),
        ],
        "/v1/jobs/{job_id}/cancel": [
            "post": operation("Cancel a QUEUED or RUNNING job", tag: "jobs", response: ref("Job"), parameters: [pathParameter("job_id")])
        ],
        "/v1/jobs/{job_id}/result": [
            "get": operation("Result and receipt; 425 JOB_NOT_READY before", tag: "jobs", response: ref("JobResult"), parameters: [pathParameter("job_id")])
        ],
        "/v1/jobs/{job_id}/receipt": [
            "get": operation("The job's latest signed receipt (AITBC's format); 404 NOT_FOUND before it completes or fails", tag: "receipts", response: ref("Receipt"), parameters: [pathParameter("job_id")])
        ],
        "/v1/jobs/{job_id}/receipts": [
            "get": operation("Every signed receipt of the job", tag: "receipts", response: ref("ReceiptList"), parameters: [pathParameter("job_id")])
        ],
        "/v1/receipts/keys": [
            "get": operation("The Ed25519 public keys receipts verify with, past ones included (no key needed)", tag: "receipts", response: ref("ReceiptKeyList"), public: true)
        ],
        "/v1/admin/stats": [
            "get": operation("Queue depth, miners online, success rate, time to completion", tag: "jobs", response: ref("Stats"))
        ],
        "/v1/miners/register": [
            "post": operation("Register a miner and its capabilities", tag: "miners", response: ref("Miner"), body: ref("RegisterMiner"), bodyRequired: false, parameters: minerParameters)
        ],
        "/v1/miners/heartbeat": [
            "post": operation("Report liveness, in-flight count, status", tag: "miners", response: ref("Miner"), body: ref("Heartbeat"), bodyRequired: false, parameters: minerParameters)
        ],
        "/v1/miners/poll": [
            "post": operation(
                "Long-poll for a job: 200 with the job, or 204; 429 RATE_LIMIT_EXCEEDED (details.bound "
                    + "long_polls_per_key or long_polls_per_tenant) while the key or tenant has its most polls waiting", tag: "miners", response: ref("AssignedJob"), body: ref("Poll"),
                bodyRequired: false, parameters: minerParameters,
                extra: ["204": ["description": "No job within the wait", "headers": rateLimitHeaders]])
        ],
        "/v1/miners/drain": [
            "post": operation("Stop receiving new jobs", tag: "miners", response: ref("Miner"), parameters: minerParameters)
        ],
        "/v1/miners/{miner_id}": [
            "delete": operation(
                "Release a miner id (its key, or a master): running jobs go back to the queue; another key may register it",
                tag: "miners", response: ref("MinerReleased"), parameters: [pathParameter("miner_id")])
        ],
        "/v1/miners/{job_id}/result": [
            "post": operation("Complete a job assigned to this miner", tag: "miners", response: ref("Job"), body: ref("JobResultRequest"), parameters: [pathParameter("job_id")] + minerParameters)
        ],
        "/v1/miners/{job_id}/fail": [
            "post": operation("Fail a job assigned to this miner", tag: "miners", response: ref("Job"), body: ref("JobFailRequest"), bodyRequired: false, parameters: [pathParameter("job_id")] + minerParameters)
        ],
    ]

    static let components: JSONValue = [
        "securitySchemes": [
            "ApiKeyHeader": ["type": "apiKey", "in": "header", "name": "X-API-Key"],
            "ApiKeyQuery": ["type": "apiKey", "in": "query", "name": "api_key"],
            "BearerKey": ["type": "http", "scheme": "bearer"],
        ],
        "headers": [
            "X-RateLimit-Limit": ["description": "Requests per minute of the budget that applies", "schema": integer],
            "X-RateLimit-Remaining": ["description": "Requests that would be admitted right now", "schema": integer],
            "X-RateLimit-Reset": ["description": "Unix time (s) when the budget is full again", "schema": integer],
            "RateLimit-Policy": ["description": "The same budget as the IETF draft (draft-ietf-httpapi-ratelimit-headers) writes it: a list of policies, each a quoted name with its quota q per window w seconds, e.g. \"minute\";q=600;w=60", "schema": string],
            "RateLimit": ["description": "Each policy's state as the IETF draft writes it: remaining r and seconds t until it is full again, e.g. \"minute\";r=599;t=1", "schema": string],
            "X-Request-ID": ["description": "The request's id (the caller's when it sent one)", "schema": string],
        ],
        "responses": [
            "Error": [
                "description": "An error: 400 INVALID_REQUEST/AMBIGUOUS_CREDENTIALS, 401, 403, 404, 405, 409, 413, 425, 429 (with Retry-After), 503, 500",
                "content": ["application/json": ["schema": ["$ref": "#/components/schemas/Error"]]],
            ]
        ],
    ]

    static let coreSchemas: JSONValue = [
        "Error": object(
            ["error": object(["code": string, "message": string, "details": jsonObject], required: ["code", "message", "details"])],
            required: ["error"]),
        "Health": object(["status": string], required: ["status"]),
        "RateLimitState": object(["limit": integer, "remaining": integer, "reset": integer], required: ["limit", "remaining", "reset"]),
        "Me": object(
            ["key_id": string, "name": string, "role": string, "scopes": ["type": "array", "items": string], "tenant_id": string,
             "plan": string, "expires_at": nullable("string", format: "date-time"), "rate_limit": ref("RateLimitState")],
            required: ["key_id", "name", "role", "scopes", "tenant_id", "plan", "expires_at", "rate_limit"]),
        "APIKey": object(
            ["key_id": string, "tenant_id": string, "name": string, "role": string,
             "scopes": ["type": ["array", "null"], "items": string], "hint": string, "status": ["type": "string", "enum": ["active", "revoked", "expired"]],
             "created_at": dateTime, "expires_at": nullable("string", format: "date-time"), "revoked_at": nullable("string", format: "date-time"),
             "last_used_at": nullable("string", format: "date-time"), "last_used_from": nullable("string"),
             "rate_limit_per_minute": nullable("integer"), "previous_secret_valid_until": nullable("string", format: "date-time"),
             "metadata": jsonObject, "api_key": ["type": "string", "description": "The secret: only in the answer to create and regenerate"]],
            required: ["key_id", "tenant_id", "name", "role", "scopes", "hint", "status", "created_at", "expires_at", "revoked_at",
                       "last_used_at", "last_used_from", "rate_limit_per_minute", "previous_secret_valid_until", "metadata"]),
        "CreateAPIKey": object(
            ["name": ["type": "string", "minLength": 1, "maxLength": 200], "role": ["type": "string", "enum": ["client", "miner", "master", "operator"]],
             "scopes": ["type": "array", "items": string], "expires_at": dateTime, "rate_limit_per_minute": ["type": "integer", "minimum": 1, "maximum": 1_000_000],
             "metadata": jsonObject, "tenant_id": string],
            required: ["name", "role"]),
        "UpdateAPIKey": [
            "type": "object",
            "properties": [
                "name": ["type": "string", "minLength": 1, "maxLength": 200],
                "scopes": ["type": ["array", "null"], "items": string],
                "expires_at": nullable("string", format: "date-time"),
                "rate_limit_per_minute": ["type": ["integer", "null"], "minimum": 1, "maximum": 1_000_000],
                "metadata": jsonObject,
            ],
        ],
        "Regenerate": ["type": "object", "properties": ["grace_period_seconds": ["type": "integer", "minimum": 0, "maximum": 604_800]]],
        "UsageBucket": object(["start": dateTime, "admitted": integer, "rate_limited": integer, "errors": integer], required: ["start", "admitted", "rate_limited", "errors"]),
        "KeyUsage": object(
            ["key_id": string, "last_used_at": nullable("string", format: "date-time"), "last_used_from": nullable("string"),
             "totals": ref("UsageBucket"), "minutes": ["type": "array", "items": ref("UsageBucket")], "hours": ["type": "array", "items": ref("UsageBucket")]],
            required: ["key_id", "last_used_at", "last_used_from", "totals", "minutes", "hours"]),
        "AuditEvent": object(
            ["event_id": string, "type": string, "tenant_id": string, "actor_key_id": nullable("string"), "target_id": string,
             "created_at": dateTime, "data": jsonObject],
            required: ["event_id", "type", "tenant_id", "actor_key_id", "target_id", "created_at", "data"]),
        "Tenant": object(
            ["tenant_id": string, "name": string, "plan": string, "rate_limit_per_minute": integer,
             "custom_rate_limit_per_minute": nullable("integer"), "created_at": dateTime, "master_key": ref("APIKey")],
            required: ["tenant_id", "name", "plan", "rate_limit_per_minute", "custom_rate_limit_per_minute", "created_at"]),
        "CreateTenant": object(
            ["tenant_id": ["type": "string", "pattern": "^[a-z0-9_-]{1,64}$"], "name": ["type": "string", "minLength": 1, "maxLength": 200], "plan": string],
            required: ["name", "plan"]),
        "UpdateTenant": [
            "type": "object",
            "properties": ["plan": string, "name": ["type": "string", "minLength": 1, "maxLength": 200],
                           "rate_limit_per_minute": ["type": ["integer", "null"], "minimum": 1, "maximum": 100_000_000]],
        ],
        "SubmitJob": object(
            ["payload": anyJSON, "constraints": jsonObject, "ttl_seconds": ["type": "integer", "minimum": 1, "maximum": 604_800]],
            required: ["payload"]),
        "Job": object(
            ["job_id": string, "state": ["type": "string", "enum": ["QUEUED", "RUNNING", "COMPLETED", "FAILED", "CANCELED", "EXPIRED"]],
             "assigned_miner_id": nullable("string"), "requested_at": dateTime, "expires_at": dateTime, "error": nullable("string"),
             "error_code": nullable("string"), "ttl_seconds": integer, "started_at": nullable("string", format: "date-time"),
             "finished_at": nullable("string", format: "date-time")],
            required: ["job_id", "state", "assigned_miner_id", "requested_at", "expires_at", "error", "error_code", "ttl_seconds", "started_at", "finished_at"]),
        "JobResult": object(["result": anyJSON, "receipt": ref("Receipt")], required: ["result", "receipt"]),
        "Receipt": object(
            ["version": string, "receipt_id": string, "job_id": string, "provider": string, "client": string, "status": string, "units": number, "unit_type": anyJSON, "unit_price": number, "price": number, "started_at": integer, "completed_at": integer, "metadata": jsonObject,
             "signature": object(["alg": string, "key_id": string, "sig": string], required: ["alg", "key_id", "sig"])],
            required: ["version", "receipt_id", "job_id", "provider", "client", "status", "units", "unit_type", "unit_price", "price", "started_at", "completed_at", "metadata", "signature"]),
        "ReceiptList": object(["items": ["type": "array", "items": ref("Receipt")]], required: ["items"]),
        "ReceiptKeyList": object(["items": ["type": "array", "items": ref("ReceiptKey")]], required: ["items"]),
        "ReceiptKey": object(["key_id": string, "alg": string, "public_key": string, "created_at": dateTime, "current": boolean], required: ["key_id", "alg", "public_key", "created_at", "current"]),
        "RegisterMiner": [
            "type": "object",
            "properties": ["capabilities": jsonObject, "concurrency": ["type": "integer", "minimum": 1, "maximum": 1024], "region": string],
        ],
        "Heartbeat": ["type": "object", "properties": ["inflight": integer, "status": string, "metadata": jsonObject]],
        "Poll": ["type": "object", "properties": ["max_wait_seconds": ["type": "number", "minimum": 0, "maximum": 60]]],
        "AssignedJob": object(
            ["job_id": string, "payload": anyJSON, "constraints": jsonObject, "attempt": integer],
            required: ["job_id", "payload", "constraints", "attempt"]),
        "JobResultRequest": object(["result": anyJSON, "metrics": jsonObject, "attempt": integer], required: ["result"]),
        "JobFailRequest": ["type": "object", "properties": ["error_code": string, "error_message": string, "metrics": jsonObject, "attempt": integer]],
        "MinerReleased": object(
            ["miner_id": string, "released": ["type": "boolean"], "requeued_jobs": integer],
            required: ["miner_id", "released", "requeued_jobs"]),
        "Miner": object(
            ["miner_id": string, "status": ["type": "string", "enum": ["ONLINE", "DRAINING", "OFFLINE"]], "concurrency": integer,
             "region": nullable("string"), "running": integer, "capabilities": jsonObject, "registered_at": dateTime, "last_seen_at": dateTime],
            required: ["miner_id", "status", "concurrency", "running", "capabilities", "registered_at", "last_seen_at"]),
        "Stats": object(
            ["queue_depth": integer, "running": integer, "miners_online": integer,
             "jobs_by_state": ["type": "object", "additionalProperties": integer], "success_rate": nullable("number"),
             "average_seconds_to_completion": nullable("number")],
            required: ["queue_depth", "running", "miners_online", "jobs_by_state", "success_rate", "average_seconds_to_completion"]),
    ]
}
