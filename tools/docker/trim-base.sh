#!/bin/sh
# trim-base.sh: run once in the Dockerfile's base-trim stage, on BASE_IMAGE (the official python slim image, whose
# python lives in /usr/local, or a Debian base with Debian's python3 in /usr). Adds the non-root user and /data, then
# removes what no service image runs; the Dockerfile squashes the result into one layer.
#  - Debian packages no service runs (apt, the account tools and PAM, util-linux, e2fsprogs) removed through dpkg, so
#    /var/lib/dpkg/status, which image scanners read, stays true; dpkg's per-package file lists and scripts,
#    debconf's cache, apt's lists and caches
#  - the base python's pip, setuptools and wheel (the services run the venv /opt/edgewatch, made without pip) and
#    the wheels ensurepip would install (Debian's python3-pip-whl)
#  - set-user-ID / set-group-ID bits (su, passwd, ...)
#  - stdlib parts no service imports: test suites, idlelib, tkinter, turtle, ensurepip, lib2to3, distutils,
#    pydoc_data, and their bytecode; documentation, man pages and translations
set -eu
(getent group edgewatch || groupadd --system --gid 10001 edgewatch) >/dev/null
(getent passwd edgewatch \
  || useradd --system --uid 10001 --gid 10001 --home-dir /data --no-create-home edgewatch) >/dev/null
mkdir -p /data
chown 10001:10001 /data

# Debian packages no service runs, removed through dpkg (--remove: a purge would run debconf, which needs perl):
# the package manager (apt and the libraries only it uses: gnutls and its chain, seccomp, xxhash), the account
# tools once the user exists (adduser, passwd, login with su, and PAM), util-linux, mount and e2fsprogs. dpkg keeps
# any package something left still depends on (and skips one the base lacks), so on any Debian-based BASE_IMAGE
# this only removes what nothing needs; it reports what it kept. libstdc++6 is not listed: wheels such as
# google-re2 and onnxruntime link the system's, as manylinux allows.
if command -v dpkg >/dev/null 2>&1; then
  if ! DEBIAN_FRONTEND=noninteractive dpkg --remove --force-remove-essential \
    apt libapt-pkg6.0 gpgv debian-archive-keyring libgnutls30 libp11-kit0 libtasn1-6 libnettle8 libhogweed6 \
    libidn2-0 libunistring2 libseccomp2 libxxhash0 \
    adduser passwd login libpam-modules libpam-modules-bin libpam-runtime libpam0g libsemanage2 libsemanage-common \
    libsepol2 util-linux mount e2fsprogs logsave libext2fs2 libss2 >/tmp/dpkg.log 2>&1; then
    echo "trim-base.sh: dpkg kept packages others depend on:" >&2
    grep 'prevent removal' /tmp/dpkg.log >&2 || cat /tmp/dpkg.log >&2
  fi
  rm -rf /var/lib/dpkg/info/* /var/cache/debconf/* /var/lib/apt /var/cache/apt /var/log/*
fi

stdlib=$(python3 -c 'import sysconfig; print(sysconfig.get_paths()["stdlib"])')
purelib=$(python3 -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
prefix=$(python3 -c 'import sys; print(sys.prefix)')
for d in test idlelib tkinter turtledemo ensurepip lib2to3 distutils pydoc_data; do
  rm -rf "${stdlib:?}/$d"
done
rm -f "$stdlib"/turtle.py "$stdlib"/__pycache__/turtle.*
find "$stdlib" -depth -type d \( -name test -o -name tests -o -name idle_test \) -exec rm -rf {} +
# the base python's installers (the official image has pip, setuptools and wheel in /usr/local)
rm -rf "$purelib"/pip "$purelib"/pip-* "$purelib"/setuptools "$purelib"/setuptools-* "$purelib"/pkg_resources \
  "$purelib"/_distutils_hack "$purelib"/distutils-precedence.pth "$purelib"/wheel "$purelib"/wheel-* \
  /usr/share/python-wheels
rm -f "$prefix"/bin/pip "$prefix"/bin/pip3* "$prefix"/bin/wheel "$prefix"/bin/idle* "$prefix"/bin/pydoc* \
  "$prefix"/bin/2to3*
# /tmp/*: this script too
rm -rf /usr/share/doc/* /usr/share/man/* /usr/share/info/* /usr/share/locale/* /usr/share/lintian /root/.cache /tmp/*
# no set-user-ID or set-group-ID programs (su, passwd, ...): nothing in a service image changes its user
find / -xdev -type f -perm /6000 -exec chmod ug-s {} +
# the trimmed python still starts and imports what the services need from the stdlib
python3 -c 'import asyncio, ssl, sqlite3, json, ctypes, zoneinfo, email, http.client, unittest, multiprocessing'
getent passwd edgewatch >/dev/null
