"""Bundle, hash and compress the static assets into static/build (git ignores it).

Run by `make setup` after scripts/copy-vendor.sh; see portal/core/assets.py.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from portal.core.assets import BUILD, build  # noqa: E402

if __name__ == "__main__":
    for name, path in build().items():
        size = (BUILD.parent / path).stat().st_size
        print(f"static/{path}  ({name}, {size} bytes)")
