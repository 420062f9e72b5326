"""The service shell: configuration, the app factory, the service registry and the CLI.

It stands above every domain package (``lrs``, ``lti``, ``connectors``, ``objectives``,
``web``) and is imported by none of them; see ``docs/architecture.md``.
"""

from learnloop.app import create_app

__all__ = ["create_app"]
