"""Print hyperfine JSON exports as markdown: one row per command with its median and its
ratio to a baseline command.  Usage: python3 benches/medians.py BASELINE FILE.json..."""
import json
import sys

baseline, files = sys.argv[1], sys.argv[2:]
for path in files:
    results = json.load(open(path))["results"]
    base = next(r["median"] for r in results if r["command"] == baseline)
    print(f"\n{path.rsplit('/', 1)[-1]}\n| command | median | ratio |\n| --- | --- | --- |")
    for r in results:
        print(f"| {r['command']} | {r['median'] * 1000:.1f} ms | {r['median'] / base:.2f}x |")
