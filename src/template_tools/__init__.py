"""Tools that ship with the template repository (never copied into generated projects)."""
