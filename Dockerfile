# fleetreg in a container: `podman build -t fleetreg .` (or docker), then either
#   podman run -p 8000:8000 -v fleetreg-data:/var/lib/fleetreg fleetreg          (embedded PostgreSQL)
#   podman run -p 8000:8000 -e FLEETREG_DATABASE_URL=postgresql://... fleetreg    (your PostgreSQL)
# compose.yaml runs it beside PostgreSQL 17.

# Any Debian-like image with python3 (3.11 or newer) and its venv module.
ARG PYTHON_IMAGE=docker.io/library/python:3.12-slim-bookworm

# -- build: the package and its dependencies in a virtual environment ---------------------------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN python3 -m venv /opt/fleetreg
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY src ./src
RUN /opt/fleetreg/bin/pip install .

# -- run: the environment alone, as an unprivileged user ---------------------------------------
FROM ${PYTHON_IMAGE}
RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/fleetreg --create-home fleetreg
COPY --from=build /opt/fleetreg /opt/fleetreg
# Listen on every interface of the container; the data directory (the embedded PostgreSQL's files
# and the token signing keys when no FLEETREG_DATABASE_URL / FLEETREG_SIGNING_KEY_FILE is given)
# is a volume.
ENV PATH=/opt/fleetreg/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    FLEETREG_HOST=0.0.0.0 \
    FLEETREG_PORT=8000 \
    FLEETREG_DATA_DIR=/var/lib/fleetreg
USER fleetreg
WORKDIR /var/lib/fleetreg
VOLUME ["/var/lib/fleetreg"]
EXPOSE 8000
# Ready: the database answers and the schema is current (serve applies the migrations at start).
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD python3 -c "import os, sys, urllib.request; sys.exit(urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"FLEETREG_PORT\", \"8000\")}/readyz', timeout=4).status != 200)"
# A stop sends SIGTERM: serve drains its requests and stops its workers and the embedded database.
STOPSIGNAL SIGTERM
CMD ["fleetreg", "serve"]
