#!/usr/bin/env python3
"""Non-private scikit-learn logistic-regression baseline for a table that `diffpriv train csv` trains on.

A reference point for DP tabular classifiers: what a plain, carefully preprocessed linear model reaches on the same split.
Reads a CSV (RFC 4180, header row, UTF-8) or WEKA ARFF file the way `diffpriv train csv` does: ARFF attribute types from
the header; a CSV column is numeric when every present value is a number; "", "?" and "NA" (and ARFF's ?) are missing.
The preprocessing uses every private statistic freely (it is the non-private reference): numeric columns get a median
imputation with a missing indicator and are standardised, categorical columns are one-hot encoded (unknown values
ignored); then LogisticRegression(max_iter=1000) with its default L2 penalty (C=1).

The test rows are those of --test FILE, or the records starting on the lines listed in --test-lines FILE (the
test-lines.txt that `diffpriv train csv` writes into its run folder, so both see exactly the same split). Prints one
JSON object: {"test_accuracy": ..., "majority_baseline": ..., "train_rows": ..., "test_rows": ..., "sklearn_version": ...}.

Needs scikit-learn (Debian: apt-get install python3-sklearn, then run with the system /usr/bin/python3). The test suite
and CI never run this script. Example:

    diffpriv train csv --data ~/.cache/diffpriv/credit-g/credit-g.arff --target class --out run1
    /usr/bin/python3 scripts/tabular_baseline.py ~/.cache/diffpriv/credit-g/credit-g.arff --target class --test-lines run1/test-lines.txt
"""

import argparse
import csv
import json
import math
import sys

MISSING = {"", "?", "NA"}


def read_csv(path):
    """Returns (names, kinds or None, rows), each row (start_line, values); values are str or None (ARFF '?')."""
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if header is None:
            sys.exit(f"error: {path}: the file is empty")
        rows, previous = [], reader.line_num
        for fields in reader:
            start, previous = previous + 1, reader.line_num
            if not fields:
                continue  # an empty line is no record
            rows.append((start, fields))
    return header, None, rows


def split_arff_values(text):
    """Splits one ARFF data line into values: ' or " quotes with backslash escapes; an unquoted ? is None."""
    values, i, n = [], 0, len(text)
    while True:
        while i < n and text[i] in " \t":
            i += 1
        if i < n and text[i] in "'\"":
            quote, i, value = text[i], i + 1, []
            while text[i] != quote:
                if text[i] == "\\":
                    i += 1
                    value.append({"n": "\n", "r": "\r", "t": "\t"}.get(text[i], text[i]))
                else:
                    value.append(text[i])
                i += 1
            values.append("".join(value))
            i = text.find(",", i + 1)
        else:
            end = text.find(",", i)
            raw = (text[i:] if end < 0 else text[i:end]).strip()
            values.append(None if raw == "?" else raw)
            i = end
        if i < 0:
            return values
        i += 1


def read_arff(path):
    names, kinds, rows, in_data = [], [], [], False
    with open(path, encoding="utf-8-sig") as f:
        for number, line in enumerate(f, start=1):
            text = line.strip()
            if not text or text.startswith("%"):
                continue
            if in_data:
                rows.append((number, split_arff_values(text)))
                continue
            keyword = text.split(None, 1)[0].lower()
            if keyword == "@attribute":
                rest = text.split(None, 1)[1]
                if rest[0] in "'\"":
                    close = rest.index(rest[0], 1)
                    name, kind = rest[1:close], rest[close + 1:].strip()
                else:
                    name, kind = rest.split(None, 1)
                kind_word = kind.split()[0].lower() if not kind.startswith("{") else "nominal"
                names.append(name)
                kinds.append({"numeric": "numeric", "real": "numeric", "integer": "numeric", "nominal": "categorical",
                              "string": "categorical"}.get(kind_word, "ignore"))
            elif keyword == "@data":
                in_data = True
    return names, kinds, rows


def is_missing(value):
    return value is None or value.strip() in MISSING


def number(value):
    try:
        x = float(value.strip())
    except ValueError:
        return None
    return x if math.isfinite(x) else None


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", help="the table: CSV or ARFF (by the extension .arff)")
    parser.add_argument("--target", required=True, help="the column holding the class")
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--test", help="a test table with the same columns")
    group.add_argument("--test-lines", help="test-lines.txt from a diffpriv run folder: the lines where the test records start")
    args = parser.parse_args(argv)

    try:
        import numpy as np
        import sklearn
        from sklearn.compose import ColumnTransformer
        from sklearn.impute import SimpleImputer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import OneHotEncoder, StandardScaler
    except ImportError:
        sys.exit("error: scikit-learn is not installed (Debian: apt-get install python3-sklearn; run with /usr/bin/python3)")

    def read(path):
        return read_arff(path) if path.lower().endswith(".arff") else read_csv(path)

    names, kinds, rows = read(args.data)
    if args.target not in names:
        sys.exit(f"error: {args.data}: no column '{args.target}'; columns: {', '.join(names)}")
    if args.test:
        test_names, _, test_rows = read(args.test)
        order = [test_names.index(name) for name in names]
        train_rows, test_rows = rows, [(line, [values[i] for i in order]) for line, values in test_rows]
    else:
        with open(args.test_lines, encoding="utf-8") as f:
            held = {int(line) for line in f if line.strip()}
        train_rows = [r for r in rows if r[0] not in held]
        test_rows = [r for r in rows if r[0] in held]
        if len(test_rows) != len(held):
            sys.exit(f"error: {args.test_lines}: {len(held) - len(test_rows)} listed lines start no record of {args.data}")

    t = names.index(args.target)
    if kinds is None:  # CSV: numeric when every present training value is a number
        kinds = ["numeric" if any(not is_missing(r[1][c]) for r in train_rows)
                 and all(is_missing(r[1][c]) or number(r[1][c]) is not None for r in train_rows) else "categorical"
                 for c in range(len(names))]
    numeric = [c for c in range(len(names)) if c != t and kinds[c] == "numeric"]
    categorical = [c for c in range(len(names)) if c != t and kinds[c] == "categorical"]

    def matrix(table):
        table = [r for r in table if not is_missing(r[1][t])]
        x = np.empty((len(table), len(numeric) + len(categorical)), dtype=object)
        for i, (_, values) in enumerate(table):
            for j, c in enumerate(numeric):
                x[i, j] = np.nan if is_missing(values[c]) else number(values[c])
            for j, c in enumerate(categorical):
                x[i, len(numeric) + j] = "(missing)" if is_missing(values[c]) else values[c].strip()
        return x, [values[t].strip() for _, values in table]

    x_train, y_train = matrix(train_rows)
    x_test, y_test = matrix(test_rows)
    k = len(numeric)
    preprocess = ColumnTransformer([
        ("numeric", make_pipeline(SimpleImputer(strategy="median", add_indicator=True), StandardScaler()), list(range(k))),
        ("categorical", OneHotEncoder(handle_unknown="ignore"), list(range(k, k + len(categorical)))),
    ])
    model = make_pipeline(preprocess, LogisticRegression(max_iter=1000))
    model.fit(x_train, y_train)
    accuracy = float(np.mean(model.predict(x_test) == np.array(y_test)))
    majority = max(y_test.count(c) for c in set(y_test)) / len(y_test)
    print(json.dumps({
        "test_accuracy": accuracy,
        "majority_baseline": majority,
        "train_rows": len(y_train),
        "test_rows": len(y_test),
        "sklearn_version": sklearn.__version__,
    }))


if __name__ == "__main__":
    main()
