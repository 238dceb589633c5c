"""Automation: the scheduler that rescans the library, refreshes sources and queues
missing episodes, with its runs persisted so a restart catches up what it missed.
"""
