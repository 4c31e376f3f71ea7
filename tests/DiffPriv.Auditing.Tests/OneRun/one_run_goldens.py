#!/usr/bin/python3
"""Recomputes the reference values that OneRunEpsilonTests asserts, with JAX Privacy's own one-run functions.

Upstream source (a directory; nothing is downloaded):

  JAX_PRIVACY  google-deepmind/jax_privacy @ 8967688c26d46f3b74bfdfe61ef1f984b887abab; its jax_privacy/auditing.py is
               imported on its own (it needs dp_accounting, numpy and scipy; JAX is never imported). Its
               _one_run_p_value is the p-value of Steinke, Nasr & Jagielski (NeurIPS 2023), appendix algorithm.
  DP_ACCOUNTING the python/dp_accounting folder of google/differential-privacy (imported by auditing.py only).

  mkdir jp && git -C jax_privacy show 8967688c26d46f3b74bfdfe61ef1f984b887abab:jax_privacy/auditing.py > jp/auditing.py
  PYTHONPATH=$DP_ACCOUNTING:jp /usr/bin/python3 tests/DiffPriv.Auditing.Tests/OneRun/one_run_goldens.py

The ε bounds are JAX Privacy's p-value solved for p = 1 − confidence with scipy's brentq at xtol 1e-13 (its own
_epsilon_one_run uses xtol 1e-6). Values confirmed with Debian 12's python3 3.11.2, numpy 1.24.2 and scipy 1.10.1.
"""

import auditing
import scipy.optimize

P_VALUES = [
    # m, r, v, eps, delta
    (1000, 100, 80, 1.0, 1e-5),
    (1000, 100, 80, 1.0, 0.0),
    (1000, 1000, 600, 0.3, 1e-5),
    (50, 20, 20, 2.0, 1e-3),
    (10000, 200, 190, 2.5, 1e-5),
    (1000, 1000, 1000, 5.0, 1e-5),
    (1000, 10, 3, 0.5, 1e-5),
]

BOUNDS = [
    # m, r, v, delta, confidence
    (1000, 100, 100, 1e-5, 0.95),
    (1000, 1000, 1000, 1e-5, 0.95),
    (1000, 1000, 1000, 0.0, 0.95),
    (1000, 1000, 600, 1e-5, 0.95),
    (2000, 400, 330, 1e-5, 1 - 0.05 / 7),  # Bonferroni over 7 guess counts
    (10000, 500, 450, 1e-5, 0.95),
    (100, 20, 19, 1e-3, 0.9),
]


def bound(m, r, v, delta, confidence):
    alpha = 1 - confidence
    if auditing._one_run_p_value(m, r, v, 0.0, delta) > alpha:
        return 0.0
    lo, hi = 0.0, 1.0
    while auditing._one_run_p_value(m, r, v, hi, delta) <= alpha:
        lo, hi = hi, 2 * hi
    return scipy.optimize.brentq(lambda e: alpha - auditing._one_run_p_value(m, r, v, e, delta), lo, hi, xtol=1e-13)


for case in P_VALUES:
    print("p-value", case, repr(float(auditing._one_run_p_value(*case))))
for case in BOUNDS:
    print("bound", case, repr(float(bound(*case))))
