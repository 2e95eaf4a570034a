"""Synthetic China–ASEAN traffic and the `silkgate demo` scenario."""
