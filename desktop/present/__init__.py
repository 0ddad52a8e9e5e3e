"""What the clinician reads, in one Qt-free place (issue 15): the words for muscles, reflexes,
signs, regions, options, phenotypes and patient fields; the description of each muscle finding;
the rows of stages and scores; the wording of each criterion's result. The classification panel,
both reports, the `classify` summary, the body map and Compare take their words from here, so a
finding is never "normal" in one place and "weak" in another.

Messages are templates with named parameters (:mod:`desktop.present.messages`), so they can be
translated later. No internal identifier (``upper_limb``, ``alternatives_excluded``,
``principal_differs``, ``death_date``) reaches the reader.
"""
