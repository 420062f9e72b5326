"""People hear about it: the inbox, e-mail (at once or in the weekly digest), team chat.

Issue 21.

How an event becomes a notification
------------------------------------
Any floor calls, in the transaction of its event::

    from lrs import queue
    queue.notify(session, store_id, "objective.met", {"objective": objective.id})

That leaves a ``notify`` job (``lrs.queue.NOTIFY``) in the durable queue; nothing is sent
inside a request. The worker runs ``notifications.tasks.on_notify``: the kind's resolver
(``notifications.kinds``) reads the rows the ids name and says who is told what; each notice
goes to its person's inbox and, by their preference for the kind (``immediately``, ``digest``,
``off``), to an ``email`` job or to the weekly digest; team-level kinds also go to the chat
hook of each team that opted in (``chat`` jobs, through ``lrs.outbound``).

Events known today: ``objective.attached``, ``objective.met``, ``review.opened``,
``review.due`` (a daily scan), ``review.submitted``, ``reviewer.granted``,
``health_check.opened`` and ``aar.published`` (the feedback floor's).

Adding a kind (kudos received, badge earned, ...)
-------------------------------------------------
1. In the event's transaction: ``queue.notify(session, store_id, "kudos.received", {ids})``.
2. Here, beside the others in ``notifications/kinds.py`` (this floor may read the lower ones)::

       register(Kind("kudos.received", "Someone gave you kudos"), resolver, team=news)

   ``resolver(session, store_id, payload) -> list[Notice]``; ``team`` only for team-level
   kinds (what the chat is told).
3. Templates ``templates/email/kudos.received.txt`` and ``.html`` (extend the layouts).

E-mail is sent only when ``LEARNLOOP_SMTP_HOST`` is set (``notifications.settings``): quiet by
default. Every message has the signed one-click unsubscribe of its kind (RFC 8058).
"""
