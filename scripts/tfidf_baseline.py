#!/usr/bin/env python3
"""Non-private TF-IDF + logistic-regression baseline for a text-classification CSV pair.

A reference point for DP text classifiers: what a plain linear model reaches on the same split. Reads a train CSV and
a test CSV (RFC 4180, header row, UTF-8), fits scikit-learn's TfidfVectorizer (word unigrams and bigrams, sublinear tf,
min_df 2) and LogisticRegression (max_iter 1000) on the training rows, and prints one JSON object:
{"test_accuracy": ..., "train_rows": ..., "test_rows": ..., "sklearn_version": ...}.

Needs scikit-learn (Debian: apt-get install python3-sklearn, then run with the system /usr/bin/python3). The test
suite and CI never run this script. Example:

    diffpriv fetch amazon-reviews --csv ~/amazon-csv
    /usr/bin/python3 scripts/tfidf_baseline.py ~/amazon-csv/amazon-reviews-train.csv ~/amazon-csv/amazon-reviews-test.csv
"""

import argparse
import csv
import json
import sys


def read_table(path, text_column, target):
    """Returns (texts, labels) from a CSV file with a header row; exits with a one-line error naming the problem."""
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        header = reader.fieldnames or []
        for column, option in ((text_column, "--text-column"), (target, "--target")):
            if column not in header:
                sys.exit(f"error: {path}: no column '{column}' ({option}); columns: {', '.join(header)}")
        texts, labels = [], []
        for row in reader:
            texts.append(row[text_column])
            labels.append(row[target])
    if not texts:
        sys.exit(f"error: {path}: no records")
    return texts, labels


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("train", help="training CSV file")
    parser.add_argument("test", help="test CSV file")
    parser.add_argument("--text-column", default="text", help="column holding the text (default: text)")
    parser.add_argument("--target", default="label", help="column holding the class label (default: label)")
    args = parser.parse_args(argv)

    try:
        import sklearn
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.metrics import accuracy_score
    except ImportError:
        sys.exit("error: scikit-learn is not installed (Debian: apt-get install python3-sklearn; run with /usr/bin/python3)")

    train_texts, train_labels = read_table(args.train, args.text_column, args.target)
    test_texts, test_labels = read_table(args.test, args.text_column, args.target)

    vectorizer = TfidfVectorizer(sublinear_tf=True, ngram_range=(1, 2), min_df=2)
    model = LogisticRegression(max_iter=1000)
    model.fit(vectorizer.fit_transform(train_texts), train_labels)
    predicted = model.predict(vectorizer.transform(test_texts))

    print(json.dumps({
        "test_accuracy": accuracy_score(test_labels, predicted),
        "train_rows": len(train_texts),
        "test_rows": len(test_texts),
        "sklearn_version": sklearn.__version__,
    }))


if __name__ == "__main__":
    main()
