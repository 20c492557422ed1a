"""Strategy base class, context protocol and plugin loading."""
