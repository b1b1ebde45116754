# syntax=docker/dockerfile:1
#
# One image for every container of the platform: the Dagster webserver, daemon and
# code server, the FastAPI service and the one-shot migration job. The command picks
# the role (see docker-compose.yml); the default command serves the API.
#
# The base is pinned by tag and by digest. To move to a newer patch release, look the
# digest up with `docker buildx imagetools inspect python:3.11.X-slim-bookworm` and
# update both parts of PYTHON_IMAGE together.
ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm@sha256:65a93d69fa75478d554f4ad27c85c1e69fa184956261b4301ebaf6dbb0a3543d

# ---------------------------------------------------------------------------------
# builder: a virtual environment with the project and its pinned dependencies.
# Every dependency ships a manylinux wheel, so no compiler is needed even here.
# ---------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS builder

# (bytecode is compiled at install time: the unprivileged runtime user cannot write it)
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1

RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

WORKDIR /src
COPY . .

# constraints.txt pins every transitive version when the project ships one.
RUN if [ -f constraints.txt ]; then \
        pip install --no-cache-dir -c constraints.txt . ; \
    else \
        pip install --no-cache-dir . ; \
    fi

# ---------------------------------------------------------------------------------
# runtime: the interpreter, the virtual environment and the configuration only.
# ---------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime

# The repository and commit the image is built from (CD passes them): the Dagster catalog links
# each asset to its code at that commit.
ARG TXN_SOURCE_URL=""
ARG TXN_SOURCE_REVISION=""

LABEL org.opencontainers.image.title="txn-platform" \
      org.opencontainers.image.description="Transaction analytics: Dagster webserver, daemon, code server and the FastAPI service"

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DAGSTER_HOME=/opt/dagster/home \
    DAGSTER_EVENT_BATCH_SIZE=1000 \
    TXN_LANDING=/data/landing \
    TXN_SOURCE_URL=${TXN_SOURCE_URL} \
    TXN_SOURCE_REVISION=${TXN_SOURCE_REVISION}

# A fixed, unprivileged user. The landing folder and Dagster's home belong to it, so a
# named volume mounted on them starts with the same owner.
RUN groupadd --system --gid 10001 txn \
    && useradd --system --uid 10001 --gid txn --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin txn \
    && mkdir -p /app /data/landing /opt/dagster/home/storage \
    && chown -R txn:txn /app /data/landing /opt/dagster/home

COPY --from=builder /opt/venv /opt/venv

# Amazon RDS's CA bundle (every region's roots), so that libpq can verify the warehouse's
# certificate (PGSSLROOTCERT; sslmode verify-full, or require, which then checks the CA).
# Pinned by hash: the build fails if the published file changes, and a new bundle is taken
# on purpose (download it, check it, update the hash; 108 certificates in this one).
ADD --checksum=sha256:e5bb2084ccf45087bda1c9bffdea0eb15ee67f0b91646106e466714f9de3c7e3 --chmod=644 \
    https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem /etc/ssl/certs/rds-global-bundle.pem

WORKDIR /app
COPY --chown=txn:txn dagster.yaml /opt/dagster/home/dagster.yaml
COPY --chown=txn:txn docker/ /app/docker/

USER 10001:10001

# 8000: API, 3000: Dagster UI, 4000: Dagster code server (gRPC).
EXPOSE 8000 3000 4000

# Liveness: the API process answers (GET /livez never touches the warehouse, so a database
# outage does not mark the container unhealthy; a deploy gates on /readyz itself). curl is
# not in the slim image: the interpreter does the probe. The Dagster services override this
# check with their own in docker-compose.yml.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --start-interval=2s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/livez', timeout=4).status == 200 else 1)"]

CMD ["uvicorn", "txn_api.main:app", "--host", "0.0.0.0", "--port", "8000"]
