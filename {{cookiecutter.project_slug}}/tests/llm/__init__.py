"""Tests of the LLM module, against a local stub of the providers' APIs."""
