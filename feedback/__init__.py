"""Feedback loops and insight (issue 20): health checks, after-action reviews, mentoring.

And whether learning pays off.

- **Health checks and pulses** (``health``): a lead opens a squad health check (Spotify's
  indicators, traffic lights and a trend) or a short pulse (1-5) for their team over a window
  of days, optionally for a learning initiative (a cycle or a template) while it runs. Members
  answer anonymously: the data model keeps no link from an answer to a person (``models``).
  Results are aggregates only, shown once the check has closed and at least *k* members (the
  store's setting, ``settings``, 5 by default) answered; closing first means a reader can never
  difference two results to learn one answer.
- **After-action reviews** (``aar``): blameless, published to everyone in the store and
  searchable; writing one and taking part are xAPI statements through the LRS write path; an
  action becomes a learning objective on its owner's review in one step
  (``objectives.services.attach_objective``); later reviews cite earlier lessons.
- **Mentoring** (``mentoring``): pairs; a session logged by one side and confirmed by the other
  becomes two statements (mentored / attended), which objectives and badges count.
- **Insight** (``insight``): per cycle, objectives met against the review's rating, learning by
  source against the rating, days from attached to met, the templates met least often; as JSON
  and CSV; never over fewer than *k* people.

Every statement follows the feedback xAPI Profile (``connectors/profiles/feedback.jsonld``).
"""
