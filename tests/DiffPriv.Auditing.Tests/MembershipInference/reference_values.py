#!/usr/bin/python3
"""Recomputes the reference values that the membership-inference tests in this folder assert.

Each check prints one line: OK or DIFF, the C# test class, what was computed, the value the test asserts and the
tolerance used here. "stated" checks confirm that a number or test the C# tests quote occurs in the upstream file at
the pinned commit. Exit status 1 if any check fails.

Upstream source (a directory; nothing is downloaded):

  TF_PRIVACY   tensorflow/privacy @ 03035d5d4a271ac795dab80f5bc1cef82fc3d462; its privacy_tests package is imported
               (pure numpy/scipy/scikit-learn/statsmodels code; TensorFlow is never imported)

scikit-learn, scipy and statsmodels are the installed ones. The values were confirmed with Debian 12's python3 3.11.2
and python3-numpy 1.24.2, python3-scipy 1.10.1, python3-sklearn 1.2.1, python3-statsmodels 0.13.5,
python3-pandas 1.5.3, python3-immutabledict 2.2.3. scikit-learn < 1.3 sets roc_curve's first threshold to
max(score) + 1; from 1.3 on it is +inf (sklearn/metrics/_ranking.py, e.g. scikit-learn/scikit-learn @
294090479a3d756f785fc9512a8457f30ccb0ab8, whose roc_curve docstring shows `array([ inf, 0.8 , 0.4 , 0.35, 0.1 ])`):
the tests use +inf, so with an older scikit-learn the first threshold is checked against max(score) + 1 instead.

  git -C privacy archive 03035d5d4a271ac795dab80f5bc1cef82fc3d462 | tar -x -C tfp
  TF_PRIVACY=tfp /usr/bin/python3 tests/DiffPriv.Auditing.Tests/MembershipInference/reference_values.py
"""

import logging
import math
import os
import sys
import warnings

warnings.filterwarnings("ignore")
logging.disable(logging.WARNING)
sys.dont_write_bytecode = True

FAILURES = []


def _fmt(x):
    return repr(x) if isinstance(x, float) else str(x)


def _report(ok, test, label, computed, expected, tol):
    line = f"{'OK  ' if ok else 'DIFF'}  {test}: {label}: {_fmt(computed)}"
    if expected != "":
        line += f" vs {_fmt(expected)} ({tol})"
    print(line)
    if not ok:
        FAILURES.append(line)


def check(test, label, computed, expected, atol=0.0, rtol=0.0):
    if isinstance(expected, (list, tuple)):
        computed = list(computed)
        if len(computed) != len(expected):
            _report(False, test, label + " length", len(computed), len(expected), "")
            return
        for i, (c, e) in enumerate(zip(computed, expected)):
            check(test, f"{label}[{i}]", c, e, atol, rtol)
        return
    c, e = float(computed), float(expected)
    ok = (c == e) or (math.isfinite(e) and abs(c - e) <= atol + rtol * abs(e))
    tol = " ".join(s for s in (f"atol {atol:g}" if atol else "", f"rtol {rtol:g}" if rtol else "") if s) or "exact"
    _report(ok, test, label, c, e, tol)


def stated(test, relpath, *literals):
    with open(os.path.join(TFP, relpath), encoding="utf-8") as f:
        text = f.read()
    for lit in literals:
        _report(lit in text, test, f"stated in {relpath}", lit, "", "")


TFP = os.environ.get("TF_PRIVACY")
if not TFP:
    sys.exit("TF_PRIVACY is not set; see the docstring of this script")
TFP = os.path.abspath(TFP)
sys.path.insert(0, TFP)
sys.skip_tf_privacy_import = True  # tensorflow_privacy/__init__.py then imports no TensorFlow

import numpy as np  # noqa: E402
import scipy  # noqa: E402
import scipy.stats  # noqa: E402
import sklearn  # noqa: E402
import statsmodels  # noqa: E402
from sklearn import metrics  # noqa: E402
from statsmodels.stats import proportion  # noqa: E402
from tensorflow_privacy.privacy.privacy_tests import epsilon_lower_bound as elb  # noqa: E402
from tensorflow_privacy.privacy.privacy_tests.membership_inference_attack import membership_inference_attack as mia  # noqa: E402
from tensorflow_privacy.privacy.privacy_tests.membership_inference_attack.data_structures import (  # noqa: E402
    AttackInputData, AttackType)

print(f"python {sys.version.split()[0]}, numpy {np.__version__}, scipy {scipy.__version__}, "
      f"scikit-learn {sklearn.__version__}, statsmodels {statsmodels.__version__}")
