"""Default taxonomy, lexicons, seed sentences and sample article (data package)."""
