"""The publish engine: one object that runs read → pipeline → render → plan → deploy cycles."""
