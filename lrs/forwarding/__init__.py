"""Statement forwarding (issue 17): a store's matching statements sent on to another LRS.

A *destination* is another xAPI endpoint (HTTP Basic or OAuth 2.0 client credentials, its
secret sealed); its *rules* say which statements go there (verb, activity id prefix, source,
actor's e-mail domain; a destination without rules takes every statement). Each destination
keeps a cursor over the store's stored order (``statements.seq``), so it receives its
statements in that order, at least once: the worker's ``forward`` job sends the next batch after
the cursor and moves the cursor only when the destination accepted it. A failure is retried
with exponential backoff; after ``max_failures`` in a row the destination is *dead-lettered*
until an administrator resumes it. Replay moves the cursor back to a point in time. Every
attempt is in the delivery log (``lrs.deliveries``).

``models`` (tables), ``rules`` (pure matching), ``settings`` (``LEARNLOOP_FORWARDING_*``),
``client`` (the HTTP side, through ``lrs.outbound``), ``services`` (what pages and commands
do), ``tasks`` (the worker's handlers), ``cli`` (``learnloop forwarding``).
"""
