"""Business logic, independent of HTTP."""
