"""The LLM module: one service in front of the providers, and what it keeps of each call.

Builds no HTTP types: the endpoints map its errors and shape its events.
"""
