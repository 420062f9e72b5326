"""People and their identities: one Person per human, many xAPI identities each.

An LMS account, an email address, a GitHub login and a Gerrit account can all be the same
learner. Everything that reads a learner's record (the Agents resource, objectives, reviews)
goes through here to see one person instead of several agents.
"""
