"""Blueprints: HTTP in, channels and the runner out."""
