"""Choosing the one person a single-subject analysis follows: ``largest`` (biggest median box), ``longest`` (most
frames) or a track id."""

from __future__ import annotations

import numpy as np

from alphapose_kit.analysis.series import Recording, Track
from alphapose_kit.errors import AkitError

CHOICES = ("largest", "longest")


def select_person(recording: Recording, person: str | int = "longest") -> Track:
    """The track ``person`` names: ``largest`` = largest median box area, ``longest`` = most frames (ties: the lower
    track id), or a track id (an int or its digits); one line when the recording has none or lacks that id."""
    if not recording.tracks:
        raise AkitError(f"no tracked person in {recording.path}")
    if isinstance(person, int) or str(person).lstrip("-").isdigit():
        return recording.select(int(person))[0]
    tracks = sorted(recording.tracks.values(), key=lambda t: t.track_id)
    if person == "longest":
        return max(tracks, key=lambda t: (len(t), -t.track_id))
    if person == "largest":

        def area(track: Track) -> float:
            wh = track.boxes[:, 2:] - track.boxes[:, :2]
            return float(np.nanmedian(wh[:, 0] * wh[:, 1]))

        return max(tracks, key=lambda t: (area(t), -t.track_id))
    raise AkitError(f"--person must be largest, longest or a track id, got {person!r}")
