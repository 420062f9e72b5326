"""The pages people use: team objectives, learner record, review, and LRS administration.

Server-rendered Jinja with progressive enhancement: every page works without JavaScript;
scripts (served from /static, never inline) draw charts from the JSON API. A strict
Content-Security-Policy holds on every page; every form carries a CSRF token.
"""
