"""Retrieval-augmented generation: documents in, chunks found, answers with sources."""
