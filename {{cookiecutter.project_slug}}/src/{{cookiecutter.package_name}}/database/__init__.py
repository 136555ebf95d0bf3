"""Data layer: async SQLAlchemy engine, models, repositories and migrations."""
