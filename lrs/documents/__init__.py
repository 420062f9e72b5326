"""The Document Resources: State, Activity Profile and Agent Profile (Communication 2.2-2.7).

``models`` holds the one table, ``services`` the reads and writes (a caller-owned Session),
``views`` the routes; the protocol rules live in ``lrs.core.documents``.
"""
