"""Pydantic models for what the API accepts and returns."""
