"""Tests of bolus dispersion (docs/physics.md §4.10, §4.11).

The dispersed tissue curve is checked against closed forms that do not share code with asldro:
Fabber's analytic PASL gamma tissue curve (``TissueModel_gammadisp_wellmix``) and Hrabe & Lewis'
PASL Gaussian one (Fabber's ``kctissue_gaussdisp``), with scipy's incomplete gamma and math.erf,
and against adaptive quadrature of the convolution (scipy.integrate.quad).
"""

import math

import numpy as np
import pytest
from scipy import integrate, special

from asldro.physics import dispersion, gkm
from asldro.physics.bolus import BolusCutOff
from asldro.physics.dispersion import Dispersion

ALPHA, LAM, T1B, M0, F = 0.85, 0.9, 1.65, 100.0, 60.0
GAMMA = Dispersion("gamma", s=7.39, p=0.1)  # Fabber's prior means
KERNELS = [
    GAMMA,
    Dispersion("gamma", s=2.0, p=0.5),
    Dispersion("gamma", s=0.5, p=0.0),
    Dispersion("gauss", sigma=0.2),
    Dispersion("gauss", sigma=0.05),
]
TIMES = np.array([0.4, 0.9, 1.5, 2.0, 2.6, 3.6, 5.0])


def _tissue(label_type, signal_time, dt, t1, tau, kernel, **options):
    return gkm.delta_m(
        label_type,
        F,
        dt,
        t1,
        M0,
        label_duration=tau,
        signal_time=signal_time,
        label_efficiency=ALPHA,
        lambda_blood_brain=LAM,
        t1_arterial_blood=T1B,
        dispersion=kernel,
        **options,
    )


def _amplitude():
    return 2 * ALPHA * (M0 / LAM) * (F / 6000)


def _r1_app(t1):
    return 1 / t1 + F / 6000 / LAM


