#!/usr/bin/env python3
"""Summaries for the peer benchmarks (used by the .sh scripts; no third-party imports).

    summarize.py median FILE.json NAME          median seconds of hyperfine command NAME
    summarize.py write OUT NAME [--row MEASURE|VALUE|UNIT|TARGET]... [--cmd CMD]... [--note TEXT]...
        writes OUT/NAME.json and OUT/NAME.md and prints the table;
        TARGET is "" or "<op> <number>" with op one of >=, <=, >, <; the "met" column is
        computed from VALUE, never set by hand
    summarize.py collect OUT HEADER.md NAME...  one markdown report of OUT/NAME.json, ...
"""

import json
import operator
import os
import statistics
import sys

OPS = {">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt}


def median(path, name):
    with open(path) as f:
        data = json.load(f)
    for r in data["results"]:
        if r["command"] == name:
            return statistics.median(r["times"])
    raise SystemExit(f"summarize.py: no command named {name!r} in {path}")


def met(value, target):
    if not target:
        return ""
    op, _, num = target.partition(" ")
    try:
        return "yes" if OPS[op](float(value), float(num)) else "no"
    except (KeyError, ValueError):
        return ""


def table(rows):
    lines = ["| measure | value | unit | target | met |", "|---|---:|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['measure']} | {r['value']} | {r['unit']} | {r['target']} | {r['met']} |")
    return "\n".join(lines)


def write(out, name, args):
    rows, cmds, notes = [], [], []
    it = iter(args)
    for flag in it:
        val = next(it)
        if flag == "--row":
            measure, value, unit, target = (val.split("|") + ["", "", ""])[:4]
            rows.append({"measure": measure, "value": value, "unit": unit, "target": target, "met": met(value, target)})
        elif flag == "--cmd":
            cmds.append(val)
        elif flag == "--note":
            notes.append(val)
        else:
            raise SystemExit(f"summarize.py: unknown flag {flag}")
    doc = {"benchmark": name, "rows": rows, "commands": cmds, "notes": notes}
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, f"{name}.json"), "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")
    md = [f"## {name}", "", table(rows), ""]
    if notes:
        md += [f"- {n}" for n in notes] + [""]
    md += ["Commands:", "", "```"] + cmds + ["```", ""]
    with open(os.path.join(out, f"{name}.md"), "w") as f:
        f.write("\n".join(md))
    print()
    print(f"{name}:")
    w = max([len(r["measure"]) for r in rows] + [7])
    print(f"  {'measure':<{w}}  {'value':>14}  {'unit':<8} {'target':<8} met")
    for r in rows:
        print(f"  {r['measure']:<{w}}  {r['value']:>14}  {r['unit']:<8} {r['target']:<8} {r['met']}")
    for n in notes:
        print(f"  note: {n}")
    print(f"  summary: {os.path.join(out, name + '.md')}")


def collect(out, header, names):
    with open(header) as f:
        md = [f.read().rstrip(), ""]
    md += ["| benchmark | measure | value | unit | target | met |", "|---|---|---:|---|---|---|"]
    docs = []
    for name in names:
        path = os.path.join(out, f"{name}.json")
        if not os.path.exists(path):
            md.append(f"| {name} | (no result) | | | | |")
            continue
        with open(path) as f:
            d = json.load(f)
        docs.append(d)
        for r in d["rows"]:
            md.append(f"| {d['benchmark']} | {r['measure']} | {r['value']} | {r['unit']} | {r['target']} | {r['met']} |")
    md += ["", "## Commands", ""]
    for d in docs:
        md += [f"{d['benchmark']}:", "", "```"] + d["commands"] + ["```", ""]
        md += [f"- {n}" for n in d.get("notes", [])]
        if d.get("notes"):
            md.append("")
    with open(os.path.join(out, "summary.md"), "w") as f:
        f.write("\n".join(md) + "\n")
    with open(os.path.join(out, "summary.json"), "w") as f:
        json.dump(docs, f, indent=2)
        f.write("\n")
    print("\n".join(md))


def main():
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    cmd = sys.argv[1]
    if cmd == "median" and len(sys.argv) == 4:
        print(f"{median(sys.argv[2], sys.argv[3]):.6f}")
    elif cmd == "write" and len(sys.argv) >= 4:
        write(sys.argv[2], sys.argv[3], sys.argv[4:])
    elif cmd == "collect" and len(sys.argv) >= 4:
        collect(sys.argv[2], sys.argv[3], sys.argv[4:])
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
