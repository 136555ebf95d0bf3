"""HTTP routes: thin functions that validate, delegate to services and shape responses."""
