"""The About resource (Communication 2.8; 9274.1.1 §4.1.6.7): open to everyone, any version."""

from __future__ import annotations

from flask import jsonify

from lrs.core.versions import SUPPORTED
from lrs.xapi import xapi


@xapi.route("/about", methods=["GET"])
def about():
    """The versions Learnloop serves; never rejected for its version header."""
    return jsonify({"version": list(SUPPORTED), "extensions": {}})
