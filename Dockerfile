# The headless operator (`operator-tui --no-ui`) as an image, built from the wheels.
#   docker build -t operator-tui:0.1.0 .
#   docker run --rm -e OPERATOR_PD=http://pd:2379 -e OPERATOR_PROMETHEUS_URL=http://prom:9090 \
#       -p 8080:8080 -v operator-data:/data operator-tui:0.1.0
# Runs as uid 10001 and needs no Docker socket: it watches PD and Prometheus over the network.
# Events and logs are JSON lines on stdout; GET :8080/healthz fails once monitor ticks stop.

FROM python:3.11-slim-bookworm AS wheels
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN pip install "uv>=0.5"
WORKDIR /src
COPY . .
RUN sh scripts/build-wheels.sh /wheels

FROM python:3.11-slim-bookworm
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
COPY --from=wheels /wheels /wheels
RUN pip install /wheels/*.whl && rm -rf /wheels

RUN groupadd --system --gid 10001 operator \
 && useradd --system --uid 10001 --gid operator --create-home --home-dir /home/operator operator \
 && mkdir -p /data \
 && chown operator:operator /data

USER 10001:10001
WORKDIR /home/operator
ENV OPERATOR_DB_PATH=/data/tickets.db \
    OPERATOR_LOG_FORMAT=json
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=4 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=3)"]

ENTRYPOINT ["operator-tui"]
CMD ["--no-ui", "--health-port", "8080", "--health-host", "0.0.0.0"]
