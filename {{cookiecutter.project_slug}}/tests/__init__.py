"""Tests of {{ cookiecutter.project_name }}."""
