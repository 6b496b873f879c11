"""Hybrid (dense + lexical) top-20 retrieval side by side: our engine, txtai and numpy."""
