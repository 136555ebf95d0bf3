"""Tests of the template: hooks, manifest, and bakes of the option matrix."""
