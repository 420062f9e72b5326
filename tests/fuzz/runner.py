"""Schemathesis against one operation of a served OpenAPI document, with a fixed seed and budget.

Each operation gets ``examples`` schema-valid requests and as many schema-violating ones
(schemathesis' positive and negative generation), derandomized, without shrinking: the same
requests every run, in a time that does not grow when something fails. Every response is held
to the document: no 5xx, a documented status code, content type and headers, a body that
matches the response schema, and a 4xx for what the document says is invalid. Failures are
collected, not raised at the first, so the count is the count.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)


def budget(default: int) -> int:
    """Requests per operation and mode: ``default``, or ``$LEARNLOOP_FUZZ_SCALE`` times it."""
    return default * int(os.environ.get("LEARNLOOP_FUZZ_SCALE", "1"))


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


@dataclass
class Tally:
    """Requests sent and the failures they found, one line each (with a curl to replay it)."""

    cases: int = 0
    failures: list[str] = field(default_factory=list)

    def report(self, limit: int = 8) -> str:
        return "\n\n".join(self.failures[:limit])


def fuzz(
    operation,
    app,
    examples: int,
    prepare: Callable[[object, GenerationMode], None] | None = None,
) -> Tally:
    """Send ``examples`` positive and ``examples`` negative requests to ``operation``."""
    tally = Tally()
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        try:
            _send(operation, app, examples, mode, prepare, tally)
        except Unsatisfiable:  # nothing in the operation can be made invalid (no parameters)
            pass
    return tally


def _send(operation, app, examples, mode, prepare, tally: Tally) -> None:
    @settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(operation.as_strategy(generation_mode=mode))
    def send(case):
        if prepare is not None:
            prepare(case, mode)
        tally.cases += 1
        response = case.call(app=app)
        try:
            case.validate_response(response, checks=CHECKS)
        except BaseException as exc:  # a group of failures, or one
            for failure in getattr(exc, "exceptions", None) or [exc]:
                title = str(failure).strip().splitlines()[0]
                tally.failures.append(
                    f"{operation.label} [{mode.value}] {response.status_code}: {title}\n"
                    f"{str(failure)[:600]}\n{case.as_curl_command()[:1500]}"
                )

    send()
