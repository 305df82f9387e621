"""The flow engine: pure, see README.md in this folder."""
