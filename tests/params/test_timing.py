"""The one post-labelling-delay rule (docs/physics.md §4.6, D21)."""

import pytest

from asldro.params.timing import post_labeling_delay, round_seconds


@pytest.mark.parametrize(
    "label_type, tau, t, pld",
    [
        ("pcasl", 1.8, 3.6, 1.8),
        ("CASL", 1.5, 3.25, 1.75),
        ("pasl", 0.8, 1.8, 1.8),
        ("PASL", 2, 2, 2),
    ],
)
def test_pld_is_signal_time_minus_label_duration_except_pasl(label_type, tau, t, pld):
    assert post_labeling_delay(label_type, tau, t) == pytest.approx(pld, abs=1e-15)


def test_a_negative_delay_is_reported_as_is():
    """The parameter check refuses it (D17); the rule itself does not clip."""
    assert post_labeling_delay("pcasl", 2.0, 1.5) == pytest.approx(-0.5)


def test_delays_are_rounded_to_a_nanosecond():
    """ASLDRO develop defect D34 (docs/bids.md §13): 2.8 - 1.8 is 0.9999999999999998 in floating point; the rule reports 1.0 (and 0.2,
    not 0.19999999999999996), never -0.0."""
    assert 2.8 - 1.8 != 1.0  # the float noise ASLDRO develop wrote into sidecars
    assert post_labeling_delay("pcasl", 1.8, 2.8) == 1.0
    assert post_labeling_delay("pcasl", 1.8, 2.0) == 0.2
    assert repr(post_labeling_delay("pcasl", 1.8, 1.8 - 1e-13)) == "0.0"
    assert round_seconds(1.23456789049) == 1.23456789
    assert round_seconds(0.1 + 0.2) == 0.3
