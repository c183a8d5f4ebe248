# The digits service as a container: gunicorn serving service.py, the model baked in.
#
#   docker build -t digits .                          # podman build --format docker -t digits .
#   docker run -p 8000:8000 digits                    # PORT and WEB_CONCURRENCY are honoured
#   docker build --build-arg EXTRAS=true -t digits .  # with rate limits, CORS, metrics, keys in
#                                                     # PostgreSQL (requirements-extras.txt)

# --- build: a virtualenv with only what serving needs, stripped of test suites and caches ---
FROM python:3.11-slim AS build
ARG EXTRAS=false
COPY requirements.txt requirements-extras.txt /build/
# requests is the command-line client's, not the service's; the extras' first line pulls in
# requirements.txt again.
RUN grep -v '^requests' /build/requirements.txt > /build/serve.txt \
 && if [ "$EXTRAS" = true ]; then grep -v -e '^-r' -e '^requests' /build/requirements-extras.txt >> /build/serve.txt; fi \
 && python -m venv /venv \
 && /venv/bin/pip install --no-cache-dir --no-compile -r /build/serve.txt \
 && /venv/bin/pip uninstall -y -q pip setuptools \
 && find /venv -depth -type d -name tests -prune -exec rm -rf {} + \
 && find /venv -name '*.pyi' -delete \
 && python -m compileall -q -j 0 /venv/lib

# --- run: the base image, the virtualenv, the service; nothing else ---
FROM python:3.11-slim
RUN useradd --system --home-dir /app --shell /usr/sbin/nologin digits
COPY --from=build /venv /venv
WORKDIR /app
COPY service.py gunicorn.conf.py ./
COPY digits/ digits/
COPY artifacts/ artifacts/
ENV PATH=/venv/bin:$PATH PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 PORT=8000 WEB_CONCURRENCY=2
# The model is checked here (its sha256 and the library versions it was written with, as the
# service checks them at every start), so a mismatched image fails to build, not to serve.
RUN python -m compileall -q digits service.py gunicorn.conf.py \
 && python -c "from digits.core.reading import load_reader; load_reader('artifacts/model.joblib')"
USER digits
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health' % os.environ.get('PORT', '8000'), timeout=4)"]
CMD ["gunicorn", "-c", "gunicorn.conf.py"]
