"""User-facing errors: every bad input becomes one actionable line, never a traceback."""


class AkitError(Exception):
    """An error whose message is a single line a user can act on; the CLI prints it and exits 1."""


class ConfigError(AkitError):
    """A config file or override is wrong (unknown key, bad value, missing file)."""


class CheckpointError(AkitError):
    """A checkpoint file does not fit the model it is loaded into, or is not a checkpoint at all."""


class DownloadError(AkitError):
    """A weight file could not be fetched (offline, HTTP error, hash mismatch)."""
