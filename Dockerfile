# asldro BIDS-App image.
#
#   docker build -t asldro/asldro:3.0.0 .
#   docker run --rm --read-only --network none -u "$(id -u):$(id -g)" \
#     -v "$PWD/out":/out asldro/asldro:3.0.0 /out participant --participant-label 01
#
# Runs as any UID with a read-only root file system and no network; it writes only into the
# mounted output folder.
FROM debian:bookworm-slim

# The `version` file is the single source of the version. This default must equal it: the build
# fails below if it does not (and tests/e2e/test_container_static.py checks it statically).
ARG VERSION=3.0.0

LABEL org.opencontainers.image.title="asldro" \
      org.opencontainers.image.description="Digital reference objects for Arterial Spin Labelling MRI, written as validated BIDS datasets (BIDS-App)" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="MIT"

RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      python3 python3-venv ca-certificates \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin

ENV VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    ASLDRO_CONTAINER=asldro/asldro:${VERSION}

# The dependencies, the validators, matplotlib (the `plots` extra: the HTML report) and the build
# backend, exactly as locked: every file is checked against its sha256 in
# .ci/requirements/container.txt (written by .ci/lock.py from pyproject.toml; a changed or
# unlisted file fails the build) and nothing else is resolved. The
# lock stays in the image (/opt/asldro/requirements/container.txt). The test suites of the largest
# dependencies (never imported at run time) and the validator's source map are dropped.
COPY .ci/requirements/container.txt /opt/asldro/requirements/container.txt
RUN python3 -m venv /opt/venv \
 && pip install --no-cache-dir --require-hashes --no-deps -r /opt/asldro/requirements/container.txt \
 && site=$(python3 -c 'import sysconfig; print(sysconfig.get_path("purelib"))') \
 && find "$site/numpy" "$site/scipy" "$site/pandas" "$site/sklearn" -type d -name tests -prune -exec rm -rf {} + \
 && find "$site" -name '*.js.map' -delete

# The build context is allow-listed by .dockerignore (sources, pyproject.toml, version, run.py,
# the lock).
COPY . /src

# The project itself (no dependencies; built with the locked backend), then a check that the
# locked set is complete; /run.py is an executable entry point that uses the venv's Python
# whatever run.py's own first line says.
RUN test "$(cat /src/version)" = "${VERSION}" \
      || { echo "Dockerfile ARG VERSION=${VERSION} differs from the version file ($(cat /src/version))" >&2; exit 1; } \
 && pip install --no-cache-dir --no-deps --no-build-isolation /src \
 && pip check \
 && { echo '#!/opt/venv/bin/python3'; sed '1{/^#!/d;}' /src/run.py; } > /run.py \
 && chmod 0755 /run.py \
 && rm -rf /src \
 && python3 -c "import asldro, bids_app, numpy, scipy, pandas, sklearn, nilearn, bids, matplotlib" \
 && command -v asldro bids-validator-deno

# bids-validator-deno's runtime (the deno binary and the validator bundle) ships in the wheels and
# needs no network. Run it once here to fill a deno cache that any UID can read: with the root
# file system read-only, deno reads it and falls back to memory for writes.
ENV DENO_DIR=/opt/deno-dir
RUN mkdir -p /tmp/warm \
 && echo '{"Name": "warm-up", "BIDSVersion": "1.10.0"}' > /tmp/warm/dataset_description.json \
 && { bids-validator-deno /tmp/warm > /dev/null; rc=$?; } \
 && rm -rf /tmp/warm \
 && { [ "$rc" = 0 ] || [ "$rc" = 16 ]; } \
 && chmod -R a+rX,go-w "$DENO_DIR"

USER 1000:1000
ENTRYPOINT ["/run.py"]
