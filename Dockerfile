# One image for every process: web (gunicorn), worker and beat (celery).
# docker-compose.yml runs it; see the README for the variables it reads.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app \
    WEB_CONCURRENCY=3

WORKDIR /app

RUN groupadd --system --gid 10001 feemgmt \
    && useradd --system --uid 10001 --gid feemgmt --home-dir /app --no-create-home feemgmt

# Pinned dependencies first, so a code change does not reinstall them.
COPY requirements/base.lock requirements/base.lock
RUN pip install -r requirements/base.lock

COPY . .
RUN pip install --no-deps . \
    && rm -rf build ./*.egg-info

# Static files are collected into the image (whitenoise serves them). No database
# or broker is needed for this; the settings only have to import.
RUN SECRET_KEY=collectstatic-only CELERY_BROKER_URL=memory:// \
    python manage.py collectstatic --noinput --verbosity 0

# Compiled translations, when the project has a catalogue (gettext only at build).
RUN if [ -d locale ]; then \
        apt-get update \
        && apt-get install -y --no-install-recommends gettext \
        && SECRET_KEY=compilemessages-only CELERY_BROKER_URL=memory:// \
           python manage.py compilemessages \
        && apt-get purge -y gettext && apt-get autoremove -y \
        && rm -rf /var/lib/apt/lists/*; \
    fi

# The code stays root-owned and read-only for the app; only var/ (embedded SQLite
# and file broker, unused when DATABASE_URL and CELERY_BROKER_URL are set) is its own.
RUN mkdir -p var && chown -R feemgmt:feemgmt var
USER feemgmt

EXPOSE 8000
CMD ["gunicorn", "feemgmt.wsgi", "--bind", "0.0.0.0:8000", "--access-logfile", "-"]
