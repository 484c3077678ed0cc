FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    CONNECTOR_DATABASE_URL=sqlite:////data/lto-connector.db \
    CONNECTOR_BIND=0.0.0.0:8080

WORKDIR /app
COPY pyproject.toml README.md ./
COPY connector ./connector
RUN pip install ".[postgres]" \
    && useradd --system --uid 10001 --home-dir /data connector \
    && mkdir -p /data && chown connector /data

USER connector
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s \
  CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=2).status != 200)"
# gunicorn on connector:create_app(), plus an embedded delivery worker
# (CONNECTOR_EMBEDDED_WORKER=0 when `lto-connector worker` runs in containers of its own)
CMD ["lto-connector", "serve"]
