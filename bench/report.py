"""Turns the outputs of one bench/all.sh run into one Markdown results file, and puts its tables in
the README between <!-- bench:begin --> and <!-- bench:end -->.

  python3 bench/report.py results RUN_DIR > bench/results/latest.md
  python3 bench/report.py readme bench/results/latest.md README.md

RUN_DIR holds meta.env (KEY=VALUE lines written by all.sh) and each step's standard output
(run.out, jobs.out, json.out, bounds.out, isolation.out, scale.out); a missing or failed step is
reported as such, never filled in.
"""
import re
import sys
from pathlib import Path

BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"


def fields(line):
    """key=value pairs of a line (values without spaces)."""
    return dict(re.findall(r"(\w+)=(\S+)", line))


def table(header, rows):
    out = ["| " + " | ".join(header) + " |", "| " + " | ".join("---" for _ in header) + " |"]
    out += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(out)


def thousands(value):
    try:
        number = float(value)
    except ValueError:
        return value
    return f"{number:,.0f}" if number >= 1000 else f"{number:g}"


def api_keys(text):
    """bench/run.sh: its Summary table, one table per scenario without the scenario column."""
    sections = {"a auth overhead": "Auth overhead", "b key scaling": "Stored keys: 100 vs many",
                "c forged flood": "Forged-key flood",
                "d limits": "Quotas, credits, an allow-list and a webhook on the key"}
    grouped, notes = {}, []
    in_table = False
    for line in text.splitlines():
        if line.startswith("| Scenario |"):
            in_table = True
            continue
        if in_table and line.startswith("|"):
            cells = [cell.strip() for cell in line.strip("|").split("|")]
            if len(cells) == 5 and cells[0] in sections:
                grouped.setdefault(cells[0], []).append(cells[1:])
            continue
        if in_table and line.strip() and not line.startswith("Wall time"):
            notes.append(line.strip())
    parts = []
    for key, title in sections.items():
        if key in grouped:
            parts.append(f"**{title}**\n\n" + table(["what", "figure", "target", "met"], grouped[key]))
    if notes:
        parts.append("\n".join(notes))
    return "\n\n".join(parts)


def jobs(text):
    rows, handoff, limiter = [], None, []
    for line in text.splitlines():
        values = fields(line)
        if "jobs_per_second" in values:
            driver = "wrk, closed loop" if values.get("driver") == "wrk" else "aitbc-bench, open loop"
            rows.append([values["miners"], driver, values["jobs"], thousands(f"{float(values['jobs_per_second']):.0f}")])
        elif "handoff_ms_p50" in values:
            handoff = values
        elif "ns_per_decision" in values:
            limiter.append(values)
    parts = []
    if rows:
        parts.append(table(["polling miners", "driver", "jobs (submit → assign → result)", "jobs/s"], rows))
    if handoff:
        parts.append(table(["submit → waiting miner", "p50", "p99"],
                           [[f"{handoff['samples']} samples", handoff["handoff_ms_p50"] + " ms",
                             handoff["handoff_ms_p99"] + " ms"]]))
    if limiter:
        names = {"admitted": "admitted (tenant and key budgets)", "refused_by_key": "refused by the key's budget",
                 "refused_by_tenant": "refused by the tenant's budget",
                 "tenant_only_admitted": "admitted, tenant budget only (a key without its own limit)"}
        parts.append("**Rate-limit decision, in process** (`aitbc-bench limiter`, as the middleware takes it per request)\n\n"
                     + table(["decision", "budgets", "ns per decision", "heap allocations per decision"],
                             [[names.get(v["case"], v["case"]), v["budgets"], v["ns_per_decision"],
                               v["allocations_per_decision"]] for v in limiter]))
    return "\n\n".join(parts)


