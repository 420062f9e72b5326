"""The organisation's directory: who works here, who reports to whom, who may sign in and how.

Above the objectives floor (it sets up what reviews and objectives are about) and below the
pages: importing people from a CSV, the SCIM 2.0 provisioning API an identity provider drives,
single sign-on with OpenID Connect, and the administration of accounts.
"""
