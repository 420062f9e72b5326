"""The store's anonymity threshold *k*: the smallest group whose results are ever shown."""

from __future__ import annotations

from sqlalchemy.orm import Session

from feedback.models import FeedbackSettings
from lrs.catalogue import M_, at
from lrs.errors import BadRequest, FieldError

DEFAULT_K = 5
#: Fewer than 3 would let two people who answered learn each other's answers.
MIN_K = 3
MAX_K = 1000


def k_of(session: Session, store_id: int) -> int:
    row = session.get(FeedbackSettings, store_id)
    return row.k if row is not None else DEFAULT_K


def set_k(session: Session, store_id: int, k: int, now_ms: int) -> int:
    """Set the store's *k*; a 400 naming ``k`` outside MIN_K..MAX_K."""
    if isinstance(k, bool) or not isinstance(k, int) or not MIN_K <= k <= MAX_K:
        message = M_("must be a whole number from %(min)s to %(max)s", min=MIN_K, max=MAX_K)
        raise BadRequest(at("k", message), [FieldError("k", message)])
    row = session.get(FeedbackSettings, store_id)
    if row is None:
        session.add(FeedbackSettings(store_id=store_id, k=k, updated_ms=now_ms))
    else:
        row.k, row.updated_ms = k, now_ms
    session.flush()
    return k
