#!/usr/bin/env python3
"""校验案卷 — verify this case dossier offline, with nothing but Python 3 (standard library).

    python3 verify.py            # the folder this file is in
    python3 verify.py FOLDER     # another unzipped dossier

It recomputes the hash of every entry of events.json (the case's history, each entry chained
to the one before by its hash), checks that the chain ends at the head recorded in case.json,
recomputes the SHA-256 of every file under attachments/ (each is named by the hash of its
content), and checks that every attachment the history mentions is there. It prints what it
found and exits 0 when everything verifies, 1 when anything was altered, removed or added,
naming each altered entry or file.
"""
import hashlib
import json
import re
import sys
from pathlib import Path

GENESIS = "0" * 64
# What each event's hash covers, exactly as Casework computes it.
HASHED_FIELDS = ("case_id", "seq", "trigger", "from_state", "to_state", "actor_id", "actor",
                 "role", "at", "note", "data", "prev_hash")


def event_hash(event):
    content = {name: event[name] for name in HASHED_FIELDS}
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def file_sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def load_json(path, problems):
    """The file's JSON, or None with a problem naming the line (events.json holds one
    entry per line, so the line names the entry)."""
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        problems.append(f"{path.name}: missing")
        return None
    except UnicodeDecodeError:
        problems.append(f"{path.name}: altered (not UTF-8 text any more)")
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        lines = text.splitlines()
        line = lines[exc.lineno - 1] if 0 < exc.lineno <= len(lines) else ""
        seq = re.search(r'"seq":\s*(\d+)', line)
        entry = f" (event {seq.group(1)})" if seq and path.name == "events.json" else ""
        problems.append(f"{path.name} line {exc.lineno}{entry}: altered, no longer valid JSON")
        return None


def check_chain(events, case, problems):
    expected_prev, expected_seq = GENESIS, 1
    for position, event in enumerate(events, start=1):
        if not isinstance(event, dict) or any(name not in event for name in HASHED_FIELDS + ("hash",)):
            problems.append(f"events.json entry {position}: altered (fields missing)")
            return
        seq = event["seq"]
        label = f"events.json event {seq}"
        if seq != expected_seq:
            problems.append(f"{label}: expected event {expected_seq} here; an entry was removed, "
                            "added or reordered")
        if event["case_id"] != case.get("id"):
            problems.append(f"{label}: belongs to case {event['case_id']}, not {case.get('id')}")
        if event["prev_hash"] != expected_prev:
            problems.append(f"{label}: its link to event {seq - 1} is broken; event {seq - 1} "
                            "or this link was altered")
        if event_hash(event) != event["hash"]:
            problems.append(f"{label}: altered; its content no longer matches its hash")
        expected_prev, expected_seq = event["hash"], seq + 1
    history = case.get("history") or {}
    if events and history.get("head") != events[-1]["hash"]:
        problems.append("events.json: the history does not end at the head recorded in "
                        f"case.json ({history.get('head')}); its last entries were altered or "
                        "removed")
    if history.get("events") != len(events):
        problems.append(f"events.json: {len(events)} entries, case.json records "
                        f"{history.get('events')}")


def check_attachments(folder, case, events, problems):
    listed = {a["sha256"]: a for a in case.get("attachments", [])}
    directory = folder / "attachments"
    present = {p.name: p for p in directory.iterdir()} if directory.is_dir() else {}
    for sha, attachment in sorted(listed.items()):
        path = present.get(sha)
        if path is None:
            problems.append(f"attachments/{sha}: missing")
            continue
        actual = file_sha256(path)
        if actual != sha:
            problems.append(f"attachments/{sha}: altered; its content's SHA-256 is now {actual}")
        elif path.stat().st_size != attachment.get("size"):
            problems.append(f"attachments/{sha}: size differs from case.json")
    for name in sorted(set(present) - set(listed)):
        problems.append(f"attachments/{name}: not part of this dossier (added)")
    for event in events:
        data = event.get("data") if isinstance(event, dict) else None
        if isinstance(data, dict) and event.get("trigger") == "attach":
            if data.get("sha256") not in listed:
                problems.append(f"events.json event {event.get('seq')}: records attachment "
                                f"{data.get('sha256')}, which is not in the dossier")


def verify(folder):
    problems = []
    case = load_json(folder / "case.json", problems)
    events = load_json(folder / "events.json", problems)
    if isinstance(case, dict) and isinstance(events, list):
        check_chain(events, case, problems)
        check_attachments(folder, case, events, problems)
    elif case is not None and events is not None:
        problems.append("case.json or events.json: altered (unexpected structure)")
    return case, events, problems


def main(argv):
    folder = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parent
    case, events, problems = verify(folder)
    if problems:
        print("校验失败 FAILED: this dossier was altered.")
        for problem in problems:
            print("  - " + problem)
        return 1
    print(f"校验通过 OK: case {case.get('ref')}: {len(events)} history entries chain to "
          f"{case['history']['head']}; {len(case.get('attachments', []))} attachments match "
          "their SHA-256.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
