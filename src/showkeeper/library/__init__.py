"""The library on disk: scanning it, reconciling it with the database, what is missing.

Entry points are in :mod:`showkeeper.library.service`: ``run_scan``, ``start_scan``,
``missing_episodes``, ``library_issues``.
"""