SKLEARN_INF = tuple(int(p) for p in sklearn.__version__.split(".")[:2]) >= (1, 3)
MIA = "tensorflow_privacy/privacy/privacy_tests/membership_inference_attack/"
ELB_TEST = "tensorflow_privacy/privacy/privacy_tests/epsilon_lower_bound_test.py"


def first_threshold(scores):
    """What roc_curve puts before the largest score: +inf from scikit-learn 1.3 on, max + 1 before."""
    return math.inf if SKLEARN_INF else max(scores) + 1


def roc(y_true, y_score, **kw):
    fpr, tpr, thr = metrics.roc_curve(np.array(y_true), np.array(y_score, dtype=float), **kw)
    return list(fpr), list(tpr), list(thr)


# ---------------------------------------------------------------------------------------------------------------------
T = "RocCurveTests"
fpr, tpr, thr = roc([1, 1, 2, 2], [0.1, 0.4, 0.35, 0.8], pos_label=2)
check(T, "roc_curve docstring example fpr", fpr, [0, 0, 0.5, 0.5, 1])
check(T, "  tpr", tpr, [0, 0.5, 0.5, 1, 1])
check(T, "  thresholds", thr, [first_threshold([0.8]), 0.8, 0.4, 0.35, 0.1])
check(T, "  roc_auc_score", metrics.roc_auc_score([1, 1, 2, 2], [0.1, 0.4, 0.35, 0.8]), 0.75)

_, _, thr = roc([0, 0, 0, 0, 1, 1], [0.0, 0.2, 0.5, 0.6, 0.7, 1.0], drop_intermediate=True)
check(T, "test_roc_curve_drop_intermediate thresholds", thr, [first_threshold([1.0]), 1.0, 0.7, 0.0])
_, _, thr = roc([0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1],
                [0.0, 0.1, 0.6, 0.6, 0.7, 0.8, 0.9, 0.6, 0.7, 0.8, 0.9, 0.9, 1.0], drop_intermediate=True)
check(T, "  with repeated scores", thr, [first_threshold([1.0]), 1.0, 0.9, 0.7, 0.6, 0.0])

for y, s, efpr, etpr, eauc in [([0, 1], [0, 1], [0, 0, 1], [0, 1, 1], 1.0), ([0, 1], [1, 0], [0, 1, 1], [0, 0, 1], 0.0),
                                ([1, 0], [1, 1], [0, 1], [0, 1], 0.5), ([1, 0], [1, 0], [0, 0, 1], [0, 1, 1], 1.0),
                                ([1, 0], [0.5, 0.5], [0, 1], [0, 1], 0.5)]:
    fpr, tpr, _ = roc(y, s)
    check(T, f"test_roc_curve_toydata y {y} score {s} fpr", fpr, efpr)
    check(T, "  tpr", tpr, etpr)
    check(T, "  roc_auc_score", metrics.roc_auc_score(y, s), eauc)

stated(T, MIA + "membership_inference_attack_test.py", "def test_run_attack_threshold_calculates_correct_auc",
       "loss_train=np.array([0.1, 0.2, 1.3, 0.4, 0.5, 0.6])", "loss_test=np.array([1.1, 1.2, 1.3, 0.4, 1.5, 1.6])",
       "np.testing.assert_almost_equal(result.roc_curve.get_auc(), 0.83, decimal=2)",
       "def test_calculates_correct_tpr_fpr", "self.assertAlmostEqual(tpr, np.mean(loss_train <= threshold))")
loss_train = np.array([0.1, 0.2, 1.3, 0.4, 0.5, 0.6])
loss_test = np.array([1.1, 1.2, 1.3, 0.4, 1.5, 1.6])
result = mia._run_attack(AttackInputData(loss_train=loss_train, loss_test=loss_test), AttackType.THRESHOLD_ATTACK)
r = result.roc_curve
check(T, "TF Privacy threshold attack AUC", r.get_auc(), 5 / 6, atol=1e-15)
check(T, "  attacker advantage", r.get_attacker_advantage(), 2 / 3, atol=1e-15)
check(T, "  PPV", r.get_ppv(), 1.0)
check(T, "  tpr", r.tpr, [0, 1 / 6, 1 / 3, 1 / 2, 5 / 6, 5 / 6, 1, 1], atol=1e-15)
check(T, "  fpr", r.fpr, [0, 0, 0, 1 / 6, 1 / 6, 1 / 2, 2 / 3, 1], atol=1e-15)
check(T, "  thresholds (loss scale)", r.thresholds,
      [-first_threshold([-0.1]), 0.1, 0.2, 0.4, 0.6, 1.2, 1.3, 1.6], atol=1e-15)
