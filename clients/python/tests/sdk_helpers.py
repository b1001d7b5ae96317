"""Helpers the tests share: fresh tenants, a scripted HTTP server on loopback, canned bodies."""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, List, Optional, Tuple

from aitbc import AITBCClient


@dataclass
class FreshTenant:
    """A tenant of its own (so no other test's miner takes its jobs), with a key of each role."""

    url: str
    tenant_id: str
    master_key: str
    client_key: str
    miner_key: str
    clients: List[AITBCClient] = field(default_factory=list)

    def client(self, key: Optional[str] = None, **options: Any) -> AITBCClient:
        made = AITBCClient(key or self.client_key, self.url, **options)
        self.clients.append(made)
        return made

    def master(self, **options: Any) -> AITBCClient:
        return self.client(self.master_key, **options)

    def miner(self, **options: Any) -> AITBCClient:
        return self.client(self.miner_key, **options)


def new_tenant(operator: AITBCClient, url: str, plan: str = "enterprise") -> FreshTenant:
    tenant = operator.tenants.create(f"Python SDK test {uuid.uuid4().hex[:6]}", plan,
                                     tenant_id=f"py-{uuid.uuid4().hex[:12]}")
    assert tenant.master_key is not None and tenant.master_key.api_key
    master_secret = tenant.master_key.api_key
    with AITBCClient(master_secret, url) as master:
        client = master.api_keys.create("sdk client", "client")
        miner = master.api_keys.create("sdk miner", "miner")
    assert client.api_key and miner.api_key
    return FreshTenant(url, tenant.tenant_id, master_secret, client.api_key, miner.api_key)


Reply = Tuple[int, Dict[str, str], Any]


class ScriptedServer:
    """An HTTP server on 127.0.0.1 that answers each request with the next scripted reply (the last
    one repeats) and records what it received."""

    def __init__(self) -> None:
        self.replies: List[Reply] = []
        self.requests: List[Dict[str, Any]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                server.requests.append({"method": self.command, "path": self.path, "headers": dict(self.headers),
                                        "body": body})
                index = min(len(server.requests), len(server.replies)) - 1
                status, headers, payload = server.replies[index]
                data = json.dumps(payload).encode() if payload is not None else b""
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_DELETE = do_PATCH = _answer

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()



JOB_JSON = {
    "job_id": "job_1", "state": "QUEUED", "assigned_miner_id": None, "requested_at": "2026-12-03T10:00:00Z",
    "expires_at": "2026-12-03T10:15:00Z", "error": None, "error_code": None, "ttl_seconds": 900,
    "started_at": None, "finished_at": None,
}


def error_json(code: str, message: str = "refused") -> Dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": {}}}
