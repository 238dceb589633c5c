"""Authentication services: users, password hashes, sessions, bearer tokens, API keys,
login throttling. Plain functions over a database session; no web framework here.
"""
