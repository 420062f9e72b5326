"""The LRS's HTTP surface: the ``/xapi`` blueprint with every resource's routes on it.

The shell registers ``xapi``; importing the resource modules here is what puts their routes on
it, so ``lrs.xapi`` (authentication, version negotiation) never imports the resources back.
"""

from lrs import about, activities, agents  # noqa: F401  (each adds its routes to ``xapi``)
from lrs.documents import views as documents  # noqa: F401
from lrs.statements import views as statements  # noqa: F401
from lrs.xapi import xapi

__all__ = ["xapi"]
