"""Downloads: the queue, the worker pool and the transfer engine."""
