"""The one error type of the ground-truth package."""


class GroundTruthError(ValueError):
    """A ground truth cannot be built, read, written or modified.

    The message is one line naming the file (or parameter) and the problem.
    """
