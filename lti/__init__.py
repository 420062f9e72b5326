"""The LTI 1.3 / LTI Advantage tool: registrations, launches, Deep Linking, grades and rosters.

An LMS registers Learnloop (by hand, by the admin API or CLI, or by Dynamic Registration),
launches it through OIDC login and ``/lti/launch``, places content with Deep Linking, and
exchanges grades (AGS) and rosters (NRPS) with it. Every launch becomes an xAPI statement
through the LRS write path.

Layout: pure protocol rules in ``claims``, ``jose``, ``launch``, ``oidc``, ``statements``,
``deep_linking``, ``ags``, ``nrps``, ``dynreg`` and ``urls``; database work in ``services``;
outbound HTTP in ``outbound``; Flask in ``views``; wiring in ``runtime``.
"""

from lti.runtime import install, runtime

__all__ = ["install", "runtime"]
