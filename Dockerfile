# The one image of web, dialer and scheduler (docker-compose.yml). Debian bookworm like the dev machines.

# Browser libraries (ECharts) from the npm registry at the versions of package-lock.json, as ./dev install does.
FROM node:20-bookworm-slim AS vendor
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund --loglevel=error \
 && mkdir -p vendor/echarts && cp node_modules/echarts/dist/echarts.min.js node_modules/echarts/LICENSE vendor/echarts/

FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
# WeasyPrint: Pango, HarfBuzz subset and a CJK font (see ARCHITECTURE.md pitfalls); pg_dump for backups.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 \
      fonts-noto-cjk postgresql-client \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt
COPY . .
COPY --from=vendor /src/vendor frontend/static/vendor
RUN useradd --system --uid 10001 --home /app cm && mkdir -p /data/media /data/backups /data/var \
 && chown -R cm /data /app
USER cm
# collectstatic needs settings: a build-time-only key, never used at run time.
RUN SECRET_KEY=build-only DEBUG=0 DATABASE_URL=sqlite:////tmp/build.sqlite3 REDIS_URL=redis://localhost \
      python manage.py collectstatic --noinput
EXPOSE 8000
CMD ["daphne", "--bind", "0.0.0.0", "--port", "8000", "asgi:application"]
