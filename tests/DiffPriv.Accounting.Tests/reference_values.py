#!/usr/bin/python3
"""Recomputes the reference values that DiffPriv.Accounting.Tests asserts, with the upstream code at pinned commits.

Each check prints one line: OK or DIFF, the C# test it belongs to, what was computed, the value the test asserts and
the tolerance used here (the test's own, or tighter). "stated" checks confirm that a number the tests quote from an
upstream test, README or notebook really occurs in that file at the pinned commit. Exit status 1 if any check fails.

Upstream sources (give each as a directory; nothing is downloaded):

  DP_ACCOUNTING   google/differential-privacy @ b5b0286e313b64a692abfc8c528d54ef47d960a0 (dp_accounting 0.6.0),
                  the folder python/dp_accounting
  TF_PRIVACY      tensorflow/privacy @ 03035d5d4a271ac795dab80f5bc1cef82fc3d462 (its pure-Python analysis files
                  only; TensorFlow is never imported)
  TF_PRIVACY_OLD  tensorflow/privacy @ 38fe4aa984ca5da36416c8b5b4197fbad105b020, the last commit with
                  tensorflow_privacy/privacy/analysis/rdp_accountant_test.py (removed by 4cb0a11c4b73…); optional,
                  only for the numbers quoted from that test
  OPACUS          pytorch/opacus @ fc3fd6bf5422b83da83bfcdcdbcecb0118ac42f3 (1.4.0); only its numpy/scipy analysis
                  files are loaded (torch is not needed)

Environment the values were confirmed with: Debian 12's python3 3.11.2 and python3-numpy 1.24.2, python3-scipy 1.10.1,
python3-mpmath 1.2.1, python3-absl 0.15.0, python3-attr 22.2.0 (dp_accounting asks for newer absl/attrs; the code
used here runs on these). For example:

  mkdir -p gdp tfp tfp-old opacus
  git -C differential-privacy archive b5b0286e313b64a692abfc8c528d54ef47d960a0 python/dp_accounting | tar -x -C gdp
  git -C privacy archive 03035d5d4a271ac795dab80f5bc1cef82fc3d462 | tar -x -C tfp
  git -C privacy archive 38fe4aa984ca5da36416c8b5b4197fbad105b020 tensorflow_privacy/privacy/analysis | tar -x -C tfp-old
  git -C opacus archive fc3fd6bf5422b83da83bfcdcdbcecb0118ac42f3 opacus | tar -x -C opacus
  DP_ACCOUNTING=gdp/python/dp_accounting TF_PRIVACY=tfp TF_PRIVACY_OLD=tfp-old OPACUS=opacus \\
      /usr/bin/python3 tests/DiffPriv.Accounting.Tests/reference_values.py
"""

import ast
import importlib.util
import logging
import math
import os
import sys
import warnings
from typing import Optional

warnings.filterwarnings("ignore")
logging.disable(logging.WARNING)
sys.dont_write_bytecode = True

FAILURES = []


def _fmt(x):
    return repr(x) if isinstance(x, float) else str(x)


def check(test, label, computed, expected, atol=0.0, rtol=0.0):
    """OK when |computed − expected| ≤ atol + rtol·|expected| (both infinite and equal also counts)."""
    if isinstance(expected, (list, tuple)):
        for i, (c, e) in enumerate(zip(computed, expected)):
            check(test, f"{label}[{i}]", c, e, atol, rtol)
        if len(computed) != len(expected):
            _report(False, test, label + " length", len(computed), len(expected), "")
        return
    c, e = float(computed), float(expected)
    ok = (c == e) or (math.isfinite(e) and abs(c - e) <= atol + rtol * abs(e))
    tol = " ".join(s for s in (f"atol {atol:g}" if atol else "", f"rtol {rtol:g}" if rtol else "") if s) or "exact"
    _report(ok, test, label, c, e, tol)


def check_true(test, label, condition, detail=""):
    _report(bool(condition), test, label, detail, "", "")


def stated(test, root, relpath, *literals):
    """The literals occur verbatim in upstream file relpath (under checkout root)."""
    if root is None:
        print(f"SKIP  {test}: {relpath} (checkout not given)")
        return
    with open(os.path.join(root, relpath), encoding="utf-8") as f:
        text = f.read()
    for lit in literals:
        _report(lit in text, test, f"stated in {relpath}", lit, "", "")


def _report(ok, test, label, computed, expected, tol):
    line = f"{'OK  ' if ok else 'DIFF'}  {test}: {label}: {_fmt(computed)}"
    if expected != "":
        line += f" vs {_fmt(expected)} ({tol})"
    print(line)
    if not ok:
        FAILURES.append(line)


def env_dir(name, required=True):
    path = os.environ.get(name)
    if not path:
        if required:
            sys.exit(f"{name} is not set; see the docstring of this script")
        return None
    return os.path.abspath(path)


