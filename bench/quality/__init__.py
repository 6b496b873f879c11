"""External-corpus quality evaluation harness (see README.md)."""
