"""How people sign in to a store: the store chosen without guessing, passwords, OpenID Connect.

``models`` (per-store settings and the email domains that route to a store), ``config``
(``LEARNLOOP_OIDC_*``: where the provider may be and how long a call may take), ``services``
(settings, routing, the account an identity provider vouches for), ``oidc`` (the relying
party: discovery, the authorization request with PKCE, the code exchange, the ID token checks).
"""
