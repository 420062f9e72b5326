"""Performance reviews with learning objectives that measure themselves.

A manager attaches objectives to an employee's review; each objective's criteria are xAPI
conditions evaluated against the learner's record in the LRS, so the review shows measured
progress instead of a self-assessment.
"""