def json_decoding(text):
    rows = []
    labels = {"json_value": "`JSONValue` of the document", "submit_body": "`POST /v1/jobs` body with it as the payload"}
    size = None
    for line in text.splitlines():
        values = fields(line)
        if "document_bytes" in values:
            size = values["document_bytes"]
        name = line.split(" ", 1)[0]
        if name in labels and "by_kind_ms" in values:
            rows.append([labels[name], values["by_trial_ms"] + " ms", values["by_kind_ms"] + " ms", values["speedup"] + "×"])
        elif name.startswith("small_submit_body") and "by_kind_us" in values:
            small = re.search(r"\((\d+) bytes\)", line)
            rows.append([f"a typical {small.group(1) + '-byte ' if small else ''}`POST /v1/jobs` body", values["by_trial_us"] + " µs",
                         values["by_kind_us"] + " µs", values["speedup"] + "×"])
    if not rows:
        return ""
    head = f"A document of {int(size):,} bytes, median of the rounds.\n\n" if size else ""
    return head + table(["what", "by trial (before)", "by kind (now)", "speed-up"], rows)


def bounds(text):
    memory, handoff = [], []
    mode = None
    for line in text.splitlines():
        if line.startswith("==> memory"):
            mode = "memory"
            continue
        if line.startswith("==> submit"):
            mode = "handoff"
            continue
        if mode == "memory" and line and not line.startswith("build "):
            match = re.match(r"(\S+)\s+(\S+)\s+(\d+)\s+(\d+(?:\.\d+)?(?: \(polled\))?)\s+(\S+)\s+(\S+)$", line.strip())
            if match:
                build, label, count, start, rss, per_job = match.groups()
                memory.append([build, {"-": "empty store", "typical": "typical constraints, 1 KiB payload",
                                       "16KiB": "16 KiB constraints"}.get(label, label),
                               f"{int(count):,}", start.replace(" (polled)", "") + " ms" + (" (polled: launch → `/ready`)" if "polled" in start else ""), rss + " MiB", per_job if per_job == "-" else per_job + " KiB"])
        elif mode == "handoff" and "handoff_ms_p50" in line:
            values = fields(line)
            load = "alone" if values.get("background_jobs") == "0" else \
                f"beside {int(values['background_jobs']):,} queued jobs no miner can run and {int(values['idle_miners']):,} idle long-polling miners"
            handoff.append([line.split()[0], load, values["handoff_ms_p50"] + " ms", values["handoff_ms_p99"] + " ms"])
    parts = []
    if memory:
        parts.append(table(["build", "store", "queued jobs", "start-up (main → listening)", "RSS", "per queued job"], memory))
    if handoff:
        parts.append(table(["build", "submit → waiting miner", "p50", "p99"], handoff))
    return "\n\n".join(parts)


def isolation(text):
    rows, notes = [], []
    for line in text.splitlines():
        match = re.match(r"(.+?)\s+(\d+\.\d+)\s+(\d+\.\d+)\s+(\d+)$", line.strip())
        if match and not line.startswith("=="):
            rows.append([match.group(1), match.group(2) + " ms", match.group(3) + " ms", thousands(match.group(4))])
        elif line.strip().startswith("("):
            notes.append(re.sub(r"\s+", " ", line.strip()))
    if not rows:
        return ""
    return table(["another tenant's `GET /v1/me` (`wrk -c4`)", "p50", "p99", "req/s"], rows) + (
        "\n\n" + "\n".join(f"- {note.strip('()')}" for note in notes) if notes else "")


def scale(text):
    rows, notes = [], []
    labels = {"one-direct": "one instance on PostgreSQL, direct", "one-nginx": "one instance behind nginx",
              "three-nginx": "three instances behind nginx"}
    for line in text.splitlines():
        row = re.match(r"^(\S+)\s+(\d+) req/s\s+p99 ([\d.]+ ms)\s+\(median of (\d+): (.*)\)$", line)
        if row and row.group(1) in labels:
            rows.append([labels[row.group(1)], thousands(row.group(2)), row.group(3), f"{row.group(4)} ({row.group(5)})"])
        elif line.startswith(("rate-limit over-admission", "revocation propagation", "three instances behind nginx",
                               "CPU per request behind nginx")):
            note = re.sub(r"\s+", " ", line.strip())
            if note not in notes:
                notes.append(note)
    if not rows:
        return ""
    return (table(["authenticated `GET /v1/me`", "req/s (median)", "p99 (median)", "samples (req/s)"], rows)
            + "\n\n" + "\n".join(f"- {n}" for n in notes))


