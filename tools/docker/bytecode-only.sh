#!/bin/sh
# bytecode-only.sh PATH...: used by the Dockerfile's build stage only. Replaces each Python module PATH (a .py file,
# or every module under a directory) by its bytecode in the legacy place (x.py -> x.pyc beside it, which Python
# imports when no x.py exists) and drops its __pycache__ entry, so the image carries the code once instead of source
# plus bytecode. For generated code nobody reads (asyncua's OPC UA node tables: megabytes of constants); a traceback
# through it shows file and line without the source text.
set -eu
py=/opt/edgewatch/bin/python
for p in "$@"; do
  test -e "$p" || { echo "bytecode-only.sh: $p does not exist" >&2; exit 1; }
  "$py" -m compileall -q -b "$p"
  if [ -d "$p" ]; then
    find "$p" -name '*.py' -delete
    find "$p" -depth -type d -name __pycache__ -exec rm -rf {} +
  else
    rm -f "$p" "$(dirname "$p")/__pycache__/$(basename "$p" .py)".cpython-*.pyc
  fi
done
