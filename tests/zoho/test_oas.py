"""The spec checks themselves: they catch what breaks Zoho's files, and the extract they
read is what `make oas` makes from those files."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from deskctl.backends import zohospec
from tests.zoho import oas

ROOT = Path(__file__).resolve().parents[2]
# "DESK_OAS_DIR CRM_OAS_DIR": copies of Zoho's OpenAPI folders, as `make oas` takes them
OAS_DIRS = shlex.split(os.environ.get("DESKCTL_OAS_DIRS", ""))
DESK = "https://desk.zoho.com/api/v1"
HEADERS = {"orgId": "1", "Content-Type": "application/json"}


def test_the_extract_names_its_sources() -> None:
    sources = zohospec.extract()["sources"]
    assert sources["desk"]["repository"] == "https://github.com/zoho/zohodesk-oas"
    assert sources["crm"]["repository"] == "https://github.com/zoho/crm-oas"
    assert all(len(s["commit"]) == 40 for s in sources.values())


def test_requests_that_break_the_specification_are_caught() -> None:
    assert oas.check("GET", f"{DESK}/contacts?from=1&limit=10", HEADERS, None) == []
    assert oas.check("GET", f"{DESK}/contacts?sortOrder=asc", HEADERS, None) == [
        "GET /api/v1/contacts: query parameter 'sortOrder' is not declared"]
    assert oas.check("GET", f"{DESK}/nowhere", HEADERS, None) == [
        "GET /api/v1/nowhere: no such operation in the specifications"]
    assert oas.check("GET", f"{DESK}/contacts", {}, None) == [
        "GET /api/v1/contacts: required parameter 'orgId' is missing"]
    body = json.dumps({"subject": "x", "cf_region": "EU"}).encode()
    assert oas.check("PATCH", f"{DESK}/tickets/1", HEADERS, body) == [
        "PATCH /api/v1/tickets/{ticketId} body: 'cf_region' is not declared"]
    assert oas.check("PATCH", f"{DESK}/tickets/1", HEADERS,
                     json.dumps({"cf": {"cf_region": "EU"}}).encode()) == []


def test_documented_required_fields_are_checked() -> None:
    reply = {"channel": "EMAIL", "content": "hi", "to": "a@example.com"}
    assert zohospec.request_problems("POST", f"{DESK}/tickets/1/sendReply", HEADERS,
                                     reply) == [
        "POST /api/v1/tickets/{ticketId}/sendReply body: required 'fromEmailAddress' is "
        "missing"]
    assert zohospec.request_problems("POST", f"{DESK}/tickets", HEADERS, {
        "subject": "s", "departmentId": "1", "contact": {"lastName": "L"}}) == []


@pytest.mark.skipif(not OAS_DIRS, reason="DESKCTL_OAS_DIRS does not name Zoho's OpenAPI "
                    "folders (\"DESK_OAS_DIR CRM_OAS_DIR\")")
def test_the_extract_is_what_make_oas_makes(tmp_path: Path) -> None:
    made = tmp_path / "zoho_oas.json"
    subprocess.run([sys.executable, str(ROOT / "scripts" / "oas_extract.py"), *OAS_DIRS,
                    "--out", str(made)], check=True, capture_output=True)
    assert made.read_bytes() == zohospec.EXTRACT.read_bytes(), "run `make oas` and commit"


def test_the_extract_script_requires_its_folders(tmp_path: Path) -> None:
    script = str(ROOT / "scripts" / "oas_extract.py")
    for args in ([], [str(tmp_path)], [str(tmp_path), str(tmp_path), "--out"]):
        done = subprocess.run([sys.executable, script, *args], capture_output=True, text=True)
        assert done.returncode != 0
        assert done.stderr.startswith("usage: oas_extract.py DESK_OAS_DIR CRM_OAS_DIR")
        assert done.stderr.count("\n") == 1
    missing = tmp_path / "nowhere"
    done = subprocess.run([sys.executable, script, str(missing), str(tmp_path), "--out",
                           str(tmp_path / "x.json")], capture_output=True, text=True)
    assert done.returncode != 0
    assert done.stderr == f"oas_extract: no Zoho OpenAPI folder at {missing}\n"
    assert not (tmp_path / "x.json").exists()
