"""Reference values for the skew-normal tests (SkewNormalTests.cs, ExposureTests.cs), computed with mpmath.

Run: python3 skewnormal_goldens.py   (prints the values pasted into the tests, then, where scipy is installed, a
cross-check against scipy; with TF_PRIVACY=<checkout of tensorflow/privacy at a pinned commit> also against TF
Privacy's own exposure code). The first part takes about 1.5 minutes.

The golden values are mpmath's, not scipy's: scipy's skew-normal CDF loses digits in the far lower tail, and its
fit is a Nelder-Mead approximation of the maximum-likelihood estimate. Re-run with Debian 12's python3 3.11.2 and
python3-mpmath 1.2.1, and with CPython 3.11.7 and mpmath 1.3.0 (the version first used): identical output. The
cross-check was run with Debian 12's python3-scipy 1.10.1 and python3-numpy 1.24.2, and tensorflow/privacy @
03035d5d4a271ac795dab80f5bc1cef82fc3d462 (tensorflow_privacy/privacy/privacy_tests/secret_sharer/exposures.py).

* Owen's T by adaptive quadrature of its defining integral at 50 digits.
* Skew-normal CDF as Phi(z) - 2 T(z, a) at 400 and 500 digits (enough for the cancellation in the far lower tail).
* Maximum-likelihood fit of a deterministic sample: the skew-normal score equations solved by Newton's method
  (mpmath.findroot) at 50 digits, so the golden parameters are the exact maximiser that scipy.stats.skewnorm.fit
  approximates by Nelder-Mead.
"""
import math
import os
import sys
from mpmath import mp, mpf, quad, exp, pi, ncdf, npdf, log, findroot, sqrt

mp.dps = 50


def owens_t(h, a):
    h = abs(mpf(h))
    a = mpf(a)
    # Break points at multiples of 1/h, where the Gaussian factor of the integrand lives.
    points = [mpf(0)] + [k / h for k in (0.25, 0.5, 1, 2, 4, 8, 16, 32) if h > 0 and k / h < abs(a)] + [abs(a)]
    t = quad(lambda x: exp(-h * h * (1 + x * x) / 2) / (1 + x * x), points) / (2 * pi)
    return t if a >= 0 else -t


def skewnorm_cdf(x, a, loc=0, scale=1):
    """Phi(z) - 2 T(z, a) at 400 digits (the lower tail cancels up to ~350 of them), checked against 500 digits."""
    values = []
    for digits in (400, 500):
        with mp.workdps(digits):
            z = (mpf(x) - loc) / scale
            values.append(ncdf(z) - 2 * owens_t(z, a))
    assert abs(values[0] - values[1]) <= abs(values[1]) * mpf(10) ** -25, (x, a, values)
    return values[1]


def lcg_uniforms(seed):
    """64-bit LCG (Knuth's MMIX constants); 53-bit uniforms in (0, 1). Mirrored by Lcg in the C# tests."""
    state = seed
    while True:
        state = (state * 6364136223846793005 + 1442695040888963407) % (1 << 64)
        yield ((state >> 11) + 0.5) / float(1 << 53)


def skewnorm_sample(n, a, loc, scale, seed):
    """Azzalini-Capitanio construction (as scipy's skewnorm._rvs) from Box-Muller normals, in doubles."""
    u = lcg_uniforms(seed)
    d = a / math.sqrt(1 + a * a)
    out = []
    for _ in range(n):
        u1, u2 = next(u), next(u)
        r = math.sqrt(-2.0 * math.log(u1))
        n0 = r * math.cos(2.0 * math.pi * u2)
        n1 = r * math.sin(2.0 * math.pi * u2)
        v = d * n0 + math.sqrt(1 - d * d) * n1
        out.append(loc + scale * (v if n0 >= 0 else -v))
    return out


def mle(data, start):
    xs = [mpf(x) for x in data]

    def score(a, xi, omega):
        s1 = s2 = s3 = mpf(0)
        for x in xs:
            z = (x - xi) / omega
            w = npdf(a * z) / ncdf(a * z)
            s1 += z - a * w
            s2 += z * z - 1 - a * w * z
            s3 += w * z
        return [s3, s1, s2]

    return findroot(score, start, tol=mpf(10) ** -40)


def loglik(data, a, xi, omega):
    return sum(log(2) - log(omega) + log(npdf((mpf(x) - xi) / omega)) + log(ncdf(a * (mpf(x) - xi) / omega)) for x in data)


