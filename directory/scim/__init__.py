"""SCIM 2.0 provisioning (RFC 7643/7644) at ``/scim/v2/``: the identity provider drives people.

Users are Learnloop people of the token's store (``userName`` is the lower-cased sign-in name,
unique per store), the enterprise extension's ``manager`` is their reporting line, ``active``
is ``Person.deactivated_at``; Groups are the identity provider's groups of those people.
``models`` (tokens, the SCIM view of people and groups), ``tokens`` (bearer tokens per store,
stored hashed), ``resources`` (the scim2-models types and the discovery documents),
``services`` (create, read, replace, patch, delete, list), ``views`` (the blueprint), ``cli``.
See docs/scim.md.
"""
