"""The workflows of the loop: analyze, push, pull, train, gate, registry, evaluate, curve."""
