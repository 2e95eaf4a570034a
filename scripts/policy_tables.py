"""Print the "What each pack decides" tables of docs/policy.md from the shipped packs.

    python scripts/policy_tables.py > /tmp/tables.md

tests/policy/test_rules_2026.py checks that the page lists every rule, duty and source.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from silkgate.policy.engine import shipped_pack_paths
from silkgate.policy.pack import load_pack

ORDER = ["cn", "cn-pilot-zone-sample", "vn", "th", "my", "sg", "id", "ph", "bn", "la", "kh", "mm"]
UNCERTAIN = " *(uncertain: see the rule's note)*"


def cites(cite: tuple[tuple[str, str], ...]) -> str:
    return "; ".join(f"{source} {article}".strip() for source, article in cite)


def cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def main() -> None:
    packs = {p.id: (p, Path(p.path)) for p in map(load_pack, shipped_pack_paths())}
    out: list[str] = []
    for pack_id in sorted(packs, key=lambda i: (ORDER.index(i) if i in ORDER else 99, i)):
        pack, path = packs[pack_id]
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        out += [f"#### `{pack.id}` ({pack.version})", "", "| rule | decides | outcome | under |",
                "|---|---|---|---|"]  # fmt: skip
        for rule in pack.rules:
            title = cell(rule.title) + (UNCERTAIN if rule.note else "")
            out.append(f"| `{rule.id}` | {title} | {rule.outcome} | {cites(rule.cite)} |")
        for duty in pack.duties:
            out.append(f"| duty `{duty.id}` | {cell(duty.title)} | duty | {cites(duty.cite)} |")
        out += ["", "| source | name | last checked | how |", "|---|---|---|---|"]
        for source in raw.get("sources", []):
            checked = source.get("checked", "not checked")
            how = source.get("note", "framework text; no article relied on")
            out.append(f"| `{source['id']}` | {cell(source['name'])} | {checked} | {cell(how)} |")
        out.append("")
    print("\n".join(out))


if __name__ == "__main__":
    main()
