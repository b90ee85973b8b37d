#!/usr/bin/env python3
"""A command history for measuring `docket import`: an organisation in support, then CASES
cases, each opened by a contact, routed by staff and commented on twice, 8 minutes apart
(4 * CASES + 4 commands, times never going backwards).

    python3 tools/floors/gen_import_history.py 5000 > /tmp/history.ndjson
"""
import json, sys
from datetime import datetime, timedelta, timezone

cases = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
manager = {"id": "m1", "role": "staff", "staffRole": "manager"}
staff = {"id": "s1", "role": "staff", "staffRole": "tier1", "channel": "phone"}
contact = {"id": "ada", "role": "contact", "organisationID": "acme", "access": "designated", "channel": "portal"}
start = datetime(2026, 3, 2, 8, 0, tzinfo=timezone.utc)
n = 0

def line(kind, stream, payload, actor, at):
    global n
    n += 1
    print(json.dumps({"commandId": "00000000-0000-4000-8000-%012d" % n, "type": kind, "streamId": stream,
                      "payload": payload, "actor": actor, "at": at.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"},
                     separators=(",", ":"), sort_keys=True))

line("register-organisation", "org-acme", {"organisationID": "acme", "name": "Acme", "policyName": "concur-standard"}, manager, start)
line("add-contact", "org-acme", {"contactID": "ada", "name": "Ada", "email": "ada@acme.example", "access": "designated"}, manager, start + timedelta(minutes=1))
line("add-contact", "org-acme", {"contactID": "bo", "name": "Bo", "email": "bo@acme.example", "access": "designated"}, manager, start + timedelta(minutes=2))
line("transition-to-support", "org-acme", {}, manager, start + timedelta(minutes=3))
for c in range(1, cases + 1):
    t = start + timedelta(minutes=10 + 8 * c)
    s = "case-%d" % c
    line("open-case", s, {"caseID": str(c), "organisationID": "acme", "contactID": "ada", "subject": "Export fails %d" % c,
                          "description": "Steps to reproduce: open the report, export to PDF.", "topic": "expenses",
                          "caseType": "support", "subType": "problem", "severity": ["P1", "P2", "P3"][c % 3],
                          "region": "europe", "site": "s7", "product": "Expense", "stage": "production", "callMe": False,
                          "cc": [], "channel": "portal"}, contact, t)
    line("route-case", s, {"team": "expenses", "owner": "s1", "tier": "tier1"}, staff, t + timedelta(minutes=1))
    line("add-comment", s, {"commentID": "p%d" % c, "body": "Looking into it.", "visibility": "public"}, staff, t + timedelta(minutes=2))
    line("add-comment", s, {"commentID": "i%d" % c, "body": "Reproduced on staging.", "visibility": "internal"}, staff, t + timedelta(minutes=3, seconds=30))
