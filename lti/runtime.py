"""The LTI tool's per-app objects, built once in ``create_app`` (never at import time).

``runtime()`` gives the current app's ``LtiRuntime``: its settings, the platform HTTP client,
the key-set and token caches, and the extension points other packages register with:

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

    def now(self) -> int:
        """Milliseconds since the epoch."""
        return self.clock()


def build_runtime(
    config: LtiConfig | None = None, clock: Callable[[], int] | None = None
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
    )
    provider = ActivityPlacements()
    runtime.placement_providers[provider.kind] = provider
    return runtime


def install(app: Flask, config: LtiConfig, clock: Callable[[], int]) -> LtiRuntime:
    """Build the runtime for ``app`` (the shell calls this; it registers the blueprints)."""
    runtime = build_runtime(config, clock)
    app.extensions["lti"] = runtime
    return runtime


def runtime() -> LtiRuntime:
    """The LTI runtime of the current Flask app."""
    from flask import current_app

    return current_app.extensions["lti"]
