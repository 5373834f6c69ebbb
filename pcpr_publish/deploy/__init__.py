"""Stages "plan" and "deploy": diff a rendered site against a target, then write it in order."""
