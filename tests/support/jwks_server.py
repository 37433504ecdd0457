"""A real HTTP server on loopback that publishes test platforms' key sets."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class JwksServer:
    """Serves ``/<name>/jwks.json`` for each registered key set and counts fetches."""

    def __init__(self) -> None:
        self.key_sets: dict[str, dict[str, Any]] = {}
        self.fetches: dict[str, int] = {}
        # Seconds a key set takes to answer: a slow LMS (a real delay, not a mock).
        self.delays: dict[str, float] = {}
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                name = self.path.strip("/").removesuffix("/jwks.json")
                body = server.key_sets.get(name)
                server.fetches[name] = server.fetches.get(name, 0) + 1
                time.sleep(server.delays.get(name, 0.0))
                if body is None:
                    self.send_response(404)
                    self.end_headers()
                    return
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url_for(self, name: str) -> str:
        return f"{self.base_url}/{name}/jwks.json"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