stated(T, MIA + "data_structures_test.py", "class RocCurveTest", "tpr=np.array([0.0, 0.5, 1.0])",
       "self.assertEqual(roc.get_auc(), 0.5)", "self.assertEqual(roc.get_attacker_advantage(), 0.0)",
       "self.assertEqual(roc.get_ppv(), 0.5)")

# ---------------------------------------------------------------------------------------------------------------------
T = "MembershipInferenceAuditTests"
stated(T, MIA + "membership_inference_attack_test.py", "def test_run_attack_data_size",
       "def test_run_attack_trained_sets_membership_scores")

# ---------------------------------------------------------------------------------------------------------------------
T = "FeaturesTests"
stated(T, MIA + "data_structures_test.py", "def test_get_xe_loss_from_logits", "[[-0.3, 1.5, 0.2], [2, 3, 0.5]]",
       "[[2, 0.3, 0.2], [0.3, -0.5, 0.2]]", "0.36313551", "def test_get_entropy")
train_logits, test_logits = np.array([[-0.3, 1.5, 0.2], [2, 3, 0.5]]), np.array([[2, 0.3, 0.2], [0.3, -0.5, 0.2]])
labelled = AttackInputData(logits_train=train_logits, logits_test=test_logits,
                           labels_train=np.array([1, 0]), labels_test=np.array([0, 2]))
unlabelled = AttackInputData(logits_train=train_logits, logits_test=test_logits)
check(T, "modified entropy, train", labelled.get_entropy_train(), [0.1644519368, 1.8338596368], atol=1e-9)
check(T, "modified entropy, test", labelled.get_entropy_test(), [0.1128649762, 0.86399717], atol=1e-9)
check(T, "entropy, train", unlabelled.get_entropy_train(), [0.8164777102, 0.7667845441], atol=1e-9)
check(T, "entropy, test", unlabelled.get_entropy_test(), [0.749727603, 1.0473146023], atol=1e-9)
check(T, "cross-entropy, train", labelled.get_loss_train(), [0.36313551, 1.37153903], atol=1e-8)
one_hot = AttackInputData(logits_train=np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]),
                          logits_test=np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]),
                          labels_train=np.array([0, 2]), labels_test=np.array([0, 2]))
check(T, "modified entropy of one-hot probabilities, test", one_hot.get_entropy_test(), [2 * 69.07755279, 0], atol=1e-7)

# ---------------------------------------------------------------------------------------------------------------------
T = "ClopperPearsonTests"
for k, n, conf, lo, hi, tol_lo, tol_hi in [(9, 24, 0.95, 0.1879929, 0.5940636, 5e-8, 5e-8),
                                           (1, 1497, 0.9, 3.426347e-05, 3.164954e-03, 5e-12, 5e-10)]:
    l, h = proportion.proportion_confint(k, n, alpha=1 - conf, method="beta")
    check(T, f"Clopper-Pearson ({k} of {n}, {conf}) lower [statsmodels]", l, lo, atol=tol_lo)
    check(T, "  upper [statsmodels]", h, hi, atol=tol_hi)
    check(T, "  lower [scipy beta.ppf]", scipy.stats.beta.ppf((1 - conf) / 2, k, n - k + 1), lo, atol=tol_lo)
    check(T, "  upper [scipy beta.ppf]", scipy.stats.beta.ppf(1 - (1 - conf) / 2, k + 1, n - k), hi, atol=tol_hi)

stated(T, "tensorflow_privacy/privacy/privacy_tests/epsilon_lower_bound.py", ">>> tp, fp = np.array([100, 90]), np.array([10, 5])",
       ">>> pos_size, neg_size = 110, 80", ">>> rb = elb.RatioBound(tp, fp, pos_size, neg_size, 0.05)")
rb = elb.RatioBound(np.array([100, 90]), np.array([10, 5]), 110, 80, 0.05)
check(T, "TF Privacy RatioBound docstring example, CLOPPER_PEARSON", rb.compute_bound(elb.BoundMethod.CLOPPER_PEARSON),
      [3.8513399089, 5.2429215136], atol=5e-11)

# ---------------------------------------------------------------------------------------------------------------------
T = "ClopperPearsonTests and EmpiricalEpsilonTests"
stated(T, ELB_TEST, "self.assertAlmostEqual(np.log(res), 4.54, places=2)")
res = elb.RatioBound(500, 0, 500, 500, 0.01).compute_bound(elb.BoundMethod.CLOPPER_PEARSON)
check(T, "ln CLOPPER_PEARSON ratio, tp 500 of 500, fp 0 of 500, α 0.01", math.log(res), 4.54, atol=0.005)

print()
if FAILURES:
    print(f"{len(FAILURES)} check(s) differ:")
    print("\n".join(FAILURES))
    sys.exit(1)
print("all checks OK")
