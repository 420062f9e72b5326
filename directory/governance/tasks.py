"""The worker's job of data governance: apply a store's retention policy (``retention``)."""

from __future__ import annotations

from directory.governance.retention import apply_policy
from lrs.queue import ClaimedJob
from lrs.runtime import lrs_runtime


def on_retention(job: ClaimedJob) -> None:
    """Delete the store's expired statements in batches; the next run is left for a day later."""
    runtime = lrs_runtime()
    apply_policy(runtime.sessions, job.store_id, runtime.clock)
