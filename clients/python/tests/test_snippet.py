"""The documentation's snippet runs verbatim, and the client is configured like the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Dict

import pytest

from aitbc import AITBCClient
from aitbc.exceptions import AuthenticationError
from sdk_helpers import FreshTenant

# The snippet, character for character; `{...}` stands for a job body.
SNIPPET = '''from aitbc import AITBCClient
from aitbc.exceptions import AuthenticationError
client = AITBCClient(api_key="your_api_key")
try:
    client.jobs.create({...})
except AuthenticationError:
    print("Invalid API key")
'''
JOB_BODY = '{"payload": {"type": "inference", "prompt": "hello"}}'


def run(code: str, env: Dict[str, str]) -> subprocess.CompletedProcess[str]:
    environment = {name: value for name, value in os.environ.items() if not name.startswith("AITBC_")}
    environment.update(env)
    return subprocess.run([sys.executable, "-c", code], env=environment, capture_output=True, text=True, timeout=60)


def test_snippet_with_a_wrong_key_prints_invalid_api_key(url: str) -> None:
    done = run(SNIPPET.replace("{...}", JOB_BODY), {"AITBC_URL": url})
    assert done.returncode == 0, done.stderr
    assert done.stdout == "Invalid API key\n"


def test_snippet_with_a_real_key_creates_a_job(tenant: FreshTenant) -> None:
    code = SNIPPET.replace("{...}", JOB_BODY).replace("your_api_key", tenant.client_key)
    done = run(code, {"AITBC_URL": tenant.url})
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    jobs = list(tenant.client().jobs.list())
    assert len(jobs) == 1 and jobs[0].state == "QUEUED"


def test_snippet_with_the_key_from_aitbc_api_key(tenant: FreshTenant) -> None:
    code = SNIPPET.replace("{...}", JOB_BODY).replace('AITBCClient(api_key="your_api_key")', "AITBCClient()")
    done = run(code, {"AITBC_URL": tenant.url, "AITBC_API_KEY": tenant.client_key})
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    assert len(list(tenant.client().jobs.list())) == 1


def test_client_reads_aitbc_api_key_and_aitbc_url(monkeypatch: pytest.MonkeyPatch, url: str, client_key: str) -> None:
    monkeypatch.setenv("AITBC_API_KEY", client_key)
    monkeypatch.setenv("AITBC_URL", url + "/")
    with AITBCClient() as client:
        assert client.base_url == url
        assert client.me().role == "client"


def test_arguments_win_over_the_environment(monkeypatch: pytest.MonkeyPatch, url: str, master_key: str) -> None:
    monkeypatch.setenv("AITBC_API_KEY", "wrong-key")
    monkeypatch.setenv("AITBC_URL", "http://127.0.0.1:9")
    with AITBCClient(master_key, url) as client:
        assert client.me().role == "master"


def test_default_url_is_the_clis(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AITBC_URL", raising=False)
    assert AITBCClient("some-key").base_url == "http://127.0.0.1:8000"


def test_no_key_at_all_is_a_clear_authentication_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AITBC_API_KEY", raising=False)
    with pytest.raises(AuthenticationError) as raised:
        AITBCClient()
    assert raised.value.code == "MISSING_API_KEY"
    assert "AITBC_API_KEY" in raised.value.message


def test_readme_shows_the_snippet_that_runs() -> None:
    readme = Path(__file__).resolve().parents[3] / "README.md"
    if not readme.exists():
        pytest.skip(f"{readme} is not there (the package was copied out of the repository)")
    text = readme.read_text()
    assert "## The Python SDK" in text
    for line in SNIPPET.splitlines():
        if "{...}" not in line:
            assert line in text, line
    section = text.split("## The Python SDK", 1)[1].split("\n## ", 1)[0]
    blocks = section.split("```python\n")[1:]
    assert len(blocks) >= 2
    for block in blocks:
        compile(block.split("```", 1)[0], "README.md", "exec")
