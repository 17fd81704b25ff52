"""What the series pipelines hand to the BIDS writer: a :class:`SeriesResult` per series, its
images and, for each image, its typed acquisition record (:mod:`asldro.pipelines.records`)."""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Mapping, Union

from asldro.image import Image
from asldro.params.types import Series
from asldro.pipelines.records import AcquisitionRecord

if TYPE_CHECKING:  # a StreamedImage is made by the pipelines that make results
    from asldro.pipelines.streamed import StreamedImage


@dataclass(frozen=True)
class SeriesResult:
    """One simulated series.

    ``images`` holds ``{"asl": Image}`` for asl, ``{"structural": Image}`` for structural and
    ``{quantity: Image}`` for ground_truth (every ground-truth quantity, ``seg_label`` included);
    ``records`` holds the acquisition record of each image under the same key
    (:class:`~asldro.pipelines.records.AslAcquisition`, ``StructuralAcquisition``,
    ``GroundTruthMap``). ``index`` is the 1-based position of the series in the parameter file;
    ``params`` the series' typed parameters. The image of an asl series made to be written
    (``streamed_series(..., stream=True)``) is a
    :class:`~asldro.pipelines.streamed.StreamedImage`, simulated as it is read.
    """

    index: int
    series_type: str
    description: str
    params: Series
    images: Mapping[str, Union[Image, "StreamedImage"]]
    records: Mapping[str, AcquisitionRecord]

    def __post_init__(self) -> None:
        object.__setattr__(self, "images", MappingProxyType(dict(self.images)))
        object.__setattr__(self, "records", MappingProxyType(dict(self.records)))
        if list(self.images) != list(self.records):
            raise ValueError(
                f"series {self.index}: images {list(self.images)} and records "
                f"{list(self.records)} do not match"
            )
        for key, record in self.records.items():
            if record.series != self.params:
                raise ValueError(f"series {self.index}: the record of {key!r} is of another series")
