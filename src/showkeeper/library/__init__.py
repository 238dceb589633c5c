"""The library on disk: scanning it and reconciling it with the database.

Entry points are in :mod:`showkeeper.library.service`: ``run_scan``, ``start_scan``,
``library_issues``. What is missing is defined in :mod:`showkeeper.series.missing`.
"""
