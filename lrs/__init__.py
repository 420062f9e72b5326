"""Learnloop's xAPI Learning Record Store and the service shell around it."""

from lrs.app import create_app

__all__ = ["create_app"]
