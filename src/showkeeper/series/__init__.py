"""Series as users see them: the list with counts, details, edits, deletion, and the one
definition of a missing episode (:mod:`showkeeper.series.missing`)."""
