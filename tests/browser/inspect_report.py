"""Checks what check_html_report.sh collected in OUT_DIR: the DOM headless Chromium built from
the HTML report (dom.html), its screenshot (report.png) and the CSV files of the same run.
Standard library only. Prints one line per failed check and exits 1 if any failed."""

import csv
import re
import struct
import sys
import zlib
from html.parser import HTMLParser
from pathlib import Path

LINE_CHARTS = ["chart-active", "chart-connection-rates", "chart-messages", "chart-round-trip"]
DISTRIBUTIONS = ["chart-rtt-distribution", "chart-connect-distribution"]
SCREENSHOT_SIZE = (1280, 2000)

failures = []


def check(ok, what):
    if not ok:
        failures.append(what)
    return ok


class ChartCollector(HTMLParser):
    """Every <svg id=chart-...>: its attributes and the series paths, bars and axis labels in it."""

    def __init__(self):
        super().__init__()
        self.charts, self.current, self.depth, self.text_of = {}, None, 0, None
        self.ids, self.scenario = set(), ""

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"])
        if a.get("id") == "scenario":
            self.text_of = "scenario"
        if tag == "svg" and a.get("id", "").startswith("chart-"):
            self.current = {"attrs": a, "paths": [], "bars": 0, "axis_labels": []}
            self.charts[a["id"]] = self.current
            self.depth = 0
        if self.current is None:
            return
        self.depth += 1
        if tag == "path" and "series" in a.get("class", ""):
            self.current["paths"].append(a)
        if tag == "rect" and a.get("class") == "bar":
            self.current["bars"] += 1
        if tag == "text" and a.get("class") == "axis-label":
            self.text_of = "axis"
            self.current["axis_labels"].append("")

    def handle_endtag(self, tag):
        if tag in ("text", "span"):
            self.text_of = None
        if self.current is not None:
            self.depth -= 1
            if tag == "svg" and self.depth <= 0:
                self.current = None

    def handle_data(self, data):
        if self.text_of == "scenario":
            self.scenario += data
        elif self.text_of == "axis" and self.current is not None:
            self.current["axis_labels"][-1] += data


def check_dom(out, history_rows):
    parser = ChartCollector()
    parser.feed((out / "dom.html").read_text(encoding="utf-8"))
    check(parser.scenario == "im_bench", f"scenario shown as {parser.scenario!r}, not 'im_bench'")
    for id_ in ("verdict", "table-requests", "table-connections", "table-connect-latency", "table-heartbeat",
                "table-messages", "table-config", "table-environment", "table-phases", "table-levels"):
        check(id_ in parser.ids, f"no element #{id_}")
    for id_ in LINE_CHARTS + DISTRIBUTIONS:
        chart = parser.charts.get(id_)
        if not check(chart is not None, f"no chart #{id_}"):
            continue
        points = int(chart["attrs"].get("data-points", "0"))
        check(points > 0, f"#{id_}: data-points is {points}")
        labels = chart["axis_labels"]
        check(len(labels) == 2 and all(labels), f"#{id_}: axis labels {labels}")
        check(any("(" in l for l in labels), f"#{id_}: no unit in the axis labels {labels}")
        if id_ in DISTRIBUTIONS:
            check(chart["bars"] == points, f"#{id_}: {chart['bars']} bars drawn for data-points={points}")
            continue
        series = int(chart["attrs"].get("data-series", "0"))
        check(len(chart["paths"]) == series, f"#{id_}: {len(chart['paths'])} paths for data-series={series}")
        for p in chart["paths"]:
            drawn = len(re.findall(r"[ML]", p.get("d", "")))
            check(drawn == int(p.get("data-points", "-1")) and drawn > 0,
                  f"#{id_} {p.get('data-label')}: path has {drawn} points, says {p.get('data-points')}")
        if id_ == "chart-round-trip":
            seconds_with_rtt = sum(1 for r in history_rows if int(r["round_trips"]) > 0)
            check(points == seconds_with_rtt, f"#{id_}: {points} points, {seconds_with_rtt} seconds had round trips")
        else:
            check(points == len(history_rows), f"#{id_}: {points} points, the history CSV has {len(history_rows)} rows")


