"""The About resource (Communication 2.8; 9274.1.1 §4.1.6.7): open to everyone, any version.

Learnloop serves 1.0.3 and 2.0.0. A request that declares a 1.0.x version is answered by the
1.0.3 implementation, which lists only 1.0.3: strict 1.0.x clients (TinCanPython's ``About``
rejects any version it does not know) then work. Without a header, or under 2.0, both are listed.
"""

from __future__ import annotations

from flask import jsonify, request

from lrs.core import versions
from lrs.runtime import lrs_runtime
from lrs.xapi import xapi


@xapi.route("/about", methods=["GET"])
def about():
    """The versions Learnloop serves; never rejected for its version header."""
    try:
        served = versions.negotiate(request.headers.get("X-Experience-API-Version"))
    except versions.UnsupportedVersion:
        served = None
    listed = [versions.V103] if served == versions.V103 else list(versions.SUPPORTED)
    return jsonify({"version": listed, "extensions": {}})


@xapi.route("/openapi.json", methods=["GET"])
def openapi():
    """The OpenAPI document of the xAPI resources (``lrs.openapi``), for client developers."""
    from lrs.openapi import document

    return jsonify(document(lrs_runtime().public_url.rstrip("/")))
