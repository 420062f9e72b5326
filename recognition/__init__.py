"""Recognition: kudos that can only be given away, badges earned from real learning, leaderboards.

- **Kudos** (``kudos``): each person has an allowance per period (the store's setting, 100
  points a month by default; what is not given expires with the period). A gift moves points
  from the giver's allowance to a colleague's wallet with one conditional ``UPDATE`` each, and is
  an xAPI statement (the receiver *received* kudos, the giver a context agent) through the LRS
  write path, so kudos count in objectives and badges like any learning event.
- **Rewards** (``rewards``): a catalogue (name, cost, stock) the admin keeps; a redemption spends
  received points and one item of stock, both conditional updates, and waits for an admin.
- **Badges** (``badges``): criteria in the objectives' engine (``objectives.criteria``, counted
  over ``learning_facts``); the worker (``tasks``) awards each once, as an xAPI statement and as
  an Open Badges 3.0 credential signed with the store's issuer key (``credentials``, VC-JWT,
  public keys at ``/badges/issuers/<store_id>/jwks.json``).
- **Leaderboards** (``leaderboards``): contributions to others' learning per team and
  organisation by period, only of people who opted in; managers see team totals. Nothing in
  ``objectives`` reads them (the import contract forbids it), so they never feed review scoring.

**Hook for other features (notifications).** ``recognition.runtime.RecognitionRuntime`` holds
two lists of listeners that the shell (``learnloop.app.create_app``) may append to:
``on_kudos_received`` gets a ``events.KudosReceived`` and ``on_badge_earned`` an
``events.BadgeEarned``. Each listener is called with the session of the write transaction that
records the gift or the award, after its statement is stored, so a listener that leaves a job in
the durable queue (``lrs.queue.enqueue``) commits with the event or not at all; a listener
must not commit, must not call out over the network, and its exception rolls the event back.
"""
