"""Every page's route on the ``pages`` blueprint, for the shell to register."""

from web import admin_views, views  # noqa: F401  (each adds its routes to ``pages``)
from web.blueprint import pages

__all__ = ["pages"]
