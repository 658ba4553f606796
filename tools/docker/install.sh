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
# (the C backend is the one imported). numpy.f2py stays: scipy's `from numpy import *` loads it.
find "$dest" -depth -type d -path '*/site-packages/*' \( -name tests -o -name include \) -exec rm -rf {} +
find "$dest" -path '*/site-packages/*' \( -name '*.pyi' -o -name '*.pxd' -o -name '_cffi.cpython-*.so' \) -delete
find "$dest" -path '*/site-packages/zstandard/backend_cffi.py' -delete
# debug symbols: zstandard's C backend ships 10 MB of them. Only that module: the vendored libraries (*.libs/) and
# the extension modules linking them were rewritten by auditwheel's patchelf, and strip corrupts such files.
find "$dest" -path '*/site-packages/zstandard/backend_c.cpython-*.so' -type f -exec strip --strip-unneeded {} +
