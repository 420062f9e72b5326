"""Every page's route on the ``pages`` blueprint, for the shell to register."""

import web.admin_audit  # noqa: F401  (the audit trail, its CSV and JSON Lines)
import web.admin_export  # noqa: F401  (the statement export download)
import web.admin_forwarding  # noqa: F401  (statement forwarding destinations)
import web.admin_governance  # noqa: F401  (erasing a person, retention)
import web.admin_lms  # noqa: F401  (the connection check of an LMS registration)
import web.admin_notifications  # noqa: F401  (e-mail status and log, teams' chat hooks)
import web.admin_oauth  # noqa: F401  (revoking a credential's OAuth tokens)
import web.admin_scim  # noqa: F401  (SCIM provisioning tokens)
import web.admin_sign_in  # noqa: F401  (single sign-on settings)
import web.admin_webhooks  # noqa: F401  (webhook endpoints, test-send, delivery log)
import web.feedback  # noqa: F401  (health checks, after-action reviews, insight)
import web.language  # noqa: F401  (the person's choice of language for the pages)
import web.notifications  # noqa: F401  (the inbox and its bell, preferences, unsubscribe)
import web.recognition  # noqa: F401  (kudos, leaderboard, rewards, badges)
import web.sign_in  # noqa: F401  (sign-in, single sign-on, API tokens)
from web import admin_people, admin_reviews, admin_views, views  # noqa: F401  (add routes)
from web.blueprint import pages

__all__ = ["pages"]
