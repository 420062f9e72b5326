"""The contract every connector keeps (STYLE habit 14): one base class, run by each connector.

``ConnectorContractTests`` covers what every source of statements promises: valid xAPI 2.0,
deterministic ids, pure mapping, only its profile's vocabulary. ``WebhookContractTests`` adds
what every webhook receiver promises: verify before parse, reject what cannot be verified,
malformed payloads as 400 with a path, ignored events with a note.
"""

import copy
import uuid

import pytest

from connectors import profile as p
from connectors.common import NAMESPACE, Mapped, WebhookRequest
from connectors.errors import MalformedPayload, SignatureInvalid
from schemas.xapi import StatementValidationError, validate_statements

SECRET = "It's a Secret to Everybody"
ALLOWED_EXTRA_TYPES = frozenset()  # activity types outside the profiles: none


class ConnectorContractTests:
    """Subclasses set ``source``, ``profile`` and implement ``cases`` and ``map_case``."""

    source: str
    profile: str = "code-review"

    def cases(self) -> dict[str, object]:
        """Every recorded input, by name."""
        raise NotImplementedError

    def map_case(self, case: object, key: str = "delivery-1") -> list[dict]:
        """The statements of one input (``key`` is the delivery or row identity)."""
        raise NotImplementedError

    def producing_cases(self) -> dict[str, object]:
        mapped = {name: case for name, case in self.cases().items() if self.map_case(case)}
        assert mapped, "a connector's fixtures must include events that produce statements"
        return mapped

    def test_contract_every_statement_is_valid_xapi_2(self):
        for name, case in self.producing_cases().items():
            statements = self.map_case(case)
            try:
                validate_statements(copy.deepcopy(statements), "2.0.0")
            except StatementValidationError as exc:
                pytest.fail(f"{name}: {exc}")

    def test_contract_mapping_is_pure_and_deterministic(self):
        for case in self.cases().values():
            before = copy.deepcopy(case)
            assert self.map_case(case) == self.map_case(case)
            assert case == before

    def test_contract_ids_are_uuid5_of_source_key_and_position(self):
        for case in self.producing_cases().values():
            statements = self.map_case(case, key="k-1")
            ids = [s["id"] for s in statements]
            assert len(set(ids)) == len(ids)
            for statement in statements:
                assert uuid.UUID(statement["id"]).version == 5

    def test_contract_another_key_gives_other_ids(self):
        for case in self.producing_cases().values():
            first = {s["id"] for s in self.map_case(case, key="k-1")}
            second = {s["id"] for s in self.map_case(case, key="k-2")}
            assert not first & second

    def test_contract_statements_use_only_the_profile_vocabulary(self):
        verbs, types = p.vocabulary(self.profile)
        for name, case in self.producing_cases().items():
            for statement in self.map_case(case):
                assert statement["verb"]["id"] in verbs, name
                for activity in activities_of(statement):
                    kind = activity.get("definition", {}).get("type")
                    if activity["id"] != profile_version(self.profile):
                        assert kind is None or kind in types | ALLOWED_EXTRA_TYPES, (name, kind)
                assert activity_type(statement["object"]) in types, name

    def test_contract_extensions_are_concepts_of_the_profile(self):
        concepts = p.profile_document(self.profile)["concepts"]
        extensions = {c["id"] for c in concepts if c["type"].endswith("Extension")}
        for case in self.producing_cases().values():
            for statement in self.map_case(case):
                used = set(statement.get("result", {}).get("extensions", {}))
                used |= set(statement["context"].get("extensions", {}))
                assert used <= extensions, used - extensions

    def test_contract_statements_name_the_profile_version_as_category(self):
        for case in self.producing_cases().values():
            for statement in self.map_case(case):
                categories = statement["context"]["contextActivities"]["category"]
                assert {"objectType": "Activity", "id": profile_version(self.profile)} in categories


def profile_version(name: str) -> str:
    return {"code-review": p.CODE_REVIEW_V1, "micro-learning": p.MICRO_LEARNING_V1}[name]


def activity_type(activity: dict) -> str | None:
    return activity.get("definition", {}).get("type")


