# One image for every Utskick process (web apps, worker, migrations); docker-compose.yml picks the command.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# Pango and a font with Swedish letters: WeasyPrint draws the evaluation reports' PDFs with them.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /src
COPY pyproject.toml ./
COPY shared ./shared
COPY services ./services
# Compile the catalogues before installing, so the .mo files are packaged with the code.
RUN pip install babel \
 && if find shared/translations -name '*.po' 2>/dev/null | grep -q .; then \
        pybabel compile -d shared/translations -f; \
    fi \
 && pip install . \
 && rm -rf /src

# Never run the services as root; /app holds var/ (UTSKICK_VAR_DIR defaults to ./var).
RUN useradd --system --create-home --home-dir /app --shell /usr/sbin/nologin utskick
USER utskick
WORKDIR /app

EXPOSE 8001 8002
CMD ["utskick", "--help"]
