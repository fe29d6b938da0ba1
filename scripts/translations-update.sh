#!/bin/sh
# Re-extract every message from portal/ and templates/ into messages.pot, merge it into
# each language's messages.po, and list what still needs a translation.
# Usage: bash scripts/translations-update.sh   (or: make translations-update)
set -eu
cd "$(dirname "$0")/.."
BIN=${BIN:-.venv/bin}
"$BIN/pybabel" -q extract -F babel.cfg -k _l -k lazy_gettext -k N_ -c "TRANSLATORS:" \
    --project Waypoint --sort-by-file --no-wrap -o portal/translations/messages.pot .
"$BIN/pybabel" -q update -i portal/translations/messages.pot -d portal/translations \
    --ignore-obsolete --no-fuzzy-matching --no-wrap
"$BIN/python" - <<'PY'
from pathlib import Path
from babel.messages.pofile import read_po

for po in sorted(Path("portal/translations").glob("*/LC_MESSAGES/messages.po")):
    with po.open("rb") as fh:
        catalog = read_po(fh)
    todo = []
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy or not all(s and s.strip() for s in strings):
            todo.append(message)
    total = sum(1 for m in catalog if m.id)
    print(f"{po}: {total} messages, {len(todo)} to translate")
    for message in todo:
        key = message.id[0] if isinstance(message.id, tuple) else message.id
        where = ", ".join(f"{f}:{n}" for f, n in message.locations[:2])
        print(f"  {key!r}  ({where})")
PY
