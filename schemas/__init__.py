"""JSON Schemas shipped with slant (data package)."""
