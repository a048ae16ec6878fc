"""Files in and out: results and their writers, rendering, checkpoints and the restricted unpickler."""