OWENS_T_CASES = [(0.0625, 0.25), (6.5, 0.4375), (7, 0.96875), (4.78125, 0.0625), (2, 0.5), (1, 0.9999975),
                 (0, 0.7), (0.5, 1), (1.5, 2), (3, 10), (0.3, 100), (2.5, 1.5)]
CDF_CASES = [(0.5, 0, 0, 1), (-1, 4, 0, 1), (0.3, 4, 0, 1), (2, 4, 0, 1), (-0.2, -3, 0, 1), (1.7, -3, 0, 1),
             (-2, 0.5, 0, 1), (-3, 4, 0, 1), (-6, 4, 0, 1), (-0.3, 20, 0, 1), (-4, -2, 0, 1), (-40, -2, 0, 1),
             (0.8, 2, 1.5, 0.5), (2.5, 3, 2, 1.5)]
EXPOSURE_POINTS = [-1.0, 0.5, 1.2, 2.0, 3.5]


def cross_check(owens, cdfs, data, fit, exposures):
    """Relative differences of scipy (and TF Privacy's exposure code) from the mpmath values printed above."""
    try:
        from scipy import special, stats
        import scipy
    except ImportError:
        print("# scipy not installed: no cross-check")
        return

    def rel(v, ref):
        return float(abs(mpf(v) - ref) / abs(ref)) if ref != 0 else abs(v)

    print(f"# cross-check with scipy {scipy.__version__}: relative difference from the mpmath values")
    print("Owen's T, largest:", max(rel(special.owens_t(h, a), t) for (h, a), t in zip(OWENS_T_CASES, owens)))
    for (x, a, loc, scale), f in zip(CDF_CASES, cdfs):
        value = stats.skewnorm.cdf(x, a, loc, scale)
        print(f"skewnorm.cdf{(x, a, loc, scale)}: {value!r}, relative difference {rel(value, f) if value > 0 else 'underflow'}")
    sfit = stats.skewnorm.fit(data)
    print("skewnorm.fit (a, loc, scale):", sfit, "relative differences", [rel(v, m) for v, m in zip(sfit, fit)])
    tfp = os.environ.get("TF_PRIVACY")
    if tfp:
        sys.path.insert(0, os.path.abspath(tfp))
        sys.skip_tf_privacy_import = True
        from tensorflow_privacy.privacy.privacy_tests.secret_sharer import exposures as tfp_exposures
        print("# TF Privacy exposures.py")
        refs = [float(x) for x in range(1, 17)]
        print("compute_exposure_interpolation(exposures_test.py inputs):", tfp_exposures.compute_exposure_interpolation(
            {"1": [0, 0.1], "2": [20.0], "5": [3.5], "8": [3.5]}, refs))
        got = tfp_exposures.compute_exposure_extrapolation({"p": EXPOSURE_POINTS}, data)["p"]
        print("compute_exposure_extrapolation(fixed sample):", list(got), "relative differences",
              [rel(v, e) for v, e in zip(got, exposures)])


if __name__ == "__main__":
    owens, cdfs = [], []
    print("# Owen's T")
    for h, a in OWENS_T_CASES:
        owens.append(owens_t(h, a))
        print(f"({h}, {a}, {mp.nstr(owens[-1], 20)}),")
    print("# skew-normal CDF (x, a, loc, scale, F)")
    for x, a, loc, scale in CDF_CASES:
        cdfs.append(skewnorm_cdf(x, a, loc, scale))
        print(f"({x}, {a}, {loc}, {scale}, {mp.nstr(cdfs[-1], 20)}),")
    print("# MLE of skewnorm_sample(400, a=3, loc=2, scale=1.5, seed=20190801)")
    data = skewnorm_sample(400, 3.0, 2.0, 1.5, 20190801)
    print("first values", data[:3])
    a, xi, omega = mle(data, (3.0, 2.0, 1.5))
    print("a", mp.nstr(a, 20), "loc", mp.nstr(xi, 20), "scale", mp.nstr(omega, 20))
    print("loglik", mp.nstr(loglik(data, a, xi, omega), 20))
    exposures = []
    for p in EXPOSURE_POINTS:
        f = skewnorm_cdf(p, a, xi, omega)
        exposures.append(-log(f) / log(2))
        print(f"exposure at {p}: {mp.nstr(exposures[-1], 20)}")
    cross_check(owens, cdfs, data, (a, xi, omega), exposures)
