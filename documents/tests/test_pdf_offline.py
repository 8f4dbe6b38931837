"""Rendering never reaches the network: a remote stylesheet or image in a
document's HTML is refused, the PDF is still made, and the server never hears
a request."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

from documents.pdf import STATIC_ROOT, LocalOnlyFetcher, html_to_pdf

from .conftest import pdf_text


class _Recorder(BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self):
        self.hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "text/css")
        self.end_headers()
        self.wfile.write(b"body { color: red }")

    def log_message(self, *args):
        pass


def test_remote_urls_are_never_fetched():
    server = HTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        content = html_to_pdf(
            f"""<html><head><link rel="stylesheet" href="{base}/style.css"></head>
            <body style="font-family: 'Noto Sans CJK SC'">
            <img src="{base}/logo.png"><p>收据 离线</p></body></html>"""
        )
    finally:
        server.shutdown()
        server.server_close()
    assert _Recorder.hits == []
    assert "收据离线" in pdf_text(content)


def test_only_the_apps_own_files_are_served(tmp_path):
    fetcher = LocalOnlyFetcher()
    outside = tmp_path / "secret.css"
    outside.write_text("body {}")
    for url in (outside.as_uri(), "file:///etc/passwd", "https://example.com/a.css"):
        try:
            fetcher.fetch(url)
        except ValueError:
            continue
        raise AssertionError(f"{url} was fetched")
    assert fetcher.fetch("data:text/css,body%7B%7D").read() == b"body{}"
    own = fetcher.fetch((STATIC_ROOT / "pdf.css").as_uri())
    assert b"Noto Sans CJK SC" in own.read()
