#!/usr/bin/env python3
"""The image's HEALTHCHECK: exit 0 when /health/ready answers 200, else 1 with the reason."""

import os
import sys
import urllib.request

host = os.environ.get("SHOWKEEPER_HOST", "").strip()
if host in ("", "0.0.0.0", "::"):  # noqa: S104 (a wildcard listen address: ask loopback)
    host = "127.0.0.1"
if ":" in host:
    host = f"[{host}]"
port = os.environ.get("SHOWKEEPER_PORT", "8000").strip() or "8000"
url = f"http://{host}:{port}/health/ready"
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via a proxy
try:
    with opener.open(url, timeout=4) as response:
        sys.exit(0 if response.status == 200 else 1)
except Exception as exc:
    print(f"{url}: {exc}")
    sys.exit(1)