def storage(text):
    rates, ratios, notes = [], [], []
    summary = text.split("Summary", 1)[-1].splitlines()[1:]
    for line in summary:
        rate = re.match(r"^(\S+)\s+(\d+) req/s \((?:mean|median) of (\d+)\)$", line)
        ratio = re.match(r"^(.*?)\s{2,}([\d.]+)\s+\(target (.*)\)$", line)
        if rate:
            rates.append([f"`{rate.group(1)}`", thousands(rate.group(2)), rate.group(3)])
        elif ratio:
            ratios.append([ratio.group(1), ratio.group(2), ratio.group(3)])
        elif line.strip():
            notes.append(line.strip())
    parts = []
    if ratios:
        parts.append(table(["ratio, one run", "measured", "target"], ratios))
    if rates:
        parts.append(table(["sample (wrk)", "req/s", "samples"], rates))
    if notes:
        parts.append("\n".join(f"- {note}" for note in notes))
    return "\n\n".join(parts)


STEPS = [
    ("run", "API keys (`bench/run.sh`)", api_keys),
    ("jobs", "Jobs (`bench/jobs.sh`)", jobs),
    ("json", "JSON decoding (`bench/json.sh`)", json_decoding),
    ("bounds", "Per-tenant bounds (`bench/bounds.sh`)", bounds),
    ("isolation", "Tenant isolation (`bench/isolation.sh`)", isolation),
    ("scale", "Scaling out on PostgreSQL (`bench/scale.sh`)", scale),
    ("storage", "Where storage decides (`bench/storage.sh`)", storage),
]


def results(run_dir):
    run = Path(run_dir)
    meta = dict(line.split("=", 1) for line in (run / "meta.env").read_text().splitlines() if "=" in line)
    out = ["# Benchmark results", ""]
    mode = " — **quick mode** (short samples: for trying the command, not for comparing)" if meta.get("QUICK") == "1" else ""
    out.append(f"`{meta.get('COMMAND', 'bash bench/all.sh')}`, {meta.get('DATE', '?')}{mode}.")
    out.append("")
    out.append(f"- machine: {meta.get('NPROC', '?')} cores (`nproc`), {meta.get('CPU', '?')}, "
               f"{meta.get('MEMORY', '?')} memory, Linux {meta.get('KERNEL', '?')}; load average at the start {meta.get('LOAD', '?')}")
    commit = f"- commit: `{meta.get('COMMIT', '?')}` “{meta.get('SUBJECT', '')}”"
    if meta.get("DIRTY") == "1":
        commit += " **with uncommitted changes**"
    if meta.get("BASELINE"):
        commit += f"; baseline: `{meta['BASELINE']}` (built in a worktree, run in the same session)"
    out.append(commit)
    out.append(f"- {meta.get('SWIFT', 'swift ?')}, release builds; wall time of the benchmarks {meta.get('WALL', '?')}")
    out.append("")
    for name, title, parse in STEPS:
        status = meta.get(f"STATUS_{name}")
        if status is None:
            continue
        out.append(f"## {title}")
        out.append("")
        output = run / f"{name}.out"
        body = parse(output.read_text()) if output.exists() else ""
        if status != "0":
            out.append(f"**This step failed (exit status {status}); see `{run}/{name}.log`.**")
            out.append("")
        out.append(body if body else "(no figures)")
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def readme(results_path, readme_path):
    generated = Path(results_path).read_text()
    # The README's section is "## Benchmarks": the results' sections go one level down.
    body = generated.split("\n", 1)[1].lstrip("\n")
    body = re.sub(r"^## ", "### ", body, flags=re.M)
    text = Path(readme_path).read_text()
    if BEGIN not in text or END not in text:
        raise SystemExit(f"{readme_path} has no {BEGIN} … {END} block")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    note = f"<!-- generated by bench/all.sh from {results_path}: do not edit by hand -->\n"
    Path(readme_path).write_text(head + BEGIN + "\n" + note + "\n" + body.rstrip() + "\n\n" + END + tail)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "results":
        sys.stdout.write(results(sys.argv[2]))
    elif len(sys.argv) == 4 and sys.argv[1] == "readme":
        readme(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)
