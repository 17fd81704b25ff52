"""The mark of a dataclass field that JSON output leaves out while it is empty (light: no
numpy, so that the typed parameters can use it; read by :func:`asldro.jsonable.to_jsonable`)."""

OMIT_WHEN_EMPTY = "asldro.omit_when_empty"
"""A dataclass field whose ``metadata`` has this key true is left out of the JSON while it is
empty (a field added later that old output never had: the output stays byte-identical)."""