def load_file(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


DPA = env_dir("DP_ACCOUNTING")
TFP = env_dir("TF_PRIVACY")
TFP_OLD = env_dir("TF_PRIVACY_OLD", required=False)
OPACUS = env_dir("OPACUS", required=False)

sys.path.insert(0, DPA)
sys.path.insert(0, TFP)
sys.skip_tf_privacy_import = True  # tensorflow_privacy/__init__.py then imports no TensorFlow

import dp_accounting  # noqa: E402
import mpmath  # noqa: E402
import numpy as np  # noqa: E402
import scipy  # noqa: E402
from dp_accounting import gaussian_mechanism  # noqa: E402
from dp_accounting.pld import pld_privacy_accountant, privacy_loss_distribution  # noqa: E402
from dp_accounting.rdp import rdp_privacy_accountant as rdp_lib  # noqa: E402
from tensorflow_privacy.privacy.analysis import compute_dp_sgd_privacy_lib as tfp_lib  # noqa: E402
from tensorflow_privacy.privacy.analysis import compute_noise_from_budget_lib as tfp_noise  # noqa: E402

print(f"python {sys.version.split()[0]}, numpy {np.__version__}, scipy {scipy.__version__}, mpmath {mpmath.__version__}")

D = dp_accounting
RDP = rdp_lib.RdpAccountant
REPLACE_ONE = D.NeighboringRelation.REPLACE_ONE
PLACES7 = 5e-8  # assertAlmostEqual(places=7)
TFP_ORDERS = [1.25, 1.5, 1.75, 2.0, 2.25, 2.5, 3.0, 3.5, 4.0, 4.5] + list(range(5, 64)) + [128, 256, 512]
TUTORIAL_ORDERS = [1 + x / 10.0 for x in range(1, 100)] + list(range(12, 64))
DPA_RDP_TEST = "dp_accounting/rdp/rdp_privacy_accountant_test.py"
DPA_PLD_TEST = "dp_accounting/pld/pld_privacy_accountant_test.py"
DPA_MECH_TEST = "dp_accounting/pld/privacy_loss_mechanism_test.py"
DPA_PLD_DIST_TEST = "dp_accounting/pld/privacy_loss_distribution_test.py"
TFP_LIB_TEST = "tensorflow_privacy/privacy/analysis/compute_dp_sgd_privacy_test.py"
TFP_OLD_TEST = "tensorflow_privacy/privacy/analysis/rdp_accountant_test.py"


def poisson_dp_sgd(q, sigma, steps):
    return D.SelfComposedDpEvent(D.PoissonSampledDpEvent(q, D.GaussianDpEvent(sigma)), steps)


def rdp_curve(orders, event, relation=None):
    a = RDP(orders) if relation is None else RDP(orders, relation)
    a.compose(event)
    return a


# ---------------------------------------------------------------------------------------------------------------------
T = "Rdp/RdpAccountantGoldenTests"

a = rdp_curve([3.14159], D.GaussianDpEvent(2.71828))
check(T, "R6.1 rdp(α 3.14159) of Gaussian(2.71828)", a._rdp[0], 0.21258427222, atol=PLACES7)

orders = [1.5, 2.5, 5, 50, 100, np.inf]
a = rdp_curve(orders, poisson_dp_sgd(0.01, 2.5, 50))
stated(T, DPA, DPA_RDP_TEST, "6.70579741e-04", "1.08548710e-03", "2.18075656e-03", "2.38460375e-02", "1.67416308e02")
check(T, "R6.13 Poisson(0.01, G 2.5)×50", list(a._rdp[:5]),
      [6.70579740668356e-04, 1.0854871043885562e-03, 2.1807565623080077e-03, 2.3846037538707728e-02, 167.41630754841827],
      rtol=1e-9)
check(T, "R6.13 order ∞", a._rdp[5], np.inf)

orders = list(range(2, 33))
eps, order = rdp_lib.compute_epsilon(orders, [1.1] * len(orders), 1e-5)
stated(T, DPA, DPA_RDP_TEST, "1.32783806176", "4.530877117")
check(T, "R6.19 pure-DP conversion ε", eps, 1.32783806176, atol=PLACES7)
check(T, "R6.19 order", order, 32)

# Old TF Privacy rdp_accountant_test.py (its compute_rdp was dp_accounting's sampled-Gaussian RDP by then).
stated(T, TFP_OLD, TFP_OLD_TEST, "compute_rdp(0.1, 2, 10, 5)", "0.07737", "3.4701e-3, 3.4701e-3, 4.6386e-3",
       "7.9297e2, 1.8174e3, 3.8656e3", "self.assertLessEqual(eps, 8.509656)")
a = rdp_curve([5], poisson_dp_sgd(0.1, 2, 10))
check(T, "old TFP compute_rdp(0.1, 2, 10, 5)", a._rdp[0], 0.07736968489795838, atol=1e-12)
orders = [1.001, 1.5, 2.5, 5, 50, 100, 256, 512, 1024, np.inf]
a = rdp_curve(orders, D.SelfComposedDpEvent(D.SampledWithoutReplacementDpEvent(1000, 10, D.GaussianDpEvent(2.5)), 50),
              REPLACE_ONE)
check(T, "old TFP sample without replacement", list(a._rdp[:9]),
      [0.003470097, 0.003470097, 0.004638608, 0.008763361, 0.09847415, 167.76639, 792.97443, 1817.35871, 3865.55029],
      rtol=1e-6)
orders = [1.25, 1.5, 1.75, 2, 2.5, 3, 4, 5, 6, 7, 8, 10, 12, 14, 16, 20, 24, 28, 32, 64, 256]
a = RDP(orders)
a.compose(poisson_dp_sgd(1e-4, 0.4, 40000))
a.compose(poisson_dp_sgd(0.1, 2, 100))
eps = a.get_epsilon(1e-5)
check_true(T, "old TFP check_composition: 5 < ε ≤ 8.509656", 5 < eps <= 8.509656, eps)

stated(T, TFP, "tensorflow_privacy/privacy/analysis/compute_dp_sgd_privacy_lib.py",
       "[1.25, 1.5, 1.75, 2.0, 2.25, 2.5, 3.0, 3.5, 4.0, 4.5]", "+ list(range(5, 64))", "+ [128, 256, 512]")
stated(T, TFP, "tutorials/mnist_dpsgd_tutorial_keras.py", "orders = [1 + x / 10. for x in range(1, 100)] + list(range(12, 64))")
for sigma, batch, epochs, e, o in [
        (1.1, 256, 1, 0.7405531758, 13.0), (1.1, 256, 2, 0.8067597422, 12.0), (1.1, 256, 15, 1.2813000161, 12.0),
        (1.1, 256, 30, 1.7952349667, 11.0), (1.1, 256, 60, 2.5970795197, 8.0), (1.3, 256, 15, 0.9545639531, 17.0),
        (0.7, 256, 45, 6.3731529732, 4.0), (1.3, 250, 15, 0.9422002182, 17.0), (1.3, 250, 3, 0.5631726490, 18.0),
        (1.1, 250, 60, 2.5629596989, 8.0), (1.1, 200, 60, 2.2567077569, 9.0), (0.77, 200, 60, 4.7977679098, 5.0)]:
    eps, order = tfp_lib.compute_dp_sgd_privacy(60000, batch, sigma, epochs, 1e-5)
    check(T, f"MNIST compute_dp_sgd_privacy(60000, {batch}, {sigma}, {epochs}, 1e-5) ε", eps, e, atol=PLACES7)
    check(T, "  optimal order", order, o)

a = rdp_curve(rdp_lib.DEFAULT_RDP_ORDERS, poisson_dp_sgd(256 / 60000, 1.1, 14063))
eps, order = a.get_epsilon_and_optimal_order(1e-5)
check(T, "MNIST defaults, dp_accounting default orders ε", eps, 2.596655529521983, atol=1e-10)
check(T, "  optimal order", order, 8.1)
check(T, "MNIST defaults compute_dp_sgd_privacy ε", tfp_lib.compute_dp_sgd_privacy(60000, 256, 1.1, 60, 1e-5)[0],
      2.5970795196566616, atol=1e-10)

for sigma, batch, steps, e, o in [
        (1.1, 256, 14063, 2.596655529521983, 8.1), (1.1, 256, 14040, 2.5943633557853634, None),
        (1.1, 250, 14400, 2.5617157170, 8.2), (1.1, 200, 18000, 2.2566354390, 9.1),
        (0.77, 200, 18000, 4.7853584069, 4.8), (1.1, 256, 7031, 1.7933392797, 10.6)]:
    eps, order = rdp_curve(TUTORIAL_ORDERS, poisson_dp_sgd(batch / 60000, sigma, steps)).get_epsilon_and_optimal_order(1e-5)
    check(T, f"tutorial compute_epsilon(σ {sigma}, batch {batch}, {steps} steps) ε", eps, e, atol=PLACES7)
    if o is not None:
        check(T, "  optimal order", order, o, atol=1e-12)

stated(T, TFP, "tutorials/README.md", "the current epsilon is: 1.03", "the current epsilon is: 1.11",
       "the current epsilon is: 3.01", "| 1.19 ", "| 7.10 ")
stated(T, TFP, "g3doc/tutorials/classification_privacy.ipynb", "1.18")
for sigma, batch, epochs, e, o in [
        (1.1, 256, 1, 1.0343416633, 13.0), (1.1, 256, 2, 1.1089540150, 13.0), (1.1, 256, 15, 1.5942119976, 12.0),
        (1.1, 256, 30, 2.1319202484, 10.9), (1.1, 256, 60, 3.0083810534, 8.8), (1.3, 256, 15, 1.1922644090, 17.0),
        (0.7, 256, 45, 7.1015594047, 3.9), (1.3, 250, 15, 1.1799006740, 17.0), (1.3, 250, 3, 0.7903529310, 18.0)]:
    steps = math.ceil(epochs * 60000 / batch)
    rdp = rdp_curve(TUTORIAL_ORDERS, poisson_dp_sgd(batch / 60000, sigma, steps))._rdp
    basic = [r - math.log(1e-5) / (o_ - 1) for r, o_ in zip(rdp, TUTORIAL_ORDERS)]
    k = int(np.argmin(basic))
    check(T, f"README basic conversion (σ {sigma}, batch {batch}, {epochs} epochs) ε", basic[k], e, atol=PLACES7)
    check(T, "  optimal order", TUTORIAL_ORDERS[k], o, atol=1e-12)

eps, order = rdp_curve(TUTORIAL_ORDERS, poisson_dp_sgd(250 / 60000, 0.1, 60 * 60000 // 250)).get_epsilon_and_optimal_order(1e-5)
check(T, "Keras tutorial compute_epsilon ε", eps, 66416.546, rtol=1e-7)
check(T, "  optimal order", order, 1.1)
eps, order = tfp_lib.compute_dp_sgd_privacy(60000, 250, 0.1, 60, 1e-5)
check(T, "Keras tutorial compute_dp_sgd_privacy ε", eps, 505446.41, rtol=1e-7)
check(T, "  optimal order", order, 1.25)

stated(T, TFP, TFP_LIB_TEST, "0.7242234026109595, 19.0", "1.4154988495444842, 13.0", "5907982.3113984, 1.25")
for n, batch, sigma, epochs, delta, e, o in [
        (60000, 150, 1.3, 15, 1e-5, 0.7242234026109595, 19.0), (100000, 100, 1.0, 30, 1e-7, 1.4154988495444842, 13.0),
        (100000000, 1024, 0.1, 10, 1e-7, 5907982.3113984, 1.25)]:
    eps, order = tfp_lib.compute_dp_sgd_privacy(n, batch, sigma, epochs, delta)
    check(T, f"R2.1 compute_dp_sgd_privacy({n}, {batch}, {sigma}, {epochs}, {delta}) ε", eps, e,
          **({"rtol": 1e-9} if e > 1000 else {"atol": PLACES7}))
    check(T, "  optimal order", order, o)

stated(T, TFP, TFP_LIB_TEST, "_RDP, 10.8602036", "_RDP, 26.2880374", "_RDP, 3.2392676", "_RDP, 22.6248601",
       "_PLD, 10.1224946", "_PLD, 24.7160779", "_PLD, 2.4612381", "_PLD, 18.6977407")
RDP_T, PLD_T = tfp_lib.AccountantType.RDP, tfp_lib.AccountantType.PLD
for micro, q, e in [(False, None, 10.860203573969253), (True, None, 26.28803735996923),
                    (False, 1e-2, 3.2392676495007944), (True, 1e-2, 22.62486008488277)]:
    check(T, f"R2.2 example privacy RDP (microbatching {micro}, q {q})",
          tfp_lib._compute_dp_sgd_example_privacy(1.2, 0.7, 1e-5, micro, q, RDP_T), e, atol=1e-12)

stated(T, TFP, TFP_LIB_TEST, "occurring once per epoch:        13.376", "Poisson sampling (*):                      1.616")
check(T, "statement MNIST once per epoch", tfp_lib._compute_dp_sgd_example_privacy(60, 1.1, 1e-5, True, None, RDP_T),
      164.96115343425978, rtol=1e-9)
check(T, "statement MNIST Poisson", tfp_lib._compute_dp_sgd_example_privacy(60, 1.1, 1e-5, True, 256 / 60000, RDP_T),
      16.420494955076894, rtol=1e-9)
check(T, "statement R2.4 once per epoch", tfp_lib._compute_dp_sgd_example_privacy(5.0, 2.0, 1e-6, True, None, RDP_T),
      13.376, atol=5e-4)
check(T, "statement R2.4 Poisson", tfp_lib._compute_dp_sgd_example_privacy(5.0, 2.0, 1e-6, True, 64 / 10000, RDP_T),
      1.616, atol=5e-4)

check(T, "Gaussian(2.0), default orders, ε(1e-5)", rdp_curve(rdp_lib.DEFAULT_RDP_ORDERS, D.GaussianDpEvent(2.0)).get_epsilon(1e-5),
      2.165715659029443, atol=1e-10)

# ---------------------------------------------------------------------------------------------------------------------
T = "Rdp/RdpAccountantBehaviourTests"
o = list(rdp_lib.DEFAULT_RDP_ORDERS)
check_true(T, "DEFAULT_RDP_ORDERS: 156 orders, 1.1 … 10.9, 11 … 63, 128, 256, 512, 1024",
           len(o) == 156 and o[0] == 1.1 and o[98] == 10.9 and o[99] == 11 and o[151] == 63 and o[152:] == [128, 256, 512, 1024],
           len(o))

# ---------------------------------------------------------------------------------------------------------------------
T = "Rdp/SampledGaussianLogATests"
stated(T, DPA, DPA_RDP_TEST, "'q': 1e-7", "'order': 256.1")
for q, sigma, alpha, e in [(1e-4, 1.0, 1.5, 6.445198025030585e-09), (1e-7, 0.1, 1.01, 4.0034136195371197e-08),
                           (1e-5, 0.1, 256.1, 3263607.039788421), (0.1, 100, 20.5, 0.0001999181845798699),
                           (0.999, 100, 256.1, 3.2601080379730956), (0.01, 2.5, 1.5, 6.70579740668356e-06),
                           (0.01, 1.0, 2.5, 0.0003266580363609653)]:
    check(T, f"_compute_log_a_frac({q}, {sigma}, {alpha})", rdp_lib._compute_log_a_frac(q, sigma, alpha), e,
          atol=1e-15, rtol=1e-9)

# ---------------------------------------------------------------------------------------------------------------------
T = "Rdp/OpacusGoldenTests"
if OPACUS is None:
    print(f"SKIP  {T}: OPACUS not given")
else:
    stated(T, OPACUS, "opacus/tests/accountants_test.py", "self.assertAlmostEqual(epsilon, 7.32911117143)",
           "self.assertLess(6.59, epsilon)", "self.assertLess(epsilon, 6.6)")
    stated(T, OPACUS, "opacus/accountants/rdp.py", "DEFAULT_ALPHAS = [1 + x / 10.0 for x in range(1, 100)] + list(range(12, 64))")
    op_rdp = load_file("opacus_analysis_rdp", os.path.join(OPACUS, "opacus/accountants/analysis/rdp.py"))
    op_gdp = load_file("opacus_analysis_gdp", os.path.join(OPACUS, "opacus/accountants/analysis/gdp.py"))
    steps = int(90 / 0.04)
    rdp = op_rdp.compute_rdp(q=0.04, noise_multiplier=1.5, steps=steps, orders=TUTORIAL_ORDERS)
    eps, order = op_rdp.get_privacy_spent(orders=TUTORIAL_ORDERS, rdp=rdp, delta=1e-5)
    check(T, "Opacus RDP, σ 1.5, q 0.04, 2250 steps: ε", eps, 7.32911117143, atol=PLACES7)
    check(T, "  optimal order", order, 3.9, atol=1e-12)
    eps = op_gdp.compute_eps_poisson(steps=int(90 // 0.04), noise_multiplier=1.5, sample_rate=0.04, delta=1e-5)
    check_true(T, "Opacus GDP, 2249 steps: 6.59 < ε < 6.6", 6.59 < eps < 6.6, eps)
    eps = rdp_curve(TUTORIAL_ORDERS, poisson_dp_sgd(0.04, 1.5, 2249)).get_epsilon(1e-5)
    check_true(T, "dp_accounting RDP with Opacus's orders, 2249 steps: ε > 6.6", eps > 6.6, eps)

    # The exact moment at α = 3.9 by quadrature at 40 digits, with Opacus's RDP → (ε, δ) conversion.
    with mpmath.workdps(40):
        q, s, al = mpmath.mpf("0.04"), mpmath.mpf("1.5"), mpmath.mpf("3.9")
        f = lambda z: mpmath.npdf(z, 0, s) * ((1 - q) + q * mpmath.exp((2 * z - 1) / (2 * s * s))) ** al  # noqa: E731
        log_a = mpmath.log(mpmath.quad(f, [-mpmath.inf, -10, 0, 1, 10, mpmath.inf]))
        rdp = steps * log_a / (al - 1)
        eps = rdp - (mpmath.log(mpmath.mpf("1e-5")) + mpmath.log(al)) / (al - 1) + mpmath.log((al - 1) / al)
    check(T, "exact ε at α 3.9 (mpmath quadrature)", float(eps), 7.3291111714842, atol=1e-12)

# ---------------------------------------------------------------------------------------------------------------------
T = "Calibration/NoiseCalibrationTests"
import contextlib, io  # noqa: E401,E402
with contextlib.redirect_stdout(io.StringIO()):
    sigma = tfp_noise.compute_noise(60000, 256, 2.92, 60, 1e-5, 1e-6)
check(T, "TFP compute_noise(60000, 256, 2.92, 60, 1e-5, 1e-6)", sigma, 1.0304699439, atol=1e-6)

# multinomial_logistic.py imports TensorFlow at module level; run only its compute_dpsgd_noise_multiplier.
path = os.path.join(TFP, "tensorflow_privacy/privacy/logistic_regression/multinomial_logistic.py")
with open(path, encoding="utf-8") as fh:
    tree = ast.parse(fh.read())
fn = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "compute_dpsgd_noise_multiplier")
ns = {"math": math, "dp_accounting": dp_accounting, "Optional": Optional}
exec(compile(ast.Module(body=[fn], type_ignores=[]), path, "exec"), ns)
check(T, "TFP compute_dpsgd_noise_multiplier(5000, 10, 1e-5, 40, 10, 1e-3)",
      ns["compute_dpsgd_noise_multiplier"](5000, 10, 1e-5, 40, 10, 1e-3), 0.54329054935041, rtol=1e-12)

# ---------------------------------------------------------------------------------------------------------------------
T = "Pld/GaussianMechanismTests and PrivacyAccountantContractTests"
for sigma, delta, e in [(1.0, 1e-5, 4.377178095681133), (0.5, 1e-3, 7.581279924570115), (3.0, 1e-2, 0.5335140871111663),
                        (1.0, 0.1, 1.1603338527916218), (4.530877117, 1e-6, 0.9273923379974423)]:
    check(T, f"get_epsilon_gaussian({sigma}, {delta})", gaussian_mechanism.get_epsilon_gaussian(sigma, delta), e, atol=1e-11)
for eps, delta, e in [(1.0, 1e-5, 3.7306316348159374), (1.0, 1e-6, 4.224678889326828), (2.0, 1e-5, 1.9938124456435373),
                      (0.5, 1e-5, 7.031826675582503)]:
    check(T, f"get_sigma_gaussian({eps}, {delta})", gaussian_mechanism.get_sigma_gaussian(eps, delta), e, atol=1e-11)
stated(T, DPA, DPA_MECH_TEST, "0.12693674", "0.78760074", "0.02092364")

# ---------------------------------------------------------------------------------------------------------------------
T = "Pld/PldAccountantTests"
stated(T, DPA, DPA_PLD_TEST, "0.126936", "0.15594", "1e-14", "2.46964")
PLD = pld_privacy_accountant.PLDAccountant
a = PLD()
a.compose(D.GaussianDpEvent(2.0))
check(T, "PLD Gaussian(2.0) ε(1e-5)", a.get_epsilon(1e-5), 1.9930914079088082, atol=2e-9)
check(T, "exact Gaussian(2.0) ε(1e-5)", gaussian_mechanism.get_epsilon_gaussian(2.0, 1e-5), 1.9930914044151176, atol=1e-11)
lap = privacy_loss_distribution.from_laplace_mechanism(3, value_discretization_interval=1e-3).self_compose(40)
check(T, "basic example Laplace(3)×40 δ(10)", lap.get_delta_for_epsilon(10), 1.7856053220202864e-06, rtol=1e-9)
both = lap.compose(privacy_loss_distribution.from_gaussian_mechanism(5, value_discretization_interval=1e-3))
check(T, "basic example + Gaussian(5) δ(10)", both.get_delta_for_epsilon(10), 2.2397696464335686e-06, rtol=1e-9)
for micro, q, e in [(False, 0.01, 2.461238122698744), (True, 0.01, 18.697740739306447),
                    (False, None, 10.122494584709052), (True, None, 24.71607786158376)]:
    check(T, f"R2.2 example privacy PLD (microbatching {micro}, q {q})",
          tfp_lib._compute_dp_sgd_example_privacy(1.2, 0.7, 1e-5, micro, q, PLD_T), e, atol=1e-12)
a = PLD()
a.compose(poisson_dp_sgd(256 / 60000, 1.1, 14063))
check(T, "MNIST defaults PLD ε(1e-5)", a.get_epsilon(1e-5), 2.3817788079120428, rtol=1e-9)

# ---------------------------------------------------------------------------------------------------------------------
T = "Rdp/RdpTreeAggregationTests"
from dp_accounting import dp_event as DE  # noqa: E402  (not every event is exported at the top level)
REPLACE_SPECIAL = D.NeighboringRelation.REPLACE_SPECIAL
stated(T, DPA, DPA_RDP_TEST, "('eps20', 1.13, 19.74), ('eps2', 8.83, 2.04)")
for sigma, e, o in [(1.13, 18.709609893772754, 2.7), (8.83, 1.7731924496178202, 14.0)]:
    a = rdp_curve(TUTORIAL_ORDERS, DE.SingleEpochTreeAggregationDpEvent(sigma, 1600), REPLACE_SPECIAL)
    eps, order = a.get_epsilon_and_optimal_order(1e-6)
    check(T, f"StackOverflow tree σ {sigma}, 1600 steps, ε(1e-6)", eps, e, rtol=1e-12)
    check(T, "  optimal order", order, o)
a = rdp_curve(rdp_lib.DEFAULT_RDP_ORDERS,
              DE.SelfComposedDpEvent(DE.SingleEpochTreeAggregationDpEvent(1.5, [234, 234, 100]), 5), REPLACE_SPECIAL)
eps, order = a.get_epsilon_and_optimal_order(1e-5)
check(T, "5 epochs of trees [234, 234, 100], σ 1.5, ε(1e-5)", eps, 27.81184688377875, rtol=1e-12)
check(T, "  optimal order", order, 2.1, atol=1e-12)

# ---------------------------------------------------------------------------------------------------------------------
T = "Rdp/RdpDpAccountingEventsTests"
ADD_REMOVE = D.NeighboringRelation.ADD_OR_REMOVE_ONE
stated(T, DPA, DPA_RDP_TEST, "0.123301561", "2.302585092994046", "4.51085950651685")
check(T, "exponential mechanism ε 1, order 1", rdp_curve([1.0], DE.ExponentialMechanismDpEvent(1.0))._rdp[0], 0.123301561,
      atol=PLACES7)
check(T, "exponential mechanism ε 1, orders 1.5, 2, 10, 1000",
      list(rdp_curve([1.5, 2.0, 10.0, 1000.0], DE.ExponentialMechanismDpEvent(1.0))._rdp),
      [0.18580156148224458, 0.24830156148224458, 1.0, 1.0], rtol=1e-14)
check(T, "exponential mechanism ε 0.1, orders 1.5, 1000", list(rdp_curve([1.5, 1000.0], DE.ExponentialMechanismDpEvent(0.1))._rdp),
      [0.001874826427459834, 0.1], rtol=1e-9)
check(T, "exponential mechanism ε 1, ε(1e-6)", rdp_curve(None, DE.ExponentialMechanismDpEvent(1.0)).get_epsilon(1e-6),
      1.0057522259947587, rtol=1e-12)
check(T, "10 × permute-and-flip ε 0.5, ε(1e-6)",
      rdp_curve(None, DE.SelfComposedDpEvent(DE.PermuteAndFlipDpEvent(0.5), 10)).get_epsilon(1e-6), 4.9989813679296375, rtol=1e-12)
RR_ORDERS = [1.5, 2.5, 5, 50, 100, np.inf]
for p, k, rel, stated_values, computed in [
    (0.3, 10, REPLACE_SPECIAL, [1.5030552584146897, 1.7801182478869704, 1.9091969256833639, 1.9814516798923105, 1.9846954517418232, 1.9878743481543455],
     [1.5030552584146895, 1.7801182478869702, 1.9091969256833636, 1.9814516798923105, 1.9846954517418232, 1.9878743481543453]),
    (0.05, 20, REPLACE_SPECIAL, [2.8985312222056674, 2.9615414620514047, 2.982908949957726, 2.994685471627712, 2.9952141594692665, 2.995732273553991],
     [2.898531222205669, 2.9615414620514073, 2.9829089499577277, 2.9946854716277143, 2.995214159469268, 2.995732273553991]),
    (0.01, 3, REPLACE_SPECIAL, [3.851345343526459, 4.334924907685137, 4.503803908976894, 4.596895387863428, 4.601074578835478, 4.605170185988092],
     [3.851345343526465, 4.334924907685143, 4.5038039089769, 4.596895387863435, 4.601074578835483, 4.605170185988091]),
    (0.3, 10, REPLACE_ONE, [2.6946320226546314, 2.983865364028855, 3.11316970070507, 3.1854244842182466, 3.1886682560677593, 3.1918471524802814],
     [2.6946320226546305, 2.9838653640288553, 3.11316970070507, 3.185424484218246, 3.1886682560677593, 3.1918471524802814]),
    (0.05, 20, REPLACE_ONE, [5.850317703374384, 5.910360162307462, 5.930633082131939, 5.94180620835157, 5.942307807732949, 5.942799375126701],
     [5.850317703374385, 5.910360162307463, 5.930633082131941, 5.941806208351572, 5.94230780773295, 5.9427993751267]),
    (0.01, 3, REPLACE_ONE, [5.684126770932727, 5.692634596034571, 5.695421239467805, 5.696956976543137, 5.697025920968522, 5.697093486505405],
     [5.684126770932734, 5.69263459603458, 5.695421239467812, 5.696956976543144, 5.697025920968528, 5.697093486505405])]:
    stated(T, DPA, DPA_RDP_TEST, repr(stated_values[0]), repr(stated_values[-1]))
    check(T, f"randomized response p {p}, k {k}, {rel.name}", list(rdp_curve(RR_ORDERS, DE.RandomizedResponseDpEvent(p, k), rel)._rdp),
          computed, rtol=1e-15)
for rel, e in [(REPLACE_SPECIAL, 18.314206283985982), (REPLACE_ONE, 32.17714989518488)]:
    eps, order = rdp_curve(None, DE.SelfComposedDpEvent(DE.RandomizedResponseDpEvent(0.5, 4), 20), rel).get_epsilon_and_optimal_order(1e-6)
    check(T, f"20 × randomized response p 0.5, k 4, {rel.name}, ε(1e-6)", eps, e, rtol=1e-12)
    check(T, "  optimal order", order, 63)
a = rdp_curve(None, DE.SelfComposedDpEvent(DE.EpsilonDeltaDpEvent(0.1, 1e-7), 100))
check(T, "100 × (0.1, 1e-7), ε(1e-5)", a.get_epsilon(1e-5), 6.6123495971089294, rtol=1e-12)
check(T, "  extra δ", a._extra_delta, 9.999950500161699e-06, rtol=1e-12)
a = rdp_curve(None, DE.ComposedDpEvent([DE.EpsilonDeltaDpEvent(1.0, 1e-6), DE.GaussianDpEvent(2.0)]))
eps, order = a.get_epsilon_and_optimal_order(1e-5)
check(T, "(1, 1e-6) then Gaussian(2), ε(1e-5)", eps, 3.141419248387754, rtol=1e-12)
check(T, "  optimal order", order, 9.5, atol=1e-12)
check(T, "  δ(2)", a.get_delta(2.0), 0.013152144204092513, rtol=1e-12)
check(T, "50 × zCDP(0.01, 0.001), ε(1e-6)", rdp_curve(None, DE.SelfComposedDpEvent(DE.ZCDpEvent(0.01, 0.001), 50)).get_epsilon(1e-6),
      5.271539631154418, rtol=1e-12)
check(T, "30 × discrete Gaussian(4, 2, 10), ε(1e-6)",
      rdp_curve(None, DE.SelfComposedDpEvent(DE.DiscreteGaussianDpEvent(4.0, 2.0, 10), 30)).get_epsilon(1e-6), 17.161440103711584, rtol=1e-12)

# ---------------------------------------------------------------------------------------------------------------------
T = "Rdp/RdpRepeatAndSelectTests"
for g, sh, m, gb in [(0.1, 0, 3.9086503371292673, 0.09999999994359157), (0.1, 0.5, 6.58113883008419, 0.0999999999623315),
                     (0.0001, 2, 19998.00019998, 9.99999999949755e-05), (0.999, 0.5, 1.0007506881568875, 0.9989999998360872)]:
    check(T, f"_truncated_negative_binomial_mean({g}, {sh})", rdp_lib._truncated_negative_binomial_mean(g, sh), m, rtol=1e-15)
    check(T, f"_gamma_truncated_negative_binomial({sh}, {m})", rdp_lib._gamma_truncated_negative_binomial(sh, m), gb, rtol=1e-15)
RS_ORDERS = [2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 14, 16, 20, 24, 28, 32, 48, 64, 128, 256, 512, 1024]
for sh, sigma, first, last in [(0, 1, 1.5000000004656613, 512.5000000004657), (0.5, 10, 0.017500000698491933, 5.127500000698492),
                               (1, 0.1, 199.99999999999997, 51299.99999999999), (2, 1, 2.500000001396984, 513.500000001397)]:
    a = rdp_curve(RS_ORDERS, DE.RepeatAndSelectDpEvent(DE.GaussianDpEvent(sigma), 1, sh))
    check(T, f"mean 1, shape {sh}, Gaussian({sigma}), orders 2 and 1024", [a._rdp[0], a._rdp[-1]], [first, last], rtol=1e-9)
RUN = DE.SelfComposedDpEvent(DE.PoissonSampledDpEvent(0.01, DE.GaussianDpEvent(1.1)), 1000)
for run, mean, sh, e, o in [(DE.GaussianDpEvent(1.0), 10, 1, 8.963971978051392, 6.3), (DE.GaussianDpEvent(1.0), 10, 0, 7.859904322959164, 6.3),
                            (DE.GaussianDpEvent(1.0), 10, 0.5, 8.453901745880232, 6.3),
                            (DE.GaussianDpEvent(1.0), 10, np.inf, 10.70755939614865, 5.9),
                            (RUN, 20, 2, 4.545587967123975, 10.0), (RUN, 20, np.inf, 5.644960869048231, 9.1)]:
    eps, order = rdp_curve(None, DE.RepeatAndSelectDpEvent(run, mean, sh)).get_epsilon_and_optimal_order(1e-6)
    check(T, f"repeat-and-select({type(run).__name__}, mean {mean}, shape {sh}), ε(1e-6)", eps, e, rtol=1e-9)
    check(T, "  optimal order", order, o, atol=1e-12)
a = RDP()
a.compose(DE.GaussianDpEvent(2.0))
a.compose(DE.RepeatAndSelectDpEvent(DE.GaussianDpEvent(1.0), 10, 1), 3)
eps, order = a.get_epsilon_and_optimal_order(1e-6)
check(T, "Gaussian(2) then 3 × repeat-and-select(Gaussian(1), 10, 1), ε(1e-6)", eps, 22.43029758799834, rtol=1e-9)
check(T, "  optimal order", order, 4.4, atol=1e-12)

# ---------------------------------------------------------------------------------------------------------------------
T = "Pld/PldPmfTests"
stated(T, DPA, DPA_PLD_DIST_TEST, "0.62245933", "0.14855068", "0.22898999", "0.167710257", "0.343270190",
       "0.319116756", "0.126282046", "0.022697115", "0.020923636")

# ---------------------------------------------------------------------------------------------------------------------
T = "Pld/PrivacyLossMechanismTests"
stated(T, DPA, DPA_MECH_TEST, "0.0231362104090899", "0.1195051215523554", "0.0816951786585355", "0.5356298793262404",
       "0.2888308005139968", "0.0003341102928869332", "0.2211992169285951", "0.86749642", "0.67881797", "0.38292492",
       "0.020923636", "0.27768558", "0.21052945", "0.14204776", "0.076584985", "0.02337934", "0.00020196",
       "0.25918178", "0.1814346", "0.11631708", "0.051816131", "0.035738492", "0.012494629", "0.00229682",
       "0.6820994357113515", "0.929541389699331", "0.3519252431310541", "2.737735427805667", "2.150000710600199",
       "7.61985302416047e-24", "0.8413447460685429", "2.866515718791933e-07", "0.6914624612740131",
       "0.9999997133484281", "1.1285884059538324e-19", "0.9772498680518208", "9.028859644691143e-20",
       "0.7730757968548344", "0.9500688436551652", "0.52763345", "0.39346934", "0.86466472", "0.3243606497234246",
       "0.1401134521354217", "0.1180408020862099", "0.4039564635032081", "0.1741992102060086")
with mpmath.workdps(50):
    log_cdf = mpmath.log(mpmath.ncdf(-40))
check(T, "ln Φ(−40) (mpmath, 50 digits)", float(log_cdf), -804.6084420137538, rtol=1e-15)
check(T, "ln Φ(−40) (scipy.stats.norm.logcdf)", __import__("scipy.stats").stats.norm.logcdf(-40), -804.6084420137538, rtol=1e-13)

# ---------------------------------------------------------------------------------------------------------------------
T = "Numerics/LogMathTests (mpmath, 50 digits, rounded to double)"
with mpmath.workdps(50):
    mp = mpmath.mpf
    for x, e in [(1e-20, 1e-20), (1e-10, 1.00000000005e-10), (-1e-5, -9.9999500001666658e-06), (0.5, 0.6487212707001282),
                 (-1.0, -0.6321205588285577), (-100.0, -1.0), (10.0, 22025.465794806718)]:
        check(T, f"expm1({x})", float(mpmath.expm1(mp(x))), e, rtol=2.3e-16)
    for x, e in [(1e-20, 1e-20), (1e-10, 9.999999999500001e-11), (-1e-5, -1.0000050000333337e-05), (0.5, 0.4054651081081644),
                 (-0.5, -0.6931471805599453), (10.0, 2.3978952727983707), (-0.999, -6.907755278982136)]:
        check(T, f"log1p({x})", float(mpmath.log1p(mp(x))), e, rtol=2.3e-16)
    for x, e in [(0.1, 0.887537083981715), (0.46875, 0.507386526782062), (0.5, 0.4795001221869535), (1.0, 0.15729920705028513),
                 (2.0, 0.004677734981047266), (3.9, 3.4792248597231765e-08), (4.1, 6.700027654084918e-09),
                 (5.0, 1.537459794428035e-12), (10.0, 2.088487583762545e-45), (-0.2, 1.2227025892104784),
                 (-2.0, 1.9953222650189528), (0.0, 1.0)]:
        check(T, f"erfc({x})", float(mpmath.erfc(mp(x))), e, rtol=2.3e-16)
    for x, e in [(0.1, -0.11930497373739561), (0.3, -0.39843005144008525), (0.46875, -0.6784821856143961),
                 (0.5, -0.7350111298370844), (1.0, -1.8496055099332482), (2.0, -5.364941264616638),
                 (3.0, -10.720363041981113), (4.0, -17.987778312103007), (5.0, -27.200889545537436),
                 (10.0, -102.87988902484489), (26.0, -679.8311997631943), (27.0, -732.8688865078974),
                 (30.0, -903.9741171106439), (100.0, -10005.177585122665), (1000.0, -1000007.4801207219),
                 (1e5, -10000000012.08529), (1e8, -1.0000000000000018e+16), (-0.3, 0.28414589714140825),
                 (-1.0, 0.6112323176780705), (-3.0, 0.6931361352504468), (-30.0, 0.6931471805599453)]:
        check(T, f"ln erfc({x})", float(mpmath.log(mpmath.erfc(mp(x)))), e, rtol=2.3e-16)

print()
if FAILURES:
    print(f"{len(FAILURES)} check(s) differ:")
    print("\n".join(FAILURES))
    sys.exit(1)
print("all checks OK")