# --- the parameter object -------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"kind": "lorentz"}, "kind must be one of"),
        ({"kind": "gamma", "s": 7.0}, "needs a number 'p'"),
        ({"kind": "gamma", "s": 0.0, "p": 0.1}, "s must be finite and > 0"),
        ({"kind": "gamma", "s": 7.0, "p": -0.1}, "p must be finite and >= 0"),
        ({"kind": "gamma", "s": 7.0, "p": 0.1, "sigma": 0.2}, "takes no 'sigma'"),
        ({"kind": "gauss"}, "needs a number 'sigma'"),
        ({"kind": "gauss", "sigma": float("inf")}, "sigma must be finite"),
        ({"kind": "gauss", "sigma": True}, "needs a number 'sigma'"),
        ({"kind": "gauss", "sigma": "0.2"}, "needs a number 'sigma'"),
        ({"kind": "none", "s": 1.0}, "takes no 's'"),
    ],
)
def test_invalid_dispersions_are_rejected(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Dispersion(**kwargs)


def test_kind_is_case_insensitive_and_shape_is_one_plus_s_p():
    kernel = Dispersion("GAMMA", s=7, p=0.1)
    assert kernel.kind == "gamma" and kernel.s == 7.0
    assert kernel.shape == pytest.approx(1.7)
    assert kernel.mean_delay == pytest.approx(1.7 / 7)
    assert Dispersion().is_none and not dispersion.is_dispersed(None)


# --- special functions ----------------------------------------------------------------------


def test_regularized_gamma_closed_forms():
    x = np.array([0.0, 1e-8, 0.3, 1.0, 2.5, 7.0, 40.0, 700.0, np.inf])
    lower, upper = dispersion.regularized_gamma(1.0, x)
    np.testing.assert_allclose(lower, -np.expm1(-x), rtol=1e-14, atol=0)
    np.testing.assert_allclose(upper, np.exp(-x), rtol=1e-13, atol=0)
    lower, upper = dispersion.regularized_gamma(2.0, x)
    np.testing.assert_allclose(upper, (1 + np.where(np.isfinite(x), x, 0)) * np.exp(-x), rtol=1e-13)
    z = np.array([0.0, 0.01, 0.5, 1.0, 3.0, 6.0])
    erf = np.array([math.erf(v) for v in z])
    erfc = np.array([math.erfc(v) for v in z])
    lower, upper = dispersion.regularized_gamma(0.5, z * z)
    np.testing.assert_allclose(lower, erf, rtol=1e-14, atol=0)
    np.testing.assert_allclose(upper, erfc, rtol=1e-13, atol=0)


@pytest.mark.parametrize("a", [0.5, 1.0, 1.739, 3.0, 10.0, 101.0])
def test_regularized_gamma_matches_scipy(a):
    x = np.concatenate([np.linspace(0.0, 3 * a + 60, 2001), np.geomspace(1e-10, 1e3, 400)])
    lower, upper = dispersion.regularized_gamma(a, x)
    np.testing.assert_allclose(lower, special.gammainc(a, x), rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(upper, special.gammaincc(a, x), rtol=1e-12, atol=1e-300)


def test_regularized_gamma_rejects_bad_arguments():
    with pytest.raises(ValueError, match="a > 0"):
        dispersion.regularized_gamma(0.0, 1.0)
    with pytest.raises(ValueError, match="x >= 0"):
        dispersion.regularized_gamma(1.0, -1.0)


def test_normal_cdf_keeps_both_tails():
    z = np.array([-30.0, -8.0, -1.0, 0.0, 0.5, 8.0])
    expected = np.array([0.5 * math.erfc(-v / math.sqrt(2)) for v in z])
    np.testing.assert_allclose(dispersion.normal_cdf(z), expected, rtol=3e-13, atol=0)


@pytest.mark.parametrize("kernel", KERNELS + [Dispersion("gamma", s=1e4, p=0.1)])
def test_kernel_cells_hold_the_mass_and_the_mean(kernel):
    cells = dispersion.kernel_cells(kernel)
    width = np.diff(cells.nodes)
    mass = cells.density * width
    assert np.all(width > 0) and np.all(mass >= 0)
    assert mass.sum() + cells.tail_low + cells.tail_high == pytest.approx(1.0, abs=1e-14)
    centre = 0.5 * (cells.nodes[:-1] + cells.nodes[1:])
    mean = np.sum(centre * mass + cells.slope * width)  # Σ ∫ z h dz
    expected = kernel.shape if kernel.kind == "gamma" else 0.0
    assert mean == pytest.approx(expected, rel=1e-12, abs=1e-13)


# --- the dispersed delivery (docs/physics.md §4.10) ------------------------------------------


def _moments(label_type, kernel, dt=0.8, tau=1.8):
    t = np.linspace(0.0, 12.0, 1_200_001)
    shape = dispersion.delivery(
        label_type, t, dt, label_duration=tau, t1_arterial_blood=T1B, dispersion=kernel
    ) / math.exp(-dt / T1B)
    area = integrate.simpson(shape, x=t)
    return area, integrate.simpson(t * shape, x=t) / area


def test_gamma_dispersion_preserves_the_bolus_area_and_shifts_its_centroid():
    area, centroid = _moments("pcasl", GAMMA)
    assert round(area, 5) == 1.80000
    assert area == pytest.approx(1.8, abs=1e-9)
    shift = centroid - (0.8 + 1.8 / 2)
    assert shift == pytest.approx((1 + 7.39 * 0.1) / 7.39, abs=1e-8)  # 0.2353 s
    assert round(shift, 4) == 0.2353


def test_sharp_gamma_kernel_shifts_by_p():
    area, centroid = _moments("pcasl", Dispersion("gamma", s=1e4, p=0.1))
    assert area == pytest.approx(1.8, abs=1e-9)
    assert centroid - (0.8 + 0.9) == pytest.approx(0.1001, abs=1e-7)


def test_gauss_dispersion_keeps_area_and_centroid_for_casl():
    # Δt = 1.5 >> σ: the Gaussian's label before the start of labelling (t < 0) is < 1e-20
    area, centroid = _moments("pcasl", Dispersion("gauss", sigma=0.2), dt=1.5)
    assert area == pytest.approx(1.8, abs=1e-9)
    assert centroid == pytest.approx(1.5 + 0.9, abs=1e-9)
    # with Δt = 0.8 the part before t = 0 is not delivered: σ(φ(4) - 4Φ(-4)) = 1.43e-6 less
    area, _ = _moments("pcasl", Dispersion("gauss", sigma=0.2), dt=0.8)
    lost = 0.2 * (math.exp(-8) / math.sqrt(2 * math.pi) - 4 * 0.5 * math.erfc(4 / math.sqrt(2)))
    assert area == pytest.approx(1.8 - lost, abs=1e-9)


def test_pasl_gauss_trailing_edge_is_hrabe_lewis():
    dt, tau, sigma = 0.8, 0.8, 0.1
    sigma2 = sigma * math.sqrt((dt + tau) / dt)
    for t in (0.7, 1.0, 1.6, 1.75):
        expected = (
            math.exp(-t / T1B)
            * 0.5
            * (
                math.erf((t - dt) / (math.sqrt(2) * sigma))
                - math.erf((t - dt - tau) / (math.sqrt(2) * sigma2))
            )
        )
        value = dispersion.delivery(
            "pasl",
            t,
            dt,
            label_duration=tau,
            t1_arterial_blood=T1B,
            dispersion=Dispersion("gauss", sigma=sigma),
        )
        assert float(value) == pytest.approx(expected, rel=1e-12)


def test_delivery_without_dispersion_is_the_exact_boxcar():
    t = np.array([0.0, 0.79, 0.8, 2.0, 2.6, 3.0])
    value = dispersion.delivery("pcasl", t, 0.8, label_duration=1.8, t1_arterial_blood=T1B)
    expected = math.exp(-0.8 / T1B) * np.array([0, 0, 1, 1, 0, 0])
    np.testing.assert_array_equal(value, expected)


# --- the dispersed tissue curve: independent closed forms -----------------------------------


def _fabber_pasl_gamma(ti, dt, tau, t1, s, p):
    """Fabber ``TissueModel_gammadisp_wellmix::kctissue`` / 2 (asl_models.cc, transcribed)."""
    igamc = special.gammaincc
    k = 1 + p * s
    t1app = 1 / _r1_app(t1)
    a = t1app - T1B
    b = a + s * t1app * T1B
    c = (s - 1 / t1app + 1 / T1B) ** (p * s)
    if ti < dt:
        return 0.0
    if ti <= dt + tau:
        value = (
            2
            / a
            * math.exp(-(t1app * dt + (t1app + T1B) * ti) / (t1app * T1B))
            * t1app
            * T1B
            * b ** (-k)
            * (
                math.exp(dt / t1app + ti / T1B)
                * (s * t1app * T1B) ** k
                * (1 - igamc(k, b / (t1app * T1B) * (ti - dt)))
                + math.exp(dt / T1B + ti / t1app) * b**k * (-1 + igamc(k, s * (ti - dt)))
            )
        )
    else:
        value = (
            2
            / (a * b)
            * (
                math.exp(-a / (t1app * T1B) * (dt + tau) - ti / t1app)
                * t1app
                * T1B
                / c
                * (
                    s**k
                    * t1app
                    * T1B
                    * (
                        -1
                        + math.exp((-1 / t1app + 1 / T1B) * tau)
                        * (1 - igamc(k, b / (t1app * T1B) * (ti - dt)))
                        + igamc(k, b / (t1app * T1B) * (ti - dt - tau))
                    )
                    - math.exp(-a / (t1app * T1B) * (ti - dt - tau))
                    * c
                    * b
                    * (igamc(k, s * (ti - dt - tau)) - igamc(k, s * (ti - dt)))
                )
            )
        )
    return value / 2


def _hrabe_lewis_pasl(ti, dt, tau, t1, sigma):
    """Hrabe & Lewis' PASL Gaussian tissue curve (Fabber ``kctissue_gaussdisp``) / 2."""
    r = _r1_app(t1) - 1 / T1B
    sigma2 = sigma * math.sqrt((dt + tau) / dt)
    root2 = math.sqrt(2)
    u1, u2 = (ti - dt) / (root2 * sigma), (ti - dt - tau) / (root2 * sigma2)
    value = (
        2
        * math.exp(-ti * _r1_app(t1))
        / (2 * r)
        * (
            (math.erf(u1) - math.erf(u2)) * math.exp(r * ti)
            - (1 + math.erf(u1 - r * sigma / root2)) * math.exp(r * (dt + r * sigma**2 / 2))
            + (1 + math.erf(u2 - r * sigma2 / root2)) * math.exp(r * (dt + tau + r * sigma2**2 / 2))
        )
    )
    return value / 2


@pytest.mark.parametrize("s, p", [(7.39, 0.1), (2.0, 0.5), (20.0, 0.05)])
@pytest.mark.parametrize("dt, t1", [(0.8, 1.33), (0.5, 0.83), (1.2, 3.0)])
def test_pasl_gamma_tissue_matches_fabbers_closed_form(s, p, dt, t1):
    tau = 0.8
    expected = _amplitude() * np.array([_fabber_pasl_gamma(t, dt, tau, t1, s, p) for t in TIMES])
    value = _tissue("pasl", TIMES, dt, t1, tau, Dispersion("gamma", s=s, p=p))
    np.testing.assert_allclose(value, expected, rtol=0, atol=1e-7 * expected.max())


@pytest.mark.parametrize("sigma", [0.05, 0.1])
@pytest.mark.parametrize("t1", [0.83, 1.33])
def test_pasl_gauss_tissue_matches_hrabe_lewis(sigma, t1):
    dt, tau = 0.8, 0.8  # σ << Δt: the closed form's label before t = 0 is below 1e-15
    expected = _amplitude() * np.array([_hrabe_lewis_pasl(t, dt, tau, t1, sigma) for t in TIMES])
    value = _tissue("pasl", TIMES, dt, t1, tau, Dispersion("gauss", sigma=sigma))
    np.testing.assert_allclose(value, expected, rtol=0, atol=1e-7 * expected.max())


def _convolution(label_type, t, dt, t1, tau, kernel, start=0.0):
    """2 α M0b f ∫_start^t a(t') exp(-(t - t')/T1app) dt' by adaptive quadrature."""

    def integrand(time):
        shape = dispersion.delivery(
            label_type, time, dt, label_duration=tau, t1_arterial_blood=T1B, dispersion=kernel
        )
        return float(shape) * math.exp(-(t - time) * _r1_app(t1))

    points = [v for v in (dt, dt + tau) if start < v < t] or None
    value, _ = integrate.quad(
        integrand, start, t, points=points, limit=500, epsabs=1e-15, epsrel=1e-12
    )
    return _amplitude() * value


@pytest.mark.parametrize("label_type", ["pcasl", "pasl"])
@pytest.mark.parametrize("kernel", KERNELS, ids=repr)
@pytest.mark.parametrize("dt, t1", [(0.8, 1.33), (0.0, 1.33), (0.5, 4.0), (0.3, 0.1)])
def test_tissue_curve_matches_adaptive_quadrature(label_type, kernel, dt, t1):
    tau = 1.8 if label_type == "pcasl" else 0.8
    expected = np.array([_convolution(label_type, t, dt, t1, tau, kernel) for t in TIMES])
    value = _tissue(label_type, TIMES, dt, t1, tau, kernel)
    # docs/physics.md §4.11: error below 1e-6 of the curve's peak over these kernels and tissues
    np.testing.assert_allclose(value, expected, rtol=0, atol=1e-6 * expected.max())


@pytest.mark.parametrize("label_type", ["pcasl", "pasl"])
def test_sharp_kernel_reproduces_the_undispersed_model_delayed_by_p(label_type):
    tau = 1.8 if label_type == "pcasl" else 0.8
    sharp = Dispersion("gamma", s=1e5, p=0.1)  # kernel sd sqrt(k)/s = 1 ms
    times = np.linspace(0.2, 5.0, 49)
    dispersed = _tissue(label_type, times, 0.8, 1.33, tau, sharp)
    delayed = _tissue(label_type, times, 0.8 + 0.1, 1.33, tau, None)
    if label_type == "pcasl":  # Fabber's (p)CASL delivery keeps exp(-Δt/T1b)
        delayed = delayed * math.exp(0.1 / T1B)
    np.testing.assert_allclose(dispersed, delayed, rtol=0, atol=1e-3 * delayed.max())


def test_narrow_gauss_reproduces_the_undispersed_model():
    times = np.linspace(0.2, 5.0, 49)
    narrow = _tissue("pcasl", times, 0.8, 1.33, 1.8, Dispersion("gauss", sigma=1e-3))
    exact = _tissue("pcasl", times, 0.8, 1.33, 1.8, None)
    np.testing.assert_allclose(narrow, exact, rtol=0, atol=1e-3 * exact.max())


def test_quipss_counts_the_dispersed_delivery_after_ti1():
    kernel, ti1 = GAMMA, 1.0
    times = np.array([0.8, 1.2, 1.8, 2.5])
    value = _tissue("pasl", times, 0.6, 1.33, 0.9, kernel, bolus_cut_off=BolusCutOff("QUIPSS", ti1))
    expected = [
        _convolution("pasl", t, 0.6, 1.33, 0.9, kernel, start=ti1 if t >= ti1 else 0.0)
        for t in times
    ]
    np.testing.assert_allclose(value, expected, rtol=0, atol=1e-7 * max(expected))


def test_quipss_ii_cuts_the_dispersed_bolus():
    cut = _tissue("pasl", TIMES, 0.6, 1.33, 1.5, GAMMA, bolus_cut_off=BolusCutOff("QUIPSSII", 0.7))
    np.testing.assert_array_equal(cut, _tissue("pasl", TIMES, 0.6, 1.33, 0.7, GAMMA))


def test_pasl_k_zero_is_finite_and_continuous():
    t1_matched = 1.0 / (1.0 / T1B - F / 6000.0 / LAM)  # T1app = T1b: k = 0
    at_k0 = _tissue("pasl", TIMES, 0.8, t1_matched, 0.8, GAMMA)
    assert np.all(np.isfinite(at_k0)) and np.all(at_k0[TIMES > 0.8] > 0) and at_k0[0] == 0
    for t1 in (t1_matched * (1 - 1e-6), t1_matched * (1 + 1e-6)):
        np.testing.assert_allclose(_tissue("pasl", TIMES, 0.8, t1, 0.8, GAMMA), at_k0, rtol=1e-5)


# --- vectorisation and background -----------------------------------------------------------


@pytest.mark.parametrize("label_type", ["pcasl", "pasl"])
@pytest.mark.parametrize("kernel", [GAMMA, Dispersion("gauss", sigma=0.2)], ids=repr)
def test_lookup_table_equals_dense_maps(label_type, kernel):
    f = np.array([0.0, 60.0, 20.0, 45.0])
    dt = np.array([0.0, 0.8, 1.2, 0.8])
    t1 = np.array([0.0, 1.33, 0.83, 1.1])
    m0 = np.array([0.0, 74.6, 64.7, 70.0])
    labels = np.random.default_rng(7).integers(0, 4, size=(6, 5, 4))
    kwargs = {
        "label_duration": 1.8,
        "signal_time": 2.6,
        "label_efficiency": ALPHA,
        "lambda_blood_brain": LAM,
        "t1_arterial_blood": T1B,
        "dispersion": kernel,
    }
    table = gkm.delta_m(label_type, f, dt, t1, m0, **kwargs)
    dense = gkm.delta_m(label_type, f[labels], dt[labels], t1[labels], m0[labels], **kwargs)
    assert dense.shape == labels.shape and table.shape == (4,)
    np.testing.assert_array_equal(dense, table[labels])
    one_by_one = [
        float(gkm.delta_m(label_type, *(v[i] for v in (f, dt, t1, m0)), **kwargs)) for i in range(4)
    ]
    np.testing.assert_allclose(table, one_by_one, rtol=1e-14, atol=0)
    assert table[1] > table[2] > 0


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("label_type", ["casl", "pcasl", "pasl"])
@pytest.mark.parametrize("kernel", [GAMMA, Dispersion("gauss", sigma=0.2)], ids=repr)
def test_background_t_zero_and_zero_t1b_give_zero_without_warnings(label_type, kernel):
    zeros = np.zeros((3, 4, 2))
    for signal_time in (0.0, 1.0, 3.6):
        value = gkm.delta_m(
            label_type,
            zeros,
            zeros,
            zeros,
            zeros,
            label_duration=1.8,
            signal_time=signal_time,
            label_efficiency=ALPHA,
            lambda_blood_brain=LAM,
            t1_arterial_blood=T1B,
            dispersion=kernel,
        )
        assert value.shape == zeros.shape and np.all(value == 0.0)
    assert float(_tissue(label_type, 0.0, 0.0, 1.33, 1.8, kernel)) == 0.0
    no_blood_t1 = gkm.delta_m(
        label_type,
        F,
        0.8,
        1.33,
        M0,
        label_duration=1.8,
        signal_time=2.0,
        label_efficiency=ALPHA,
        lambda_blood_brain=LAM,
        t1_arterial_blood=0.0,
        dispersion=kernel,
    )
    assert float(no_blood_t1) == 0.0


@pytest.mark.filterwarnings("error")
def test_extreme_tissues_stay_finite_and_non_negative():
    t1 = np.array([1e-4, 0.01, 1.33, 100.0, 3.0])
    dt = np.array([0.1, 0.1, 0.8, 0.5, 1000.0])
    for label_type in ("pcasl", "pasl"):
        for kernel in (GAMMA, Dispersion("gauss", sigma=0.2)):
            value = _tissue(label_type, 20.0, dt, t1, 10.0, kernel)
            assert np.all(np.isfinite(value)) and np.all(value >= 0.0)
            assert value[-1] == 0.0


def test_scalars_and_empty_maps_keep_their_shape():
    kwargs = {
        "label_duration": 1.8,
        "signal_time": 2.6,
        "label_efficiency": ALPHA,
        "lambda_blood_brain": LAM,
        "t1_arterial_blood": T1B,
        "dispersion": GAMMA,
    }
    scalar = gkm.delta_m("pcasl", F, 0.8, 1.33, M0, **kwargs)
    assert scalar.shape == () and float(scalar) > 0
    assert gkm.delta_m("pcasl", F, np.zeros((0, 3)), 1.33, M0, **kwargs).shape == (0, 3)
    uniform = gkm.delta_m("pcasl", F, np.full((2, 3), 0.8), 1.33, M0, **kwargs)
    np.testing.assert_array_equal(uniform, np.full((2, 3), float(scalar)))
