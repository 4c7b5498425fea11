# Balancecoach: one image for every Python process of the production topology (ops/production.py TOPOLOGY):
# the Rasa servers (the default command), the action server and the review app. nginx runs in its own official
# image (docker-compose.yml, deploy/kubernetes/). The models are trained here, at build time (`make train`), so
# every container of one image serves the same model.
#
#     docker build -t balancecoach .
#
# Building needs internet access (PyPI) and about 3 GB of memory (ops/build_names.py reads the names dataset).
FROM python:3.10-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# make for the Makefile; nothing else from Debian: the locked wheels bring their own libraries.
RUN apt-get update \
    && apt-get install -y --no-install-recommends make \
    && rm -rf /var/lib/apt/lists/*

# Not root. The uid matters: the secret files (docker compose secrets, 0600) must be owned by it, and every
# container sharing the state folder (var/, HR's deployed models) runs as it.
RUN groupadd --gid 10001 balancecoach \
    && useradd --uid 10001 --gid 10001 --create-home --shell /usr/sbin/nologin balancecoach
WORKDIR /app
RUN chown balancecoach:balancecoach /app
USER balancecoach

# The virtualenv from requirements.lock (`make install`: .venv with this image's python3.10), in its own layer.
COPY --chown=balancecoach:balancecoach Makefile requirements.lock ./
RUN make install

# The project, path by path (one COPY per folder: COPY of several folders would merge their contents): never the
# host's .venv, models, var (local secrets and conversations) or .git.
COPY --chown=balancecoach:balancecoach config.yml credentials.yml domain.yml endpoints.yml endpoints.production.yml ./
COPY --chown=balancecoach:balancecoach deploy/endpoints.containers.yml deploy/
COPY --chown=balancecoach:balancecoach actions/ actions/
COPY --chown=balancecoach:balancecoach bot/ bot/
COPY --chown=balancecoach:balancecoach channels/ channels/
COPY --chown=balancecoach:balancecoach data/ data/
COPY --chown=balancecoach:balancecoach ops/ ops/
COPY --chown=balancecoach:balancecoach rasa_addons/ rasa_addons/
COPY --chown=balancecoach:balancecoach review/ review/
COPY --chown=balancecoach:balancecoach web/ web/

# The Rasa model, the analysis classifier and the name list (models/). var/ is the state folder: mount a volume
# shared by every container there (the image's empty, private folder gives a new volume its owner and mode).
RUN make train && mkdir -p -m 700 var

ENV PATH=/app/.venv/bin:$PATH \
    PYTHONPATH=/app \
    RASA_TELEMETRY_ENABLED=false \
    TF_CPP_MIN_LOG_LEVEL=3 \
    SQLALCHEMY_SILENCE_UBER_WARNING=1 \
    GOMP_SPINCOUNT=1000 \
    PYTHONWARNINGS=ignore::DeprecationWarning

EXPOSE 5005 5055 5010

# The Rasa server (without --model: the model HR deployed last, else the one built here).
CMD ["python", "-m", "rasa_addons.server", "rasa"]
