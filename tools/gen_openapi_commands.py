#!/usr/bin/env python3
"""Writes the request schemas of POST /v1/commands into schemas/openapi.yaml from the command
schemas in schemas/commands: one envelope per command type (its `type`, the stream it goes to,
its payload's schema), so that a client or a generator (schemathesis) knows exactly what a
valid command is. The block between the BEGIN/END markers is replaced; --check exits 1 when
the file is not what this script would write (the test suite runs it)."""
import glob
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SPEC = os.path.join(ROOT, "schemas", "openapi.yaml")
BEGIN = "    # BEGIN command envelopes (tools/gen_openapi_commands.py writes this block from schemas/commands)\n"
END = "    # END command envelopes\n"

# The stream each family of command types goes to.
STREAMS = {
    "case": ("^case-[^\\u0000-\\u001F\\u007F-\\u009F]{1,195}$", "case-<caseID>"),
    "org": ("^org-[^\\u0000-\\u001F\\u007F-\\u009F]{1,196}$", "org-<organisationID>"),
    "incident": ("^OPI-[1-9][0-9]{0,8}$", "OPI-<n>"),
    "feature": ("^feature-[^\\u0000-\\u001F\\u007F-\\u009F]{1,192}$", "feature-<featureID>"),
    "version": ("^(policy|calendar)-[^\\u0000-\\u001F\\u007F-\\u009F]{1,191}$", "policy-<name> or calendar-<name>"),
}
FAMILY = {
    "incident": {"declare-incident", "send-alert", "publish-rca", "link-case", "schedule-maintenance"},
    "org": {"register-organisation", "add-contact", "update-contact", "remove-contact", "change-contact-access",
            "set-incident-report-access", "set-alert-opt-out", "transition-to-support"},
    "feature": {"submit-feature-request", "change-feature-request-status", "close-feature-request"},
    "version": {"record-policy-version", "record-calendar-version"},
}


def family(kind):
    for name, kinds in FAMILY.items():
        if kind in kinds:
            return name
    return "case"


def strip(schema):
    """The payload schema in OpenAPI 3.0 terms: without the keys of the file itself
    ($schema, $id, title, x-type, x-schemaVersion); the properties are kept as they are."""
    return {k: v for k, v in schema.items() if not k.startswith("$") and not k.startswith("x-") and k != "title"}


def block():
    names = []
    out = []
    for path in sorted(glob.glob(os.path.join(ROOT, "schemas", "commands", "*.schema.json"))):
        with open(path, encoding="utf-8") as f:
            schema = json.load(f)
        kind = schema["x-type"]
        pattern, shape = STREAMS[family(kind)]
        name = "Command_" + kind.replace("-", "_")
        names.append((kind, name))
        envelope = {
            "type": "object",
            "description": f"A {kind} command: {schema.get('description', '')} Goes to the stream {shape}.",
            "required": ["commandId", "type", "streamId", "payload"],
            "additionalProperties": False,
            "properties": {
                "commandId": {"type": "string", "format": "uuid"},
                "type": {"type": "string", "enum": [kind]},
                "streamId": {"type": "string", "pattern": pattern, "maxLength": 200},
                "expectedVersion": {"type": "integer", "nullable": True, "minimum": 0, "maximum": 9223372036854775807},
                "payload": strip({k: v for k, v in schema.items() if k not in ("description",)}),
            },
        }
        out.append(f"    {name}: {json.dumps(envelope, ensure_ascii=False)}\n")
    union = {
        "oneOf": [{"$ref": f"#/components/schemas/{n}"} for _, n in names],
        "discriminator": {"propertyName": "type", "mapping": {k: f"#/components/schemas/{n}" for k, n in names}},
    }
    return BEGIN + f"    Command: {json.dumps(union)}\n" + "".join(out) + END


def main():
    with open(SPEC, encoding="utf-8") as f:
        text = f.read()
    if BEGIN not in text or END not in text:
        sys.exit(f"{SPEC}: no '{BEGIN.strip()}' ... '{END.strip()}' block under components/schemas")
    start = text.index(BEGIN)
    end = text.index(END) + len(END)
    new = text[:start] + block() + text[end:]
    if "--check" in sys.argv:
        if new != text:
            sys.exit("schemas/openapi.yaml is out of date with schemas/commands: run tools/gen_openapi_commands.py")
        return
    with open(SPEC, "w", encoding="utf-8") as f:
        f.write(new)


if __name__ == "__main__":
    main()
