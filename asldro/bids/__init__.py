"""asldro.bids: write simulated series as a BIDS raw dataset plus a ground-truth derivative.

``validate_dataset`` lives in :mod:`asldro.bids.validate` and is imported from there by callers.
"""

from asldro.bids.archive import write_archive
from asldro.bids.dataset import ensure_dataset_files, update_participants
from asldro.bids.writer import write_participant

__all__ = ["write_participant", "ensure_dataset_files", "update_participants", "write_archive"]
