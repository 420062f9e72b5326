"""The LTI 1.3 / LTI Advantage tool: registrations, launches, Deep Linking, grades and rosters.

An LMS registers Learnloop (by hand, by the admin API or CLI, or by Dynamic Registration),
launches it through OIDC login and ``/lti/launch``, places content with Deep Linking, and
exchanges grades (AGS) and rosters (NRPS) with it. Every launch becomes an xAPI statement
through the LRS write path.

Layout:

* pure protocol rules: ``claims``, ``jose``, ``launch``, ``oidc``, ``statements``,
  ``deep_linking``, ``ags``, ``nrps`` and ``dynreg``; ``explain`` (failures of the platform's
  services in its terms) and ``canvas`` (Canvas's developer key configuration);
* database work, one module per concern, each beside the rules it applies (callers own the
  session and the transaction; nothing commits):

  - ``keys``: the tool's signing keys (current key, rotation, ``/lti/jwks``, signing);
  - ``registrations``: registrations, deployments, platform origins, invites and Dynamic
    Registration;
  - ``launches``: login state, nonce, the launch record, the person of an LMS user, the launch
    token of the pages after a launch;
  - ``placements``: the activity placement provider and the Deep Linking response;
  - ``platform_services``: the access token and the call that AGS and NRPS share;
  - ``grades``: AGS (resource links, line items, scores, results), for other packages too;
  - ``rosters``: NRPS (fetch, apply and sync a course's roster);
  - ``grants``: what a registration's latest launch carried (services, scopes, name and
    email) and the admins' warning when names or emails are not shared;
  - ``checks``: the connection check's live tests of the grade and roster services, and the
    grade and roster logs of a registration;

* tables (and the ``get_or_create`` and ``utc`` row helpers) in ``models``; errors in
  ``errors``; settings in ``config``; outbound HTTP in ``outbound`` (over the guard of
  ``lrs.outbound``); Flask in ``views``; wiring in ``runtime``; commands in ``cli``.

Imports go one way, without circles (``.importlinter`` checks it): ``views`` uses the database
modules; they use the rules, ``models`` and, where a platform is called, ``runtime``.
``runtime`` never imports ``views`` and loads ``placements`` only inside ``build_runtime``;
nothing ``placements`` imports leads back to ``runtime``.
"""

from lti.runtime import install, runtime

__all__ = ["install", "runtime"]
