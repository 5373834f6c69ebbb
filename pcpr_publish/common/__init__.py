"""Leaf helpers every layer may use: dates, reference data, garbage-collector pausing."""
