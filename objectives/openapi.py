"""The OpenAPI 3 document of /api, built from the marshmallow schemas that validate requests."""

from __future__ import annotations

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from schemas import objectives as schemas

ROUTES = [
    ("/api/tokens", "post", "Sign in with store, email and password; returns a bearer token", None),
    ("/api/me", "get", "The signed-in account and its roles", None),
    ("/api/people", "get", "People visible to the account (self, reports; admins: all)", None),
    ("/api/people", "post", "Add a person (admins)", "Person"),
    ("/api/people/{person_id}", "get", "One person with identities", None),
    ("/api/people/{person_id}/manager", "put", "Set a person's manager (admins)", None),
    (
        "/api/people/{person_id}/record",
        "get",
        "Learner record: counts, weeks, recent, objectives",
        None,
    ),
    ("/api/cycles", "get", "Review cycles", None),
    ("/api/cycles", "post", "Create a review cycle (admins)", "Cycle"),
    ("/api/cycles/{cycle_id}/team", "get", "Progress of every visible report in a cycle", None),
    ("/api/reviews", "get", "Reviews visible to the account", None),
    ("/api/reviews", "post", "Open a review for a report (managers, admins)", "Review"),
    ("/api/reviews/{review_id}", "get", "A review with measured objectives and evidence", None),
    ("/api/reviews/{review_id}", "patch", "Status, comments, reviewers", "ReviewUpdate"),
    (
        "/api/reviews/{review_id}/objectives",
        "post",
        "Attach an objective (or from a template)",
        "Objective",
    ),
    ("/api/objectives/{objective_id}", "delete", "Remove an objective (managers, admins)", None),
    (
        "/api/objectives/{objective_id}/progress",
        "get",
        "Progress and evidence of one objective",
        None,
    ),
    ("/api/templates", "get", "Objective templates (managers, admins)", None),
    ("/api/templates", "post", "Create an objective template (managers, admins)", "Template"),
]


def document(base_url: str) -> dict:
    spec = APISpec(
        title="Learnloop objectives API",
        version="1.0.0",
        openapi_version="3.0.3",
        plugins=[MarshmallowPlugin()],
        servers=[{"url": base_url}],
        components={
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    )
    for name, schema in [
        ("Criterion", schemas.CriterionSchema),
        ("Person", schemas.PersonSchema),
        ("Cycle", schemas.CycleSchema),
        ("Review", schemas.ReviewSchema),
        ("ReviewUpdate", schemas.ReviewUpdateSchema),
        ("Objective", schemas.ObjectiveSchema),
        ("ObjectiveFromTemplate", schemas.ObjectiveFromTemplateSchema),
        ("Template", schemas.TemplateSchema),
    ]:
        spec.components.schema(name, schema=schema)
    error = {
        "description": "Error",
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "code": {"type": "string"},
                        "status": {"type": "integer"},
                        "message": {"type": "string"},
                        "errors": {"type": "array"},
                    },
                }
            }
        },
    }
    paths: dict[str, dict] = {}
    for path, method, summary, body in ROUTES:
        operation: dict = {
            "summary": summary,
            "responses": {
                "200": {"description": "OK"},
                "400": error,
                "401": error,
                "403": error,
                "404": error,
            },
        }
        if path != "/api/tokens":
            operation["security"] = [{"bearer": []}]
        if body:
            operation["requestBody"] = {
                "required": True,
                "content": {
                    "application/json": {"schema": {"$ref": f"#/components/schemas/{body}"}}
                },
            }
        params = [p.strip("{}") for p in path.split("/") if p.startswith("{")]
        if params:
            operation["parameters"] = [
                {"name": p, "in": "path", "required": True, "schema": {"type": "integer"}}
                for p in params
            ]
        paths.setdefault(path, {})[method] = operation
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    return spec.to_dict()
