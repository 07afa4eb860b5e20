"""Reads of the notifications app, a module per feature."""
