"""Version 1 of the API, mounted under ``/api/v1``."""