def activities_of(statement: dict) -> list[dict]:
    """The object (when an Activity) and every context activity of a statement."""
    is_activity = statement["object"].get("objectType", "Activity") == "Activity"
    found = [statement["object"]] if is_activity else []
    for group in statement.get("context", {}).get("contextActivities", {}).values():
        found.extend(group if isinstance(group, list) else [group])
    return found


class WebhookContractTests(ConnectorContractTests):
    """Subclasses also set ``module`` and implement ``request`` and ``required_path``.

    ``request(name, body=None, secret=SECRET, delivery="delivery-1")`` is the signed request
    for fixture ``name`` (with ``body`` replacing its bytes when given); ``required_path`` is
    a fixture name and the dotted payload path of its actor, which the mapping requires.
    """

    module: object
    required_path: tuple[str, str]

    def request(self, name, body=None, secret=SECRET, delivery="delivery-1") -> WebhookRequest:
        raise NotImplementedError

    def unsigned(self, request: WebhookRequest) -> WebhookRequest:
        """The request without its signature or token."""
        raise NotImplementedError

    def verify(self, request: WebhookRequest, secret: str = SECRET) -> None:
        self.module.verify(request, secret)

    def cases(self):
        return {name: self.request(name) for name in self.fixture_names()}

    def fixture_names(self) -> list[str]:
        raise NotImplementedError

    def map_case(self, case, key="delivery-1"):
        event = self.module.parse(case)
        event = type(event)(event.source, event.name, key, event.payload)
        mapped = self.module.map_event(event)
        assert isinstance(mapped, Mapped)
        return mapped.statements

    def test_contract_signed_requests_verify(self):
        for request in self.cases().values():
            self.verify(request)

    def test_contract_a_tampered_body_is_rejected(self):
        name = next(iter(self.producing_cases()))
        signed = self.request(name)
        tampered = WebhookRequest.of(
            signed.headers, signed.body.replace(b"}", b" }", 1), signed.query, signed.received_at
        )
        if tampered.body != signed.body and self.signs_body:
            with pytest.raises(SignatureInvalid):
                self.verify(tampered)

    signs_body = True

    def test_contract_a_wrong_secret_is_rejected(self):
        name = next(iter(self.producing_cases()))
        with pytest.raises(SignatureInvalid):
            self.verify(self.request(name, secret="not the secret"))

    def test_contract_a_request_without_signature_is_rejected(self):
        name = next(iter(self.producing_cases()))
        with pytest.raises(SignatureInvalid) as raised:
            self.verify(self.unsigned(self.request(name)))
        assert raised.value.status == 401 and raised.value.message

    def test_contract_a_body_that_is_not_a_json_object_is_malformed(self):
        name = next(iter(self.producing_cases()))
        for body in (b"", b"not json", b"[1, 2]", b"\xff\xfe"):
            request = self.request(name, body=body)
            self.verify(request)
            with pytest.raises(MalformedPayload) as raised:
                self.module.parse(request)
            assert raised.value.status == 400 and raised.value.message

    def test_contract_a_missing_actor_is_malformed_with_its_path(self):
        name, path = self.required_path
        request = self.request(name)
        event = self.module.parse(request)
        payload = copy.deepcopy(event.payload)
        *parents, last = path.split(".")
        target = payload
        for part in parents:
            target = target[part]
        del target[last]
        broken = type(event)(event.source, event.name, event.delivery_id, payload)
        with pytest.raises(MalformedPayload) as raised:
            self.module.map_event(broken)
        assert raised.value.errors[0].path == path

    def test_contract_ignored_events_store_nothing_and_say_why(self):
        ignored = [n for n, c in self.cases().items() if not self.map_case(c)]
        assert ignored, "a connector's fixtures must include an event it ignores"
        for name in ignored:
            mapped = self.module.map_event(self.module.parse(self.request(name)))
            assert mapped.statements == [] and mapped.note, name

    def test_contract_statement_ids_follow_the_documented_formula(self):
        name = next(iter(self.producing_cases()))
        statements = self.map_case(self.request(name), key="abc")
        for n, statement in enumerate(statements):
            assert statement["id"] == str(uuid.uuid5(NAMESPACE, f"{self.source}:abc:{n}"))
