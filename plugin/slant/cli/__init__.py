"""The `slant` command: thin commands over the functions of the other packages."""
