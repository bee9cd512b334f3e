# inbox-ocr daemon. Build: docker build -t inbox-ocr .   Run: see compose.yaml and deploy/README.md.
FROM python:3.11-slim-bookworm

# a system user without a login; the state directory is a volume it owns
RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/inbox-ocr --shell /usr/sbin/nologin inbox-ocr \
    && install -d -o inbox-ocr -g inbox-ocr -m 0700 /var/lib/inbox-ocr \
    && install -d -m 0755 /etc/inbox-ocr

COPY . /src
# the same script .ci/run tests; the OCR and field models are inside the installed package
RUN sh /src/deploy/install.sh /opt/inbox-ocr /src && rm -rf /src /root/.cache

ENV PATH=/opt/inbox-ocr/bin:$PATH \
    PYTHONUNBUFFERED=1
USER inbox-ocr
WORKDIR /var/lib/inbox-ocr
VOLUME ["/var/lib/inbox-ocr"]
EXPOSE 8025

# the config must serve http on 0.0.0.0:8025 (http: {enabled: true, host: 0.0.0.0, port: 8025})
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8025/healthz', timeout=4).status != 200)"]

STOPSIGNAL SIGTERM
ENTRYPOINT ["inbox-ocr", "run", "--config", "/etc/inbox-ocr/config.yaml"]
