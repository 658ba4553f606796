#!/bin/sh
# install.sh DEST PKG...: used by the Dockerfile's build stage only.
# Installs the edgewatch packages PKG (common, core, ingest, ...; wheels in /wheels, which also resolve the edgewatch
# packages they depend on, e.g. features -> bearing, inference -> detect) with their third-party dependencies pinned
# by /src/requirements.lock, for the venv /opt/edgewatch. DEST=/opt/edgewatch installs into the venv itself (the
# shared layer); any other DEST is an overlay prefix holding only what the venv lacks (pip --prefix skips what the
# venv has). Each service's res/ (configuration.yaml, profiles, rules) goes beside its package. Test suites of
# dependencies are dropped. EDGEWATCH_ONNXRUNTIME replaces the onnxruntime distribution (inference-gpu).
set -eu
dest=$1
shift
pip="/opt/build/bin/pip --python /opt/edgewatch/bin/python install -q -c /src/requirements.lock --find-links /wheels"
[ "$dest" = /opt/edgewatch ] || pip="$pip --prefix $dest"
wheels=""
for p in "$@"; do
  wheels="$wheels $(ls /wheels/edgewatch_"$p"-*.whl)"
done
if [ -n "${EDGEWATCH_ONNXRUNTIME:-}" ]; then
  # shellcheck disable=SC2086
  $pip --no-deps $wheels
  $pip onnx numpy "$EDGEWATCH_ONNXRUNTIME"
else
  # shellcheck disable=SC2086
  $pip $wheels
fi
for p in "$@"; do
  if [ -d "/src/services/$p/res" ]; then
    pkg=$(find "$dest" -type d -path "*/site-packages/edgewatch/$p" | head -n 1)
    cp -r "/src/services/$p/res" "$pkg/res"
  fi
done
# what no service runs: dependencies' test suites, type stubs, C headers, zstandard's alternative cffi backend
# (the C backend is the one imported), numpy's deprecated distutils (never imported by `import numpy` nor by
# `from numpy import *`), its PyInstaller hook and its SIMD test module (_simd: numpy's own tests only).
# numpy.f2py stays: `from numpy import *` loads it.
find "$dest" -depth -type d -path '*/site-packages/*' \( -name tests -o -name include \) -exec rm -rf {} +
find "$dest" -path '*/site-packages/*' \( -name '*.pyi' -o -name '*.pxd' -o -name '_cffi.cpython-*.so' \) -delete
find "$dest" -path '*/site-packages/zstandard/backend_cffi.py' -delete
find "$dest" -depth -type d \
  \( -path '*/site-packages/numpy/distutils' -o -path '*/site-packages/numpy/_pyinstaller' \) -exec rm -rf {} +
find "$dest" -path '*/site-packages/numpy/_core/_simd.cpython-*.so' -delete
# debug symbols: several extension modules ship them (zstandard 10 MB, pysoem 3 MB, cryptography 3 MB, PyYAML 2 MB,
# msgpack 1.4 MB). Only extension modules (plain shared libraries, such as onnxruntime's, stay as shipped), and only
# those auditwheel left alone: the vendored libraries (*.libs/) and the extension modules linking them carry an
# RPATH written by auditwheel's patchelf, and strip corrupts such files; those are skipped.
# Each stripped module is imported afterwards (with the overlay on the path), so a damaged one fails the build.
stripped=""
for f in $(find "$dest" -path '*/site-packages/*' \( -name '*.cpython-*.so' -o -name '*.abi3.so' \) -type f \
  ! -path '*.libs/*'); do
  if ! readelf -d "$f" | grep -qE '\((RPATH|RUNPATH)\)'; then
    strip --strip-unneeded "$f"
    stripped="$stripped $f"
  fi
done
if [ -n "$stripped" ]; then
  # shellcheck disable=SC2086
  /opt/edgewatch/bin/python - $stripped <<'PY'
import importlib, sys
from pathlib import Path
for f in map(Path, sys.argv[1:]):
    parts = str(f).split("/site-packages/")
    sys.path.insert(0, parts[0] + "/site-packages")
    module = parts[1].split(".", 1)[0].replace("/", ".")
    importlib.import_module(module)
PY
fi
