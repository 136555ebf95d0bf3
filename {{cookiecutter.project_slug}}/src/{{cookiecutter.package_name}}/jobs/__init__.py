"""Background jobs: the work that should not make a request wait."""