def check_csv(out):
    with open(out / "run_stats.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    names = [r["Name"] for r in rows]
    check(names[-1:] == ["Aggregated"], f"run_stats.csv: last row is not Aggregated: {names}")
    for name in ("connect", "round trip", "ping"):
        row = next((r for r in rows if r["Name"] == name), None)
        if check(row is not None, f"run_stats.csv: no {name!r} row ({names})"):
            check(int(row["Request Count"]) > 0, f"run_stats.csv: {name!r} has no requests")
    with open(out / "run_stats_history.csv", newline="") as f:
        history = list(csv.DictReader(f))
    check(len(history) >= 4, f"run_stats_history.csv: {len(history)} rows for a 4 s run")
    check((out / "run_failures.csv").read_bytes().startswith(b"Kind,Class,Code,Count\r\n"), "run_failures.csv: header")
    # --steps 25,50: a row per level, each starting 25 users.
    with open(out / "run_phases.csv", newline="") as f:
        phases = list(csv.DictReader(f))
    check([r["Phase"] for r in phases] == ["level 25", "level 50"], f"run_phases.csv: phases {[r['Phase'] for r in phases]}")
    check(all(r["Users Started"] == "25" for r in phases), "run_phases.csv: not 25 users started per level")
    return history


def png_pixels(path):
    """(width, height, rows of RGB(A) bytes) of an 8-bit non-interlaced truecolour PNG."""
    data = path.read_bytes()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat, width = 8, b"", 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            if depth != 8 or colour not in (2, 6) or interlace:
                raise ValueError(f"unexpected PNG format: depth {depth}, colour type {colour}, interlace {interlace}")
            bpp = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw, stride, rows, prev = zlib.decompress(idat), width * bpp, [], bytearray(width * bpp)
    for y in range(height):
        filt, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        if filt == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 0xFF
        elif filt == 2:
            line = bytearray((a + b) & 0xFF for a, b in zip(line, prev))
        elif filt == 3:
            for i in range(stride):
                line[i] = (line[i] + ((line[i - bpp] if i >= bpp else 0) + prev[i]) // 2) & 0xFF
        elif filt == 4:
            for i in range(stride):
                a, b, c = (line[i - bpp] if i >= bpp else 0), prev[i], (prev[i - bpp] if i >= bpp else 0)
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        rows.append(line)
        prev = line
    return width, height, bpp, rows


def check_screenshot(out):
    path = out / "report.png"
    check(path.stat().st_size > 20_000, f"report.png is only {path.stat().st_size} bytes")
    width, height, bpp, rows = png_pixels(path)
    check((width, height) == SCREENSHOT_SIZE, f"report.png is {width}x{height}, not {SCREENSHOT_SIZE}")
    colours, blue, red, ink = set(), 0, 0, 0
    for line in rows:
        for x in range(0, width * bpp, bpp):
            r, g, b = line[x], line[x + 1], line[x + 2]
            colours.add((r, g, b))
            if abs(r - 0x25) < 40 and abs(g - 0x63) < 40 and abs(b - 0xEB) < 40:
                blue += 1  # the first series: open connections, new connections, sent, P50
            elif abs(r - 0xDC) < 40 and abs(g - 0x26) < 40 and abs(b - 0x26) < 40:
                red += 1  # the second series: failures, received, P99
            if r + g + b < 384:
                ink += 1
    check(len(colours) >= 32, f"report.png has only {len(colours)} colours")
    check(blue >= 1000, f"report.png has {blue} pixels of the first series colour: were the lines drawn?")
    check(red >= 200, f"report.png has {red} pixels of the second series colour: were the lines drawn?")
    check(ink >= 5000, f"report.png has {ink} dark pixels: was the text drawn?")
    print(f"screenshot {width}x{height}: {len(colours)} colours, {blue} blue and {red} red series pixels, {ink} dark")


def main():
    out = Path(sys.argv[1])
    history = check_csv(out)
    check_dom(out, history)
    check_screenshot(out)
    for f in failures:
        print(f"inspect_report: {f}", file=sys.stderr)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
