# The headless operator (`operator-tui --no-ui`) for the lab's `operator` profile.
# Build context is the repository root (see docker-compose.yml). Runs as uid 10001,
# needs no Docker socket: it watches PD and Prometheus over the compose network.
FROM python:3.11-slim-bookworm

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1

WORKDIR /src
COPY pyproject.toml README.md ./
COPY operator_tui ./operator_tui
COPY subjects/tikv ./subjects/tikv
RUN pip install ./subjects/tikv . && rm -rf /src

RUN groupadd --system --gid 10001 operator \
 && useradd --system --uid 10001 --gid operator --create-home --home-dir /home/operator operator \
 && mkdir -p /data \
 && chown operator:operator /data

USER 10001:10001
WORKDIR /home/operator
ENV OPERATOR_DB_PATH=/data/tickets.db
VOLUME ["/data"]

ENTRYPOINT ["operator-tui"]
CMD ["--no-ui"]
