"""Tools that ship with the template repository (never copied into generated projects).

Nothing is imported here: the hooks import ``template_tools.answers`` from the
template's own ``src/`` with nothing but the standard library (and PyYAML) at hand.
"""
