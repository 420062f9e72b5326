"""The LTI tool's per-app objects, built once in ``create_app`` (never at import time).

``runtime()`` gives the current app's ``LtiRuntime``: its settings, the platform HTTP client,
the key-set and token caches, the sealing key of the tool's private keys (``key_box()``), and
the extension points other packages register with:

* ``placement_providers``: what instructors can place with Deep Linking (``lti.deep_linking``);
  ``objectives/`` adds its objective templates here;
* ``learner_panels``: sections of the learner's landing page (``objectives/`` adds "your
  objectives").
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lti.config import LtiConfig
from lti.outbound import JwksCache, PlatformHttp, TokenCache

if TYPE_CHECKING:
    from flask import Flask

    from lrs.sealing import SecretBox
    from lti.deep_linking import PlacementProvider


@dataclass(frozen=True)
class Panel:
    """A section of the learner's landing page: a title and lines of text (escaped)."""

    title: str
    lines: list[str]


#: ``panel(session, store_id, person_id)`` -> a Panel, or None to show nothing.
LearnerPanel = Callable[[Any, int, int], Panel | None]


@dataclass
class LtiRuntime:
    config: LtiConfig
    http: PlatformHttp
    jwks: JwksCache
    tokens: TokenCache
    clock: Callable[[], int]
    placement_providers: dict[str, PlacementProvider] = field(default_factory=dict)
    learner_panels: list[LearnerPanel] = field(default_factory=list)
    #: ``hook(session, launch)`` runs in the transaction that records each launch.
    launch_hooks: list[Callable[[Any, Any], None]] = field(default_factory=list)
    #: ``review(session, launch, learner_person_id, link, launch_token)``: the URL of the page
    #: where an instructor's submission review launch lands (``objectives/`` sets it: the
    #: learner's evidence for the objective placed there); raises an LrsError saying why not.
    submission_review: Callable[..., str] | None = None
    #: The instance secret (``LEARNLOOP_SECRET_KEY`` or the instance's key file), which seals
    #: the tool's private keys; a function because the shell makes the file on first use.
    secret: Callable[[], str] | None = None

    def now(self) -> int:
        """Milliseconds since the epoch."""
        return self.clock()

    def key_box(self) -> SecretBox:
        """The box that seals and opens the tool's private keys (``lti.keys``).

        SecretsUnavailable (503) naming LEARNLOOP_SECRET_KEY when the runtime has no secret.
        """
        from lti.keys import key_box

        return key_box(self.secret() if self.secret is not None else "")


def build_runtime(
    config: LtiConfig | None = None,
    clock: Callable[[], int] | None = None,
    secret: Callable[[], str] | None = None,
) -> LtiRuntime:
    """A runtime with the default placement provider (learning activities)."""
    from lti.placements import ActivityPlacements

    config = config or LtiConfig.from_env()
    http = PlatformHttp(config)
    runtime = LtiRuntime(
        config=config,
        http=http,
        jwks=JwksCache(http, config.jwks_cache_seconds, config.jwks_min_refetch_seconds),
        tokens=TokenCache(),
        clock=clock or (lambda: int(time.time() * 1000)),
        secret=secret,
    )
    provider = ActivityPlacements()
    runtime.placement_providers[provider.kind] = provider
    return runtime


def install(app: Flask, config: LtiConfig, clock: Callable[[], int]) -> LtiRuntime:
    """Build the runtime for ``app`` (the shell calls this; it registers the blueprints).

    The tool's private keys are sealed with the LRS runtime's instance secret; keys still
    stored in plain text (from before migration 0012) are sealed here, at start.
    """
    from lrs.runtime import EXTENSION
    from lti.keys import seal_stored_keys

    lrs = app.extensions.get(EXTENSION)
    runtime = build_runtime(config, clock, lrs.instance_secret if lrs is not None else None)
    app.extensions["lti"] = runtime
    if lrs is not None:
        seal_stored_keys(lrs.sessions, runtime.key_box())
    return runtime


def runtime() -> LtiRuntime:
    """The LTI runtime of the current Flask app."""
    from flask import current_app

    return current_app.extensions["lti"]
