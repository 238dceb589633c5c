# showkeeper's container image.
#   docker build -t showkeeper .                 (or: docker compose build)
#   ./dev.sh image                               (here: makes a local Debian base when no
#                                                 image registry answers, see docker/image.sh)
# No "# syntax=" line on purpose: it makes the builder pull a frontend image.
#
# Layers are ordered so that a change of the code rebuilds only a few small ones; the
# dependencies are rebuilt when pyproject.toml changes.

ARG BASE=debian:bookworm-slim

# -- what runs: Debian's Python, CA certificates, time zones, tini as PID 1 ----------------
FROM ${BASE} AS runtime
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      python3 ca-certificates tzdata tini \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin

# -- the dependencies in a venv -------------------------------------------------------------
FROM runtime AS deps
# PEM text of extra CA certificates, for a build behind a TLS-intercepting proxy
# (docker/image.sh passes the host's). The build stages have them; the image does not.
ARG EXTRA_CA_CERTS=""
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_CERT=/etc/ssl/certs/ca-certificates.crt
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      python3-venv binutils \
 && if [ -n "$EXTRA_CA_CERTS" ]; then \
      printf '%s\n' "$EXTRA_CA_CERTS" > /usr/local/share/ca-certificates/build-extra.crt \
      && update-ca-certificates >/dev/null; \
    fi \
 && python3 -m venv /opt/showkeeper
COPY pyproject.toml docker/constraints.txt /src/
RUN python3 -c 'import tomllib; print("\n".join(tomllib.load(open("/src/pyproject.toml", "rb"))["project"]["dependencies"]))' \
      > /src/requirements.txt \
 && /opt/showkeeper/bin/pip install -q -r /src/requirements.txt -c /src/constraints.txt

# -- showkeeper itself, installed under /app with the venv's layout (a small layer) --------
FROM deps AS app
COPY README.md /src/README.md
COPY src /src/src
RUN /opt/showkeeper/bin/pip install -q --no-deps --no-compile --prefix /app /src \
 && site=$(cd /app/lib/python3*/site-packages && pwd) \
 && /opt/showkeeper/bin/python -m compileall -q --invalidation-mode unchecked-hash \
      -d "/opt/showkeeper${site#/app}" "$site"

# -- the venv as it runs: no pip or setuptools, shared objects without their symbol tables
#    (70 MB -> 24 MB), ffmpeg on PATH ----------------------------------------------------------
FROM deps AS venv
# ffmpeg is the static build that the imageio-ffmpeg wheel ships (ffmpeg 7.0.2, 80 MB; see
# docker/constraints.txt); Debian's ffmpeg package would make the image about three times
# larger. docker/ffmpeg.sh runs it (see there why) as /opt/showkeeper/bin/ffmpeg: on PATH,
# where showkeeper and yt-dlp look first.
COPY docker/ffmpeg.sh /opt/showkeeper/bin/ffmpeg
RUN /opt/showkeeper/bin/python -m pip uninstall -q -y pip setuptools \
 && find /opt/showkeeper -type f \( -name '*.so' -o -name '*.so.[0-9]*' \) \
      -exec strip --strip-unneeded {} + \
 && exe=$(/opt/showkeeper/bin/python -c 'import imageio_ffmpeg; print(imageio_ffmpeg.get_ffmpeg_exe())') \
 && chmod 755 "$exe" \
 && ln -s "$exe" /opt/showkeeper/lib/ffmpeg \
 && /opt/showkeeper/bin/ffmpeg -hide_banner -version | head -n 1

# -- the image ------------------------------------------------------------------------------
FROM runtime
RUN groupadd --gid 1000 showkeeper \
 && useradd --uid 1000 --gid 1000 --home-dir /config --no-create-home \
      --shell /usr/sbin/nologin showkeeper \
 && mkdir -p /config /library \
 && chown showkeeper:showkeeper /config /library
COPY --from=venv /opt/showkeeper /opt/showkeeper
COPY --from=app /app/ /opt/showkeeper/
COPY docker/entrypoint.sh /usr/local/bin/showkeeper-entrypoint
COPY docker/healthcheck.py /usr/local/bin/showkeeper-healthcheck

ENV PATH=/opt/showkeeper/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    HOME=/config \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PUID=1000 \
    PGID=1000 \
    SHOWKEEPER_DATA_DIR=/config \
    SHOWKEEPER_LIBRARY_DIR=/library \
    SHOWKEEPER_HOST=0.0.0.0 \
    SHOWKEEPER_PORT=8000

VOLUME ["/config", "/library"]
EXPOSE 8000
# SIGTERM is what showkeeper treats as "stop cleanly": running downloads stop, their items go
# back to the queue and their partial files stay for a resume. That can take up to ~20 s, so
# give the container time: `docker stop -t 30`, or `stop_grace_period: 30s` in compose.
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["showkeeper-healthcheck"]
ENTRYPOINT ["showkeeper-entrypoint"]
CMD ["showkeeper", "serve"]

# Last, so that changing them rebuilds nothing. VERSION is showkeeper.__version__ (a unit
# test keeps this default equal to it; docker/image.sh passes it as well).
ARG VERSION=0.1.0
ARG REVISION=""
ARG CREATED=""
LABEL org.opencontainers.image.title="showkeeper" \
      org.opencontainers.image.description="Self-hosted server that keeps a local library of episodic video complete." \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.licenses="MIT"
