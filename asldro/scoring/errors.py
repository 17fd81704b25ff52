"""The scorer's error: a map or a dataset it cannot score (docs/score.md §6)."""

from __future__ import annotations

from asldro.exit_codes import ExitCode, StatusError


class ScoreError(StatusError):
    """The map cannot be scored against the dataset's ground truth as they are (a map that is
    not a readable 3-D image, a map in another world space or outside the ground truth, no
    ground truth of the map's quantity, no voxel in any region): exit 65, one line naming the
    file and the rule."""

    exit_status = ExitCode.DATA
