"""Learnloop's xAPI Learning Record Store: statements, documents, agents, activities, about.

The ground floor: it imports only ``schemas`` below it; the service shell (``learnloop``)
builds its runtime and registers its blueprint (``lrs.routes.xapi``).
"""
