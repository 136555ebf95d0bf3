"""Cross-cutting pieces: settings, logging, errors, middleware and dependencies."""
