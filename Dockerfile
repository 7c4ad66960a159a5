# Multi-stage: build wheels from the runtime lock only (no test or lint tools, no
# embedded PostgreSQL), run as a non-root user. One image serves every role:
# `billing-gateway migrate`, `billing-gateway worker` and `billing-gateway serve`.
FROM python:3.11-slim AS build
WORKDIR /src
COPY requirements.lock pyproject.toml README.md ./
RUN pip wheel --no-cache-dir --require-hashes -r requirements.lock -w /wheels
COPY gateway gateway
COPY schema schema
COPY resolvers resolvers
COPY loaders loaders
COPY auth auth
RUN pip wheel --no-cache-dir --no-deps . -w /wheels

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 gateway
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index /wheels/*.whl && rm -rf /wheels
USER gateway
WORKDIR /home/gateway
ENV BILLING_ENV=prod \
    BILLING_METRICS_PORT=9100
# 8000: the GraphQL API and probes; 9100: /metrics (Prometheus), never on the API port in prod.
EXPOSE 8000 9100
HEALTHCHECK --interval=10s --timeout=3s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz').status != 200)"
CMD ["billing-gateway", "serve", "--host", "0.0.0.0", "--port", "8000", "--workers", "2"]
