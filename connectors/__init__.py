"""Capture of learning where it happens: code reviews and micro-learning platforms.

Each source has one pure module (``github``, ``gitlab``, ``gerrit``, ``microlearning``) that
verifies a delivery and maps it to xAPI statements: data in, data out. ``services`` records
deliveries and hands the statements to the LRS write path (``lrs.api.write_statements``) in one
transaction; ``views`` and ``cli`` are thin shells around them. The vocabulary is our
code-review and micro-learning xAPI Profiles (``profiles/*.jsonld``, IRIs in ``profile.py``).
"""
