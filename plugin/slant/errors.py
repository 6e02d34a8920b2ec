"""The one family of user-facing errors.

Every message names the bad value and the next step. The CLI prints the message and
exits 1; library code raises and never exits.
"""

__all__ = [
    "SlantError",
    "TaxonomyError",
    "InputError",
    "ModelError",
    "StudioError",
    "DataError",
]


class SlantError(Exception):
    """A problem the user can fix; the message says how."""


class TaxonomyError(SlantError):
    """The taxonomy file is missing, malformed or inconsistent."""

    def __init__(self, message, problems=()):
        super().__init__(message)
        self.problems = list(problems)


class InputError(SlantError):
    """An input document or record file cannot be read."""


class DataError(SlantError):
    """Reviewed-label or prediction records are malformed or inconsistent."""


class ModelError(SlantError):
    """A model file is missing, untrusted or built for another taxonomy."""


class StudioError(SlantError):
    """Label Studio is unreachable, refuses the token, or rejects a request."""
