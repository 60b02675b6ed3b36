#!/usr/bin/env python3
"""tests/integration/test_html.py - the --format html report in a real browser
(Debian's chromium, headless, installed by scripts/bootstrap.sh): pages made by
check_html (3 sites; 10,000 sites; hostile names that try to inject a script)
and a real trace of a program that leaks on a steady rhythm for 2 s with
--interval 0.2 load from disk with no fetch, run their script to the end
without an error (the page marks the DOM when it finished, and when
window.onerror or a Content-Security-Policy violation fired), lay out the
chart, the table and the flame graph, log nothing on the console, and give a
screenshot that is not blank; hovering, filtering and zooming work. The page
names no URL in any src or href."""
import glob
import os
import re
import shutil
import struct
import subprocess
import tempfile
import unittest
import zlib

from vmleak_common import BUILD, example, main, run, run_vmleak

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
BROWSER_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--enable-logging=stderr", "--v=0",
                 "--window-size=1200,1400"]


def browser(page, *what):
    """Run chromium on page (a file) with --dump-dom or --screenshot=...;
    returns (stdout, stderr)."""
    with tempfile.TemporaryDirectory() as profile:
        p = run([CHROMIUM, *BROWSER_FLAGS, f"--user-data-dir={profile}", *what,
                 "file://" + os.path.abspath(page)],
                capture_output=True, text=True, timeout=120)
    return p.stdout, p.stderr


def attrs(dom):
    """The data-vmleak-* attributes the page's script put on <html>."""
    html_tag = re.search(r"<html[^>]*>", dom)
    assert html_tag, dom[:200]
    return dict(re.findall(r'data-vmleak-([a-z]+)="([^"]*)"', html_tag.group(0)))


# Drives the page's handlers like a user would and records the results.
HARNESS = """(function(){var e=document.documentElement;try{
var svg=document.getElementById('chart'),r=svg.getBoundingClientRect();
svg.dispatchEvent(new MouseEvent('mousemove',{clientX:r.left+r.width*0.6,
 clientY:r.top+r.height/2,bubbles:true}));
var tip=document.getElementById('tip');
e.setAttribute('data-vmleak-tip',tip.style.display+'|'+tip.textContent);
var f=document.getElementById('filter');f.value='fn_2';f.dispatchEvent(new Event('input'));
var shown=function(l){return [].filter.call(l,function(x){return x.style.display!=='none';}).length;};
e.setAttribute('data-vmleak-filter',shown(document.querySelectorAll('#sites tr.site')));
var g=document.querySelectorAll('#flame g');
g[3].dispatchEvent(new MouseEvent('click',{bubbles:true}));
e.setAttribute('data-vmleak-zoom',shown(g)+'|'+g[3].querySelector('rect').getAttribute('width'));
g[0].dispatchEvent(new MouseEvent('click',{bubbles:true}));
e.setAttribute('data-vmleak-unzoom',shown(g));
}catch(x){e.setAttribute('data-vmleak-error','harness: '+x);}})();"""


def png_pixels(path):
    """(width, height, rows of bytes) of an 8-bit RGB(A) PNG, no library needed."""
    with open(path, "rb") as f:
        data = f.read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, hdr = 8, b"", None
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            hdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    w, h, depth, ctype = hdr[:4]
    assert depth == 8 and ctype in (2, 6), hdr
    bpp = 3 if ctype == 2 else 4
    raw, stride, rows, prev = zlib.decompress(idat), w * bpp, [], bytearray(w * bpp)
    for y in range(h):
        ftype, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if ftype == 1:
                line[i] = (line[i] + a) & 255
            elif ftype == 2:
                line[i] = (line[i] + b) & 255
            elif ftype == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif ftype == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return w, h, bpp, rows


@unittest.skipUnless(CHROMIUM, "chromium is not installed (scripts/bootstrap.sh installs it)")
@unittest.skipUnless(os.geteuid() == 0, "the browser test runs chromium as root (--no-sandbox)")
class Html(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp()
        env = dict(os.environ, VMLEAK_HTML_PAGES=cls.dir, CK_VERBOSITY="silent")
        p = run([os.path.join(BUILD, "tests", "check_html")], env=env,
                capture_output=True, text=True, timeout=300)
        if p.returncode:
            raise AssertionError(f"check_html failed: {p.stdout}{p.stderr}")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def assert_self_contained(self, page):
        with open(page, encoding="utf-8") as f:
            text = f.read()
        for tag in re.findall(r"<[a-zA-Z][^>]*>", text):
            names = re.sub(r'"[^"]*"', '""', tag)  # attribute names, not values
            self.assertNotRegex(names, r"\s(src|href)\s*=", tag)
        url = re.search(r"(?i)\b(https?|ftp|wss?|file):|//", text)
        self.assertIsNone(url, f"a URL in the page: {text[url.start() - 40:url.end() + 40]!r}"
                          if url else "")
        self.assertIn("default-src 'none'", text)
        return text

    def load(self, page):
        """Load page in the browser; returns the data-vmleak-* attributes."""
        dom, log = browser(page, "--dump-dom")
        a = attrs(dom)
        self.assertEqual(a.get("ready"), "1", f"the page's script did not finish: {a}")
        self.assertNotIn("error", a, f"script error: {a}")
        console = [l for l in log.splitlines() if "CONSOLE" in l]
        self.assertEqual(console, [], "the page logged on the console")
        drawn = dict(kv.split(":") for kv in a["drawn"].split(";"))
        return dom, drawn

    def assert_box(self, drawn, name, min_w=300, min_h=20):
        w, h = map(int, drawn[name].split("x"))
        self.assertGreaterEqual(w, min_w, f"{name} is {drawn[name]}")
        self.assertGreaterEqual(h, min_h, f"{name} is {drawn[name]}")

    def test_small_page_renders(self):
        page = os.path.join(self.dir, "small.html")
        self.assert_self_contained(page)
        dom, drawn = self.load(page)
        self.assert_box(drawn, "chart", min_h=150)
        self.assert_box(drawn, "table")
        self.assert_box(drawn, "flame")
        self.assertEqual(drawn["rows"], "3")
        self.assertEqual(len(re.findall(r'<polyline class="live"', dom)), 3)

    def test_interactions_run_without_error(self):
        """Hover on the chart, filter the table, zoom the flame graph in and out:
        a harness appended to a copy of the page drives them and writes what it
        saw into the DOM."""
        with open(os.path.join(self.dir, "small.html"), encoding="utf-8") as f:
            page = f.read()
        page = page.replace("</body>", "<script>" + HARNESS + "</script></body>")
        path = os.path.join(self.dir, "interact.html")
        with open(path, "w", encoding="utf-8") as f:
            f.write(page)
        dom, _ = self.load(path)
        a = attrs(dom)
        tip_display, tip = a["tip"].split("|", 1)
        self.assertEqual(tip_display, "block")
        self.assertRegex(tip, r"#1 fn_1 \(leak\.c:1\): [0-9.]+ KiB \([0-9.]+ KiB resident\) at \+")
        self.assertIn("#3 fn_3 (leak.c:3): ", tip)
        self.assertEqual(a["filter"], "1", "filtering on fn_2 leaves its row only")
        # fn_1 zoomed: its 3 callers, itself and its mmap, fn_1 now full width
        self.assertEqual(a["zoom"], "5|1200")
        self.assertEqual(a["unzoom"], "9")

    def test_ten_thousand_sites_page_renders(self):
        page = os.path.join(self.dir, "many.html")
        self.assert_self_contained(page)
        self.assertLess(os.path.getsize(page), 1500 * 1024)
        dom, drawn = self.load(page)
        self.assertEqual(drawn["rows"], "100")
        self.assertIn("9900 more sites, summed", dom)
        self.assert_box(drawn, "chart", min_h=150)

    def test_hostile_names_do_not_run(self):
        page = os.path.join(self.dir, "hostile.html")
        self.assert_self_contained(page)
        dom, drawn = self.load(page)  # an injected script would set data-vmleak-error
        self.assertIn("&lt;/script&gt;&lt;script&gt;document.documentElement", dom)
        self.assertEqual(drawn["rows"], "3")

    def test_screenshot_not_blank(self):
        shot = os.path.join(self.dir, "shot.png")
        browser(os.path.join(self.dir, "small.html"), f"--screenshot={shot}")
        w, h, bpp, rows = png_pixels(shot)
        self.assertEqual((w, h), (1200, 1400))
        colors = set()
        for y in range(0, 700, 3):  # the chart is in the upper half
            row = rows[y]
            for x in range(0, w * bpp, bpp * 3):
                colors.add(row[x:x + 3])
        self.assertGreater(len(colors), 20, "the screenshot is (nearly) blank")
        # the chart's site colors are on screen: red, blue, green lines
        self.assertTrue(any(c[0] > 180 and c[1] < 90 and c[2] < 90 for c in colors), "no red")

    def test_steady_leak_traced_with_interval(self):
        """Issue 13's done-when: 2 s of steady leaking, --interval 0.2."""
        page = os.path.join(self.dir, "r.html")
        p = run_vmleak(["-q", "--interval", "0.2", "--format", "html", "-o", page, "--",
                        example("clone_stack_leak"), "40", "--slow"], timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr)
        text = self.assert_self_contained(page)
        self.assertEqual(text.count("<html"), 1, "interim reports must replace the page")
        self.assertRegex(text, r"vmleak: 40 regions \(1\.6 MiB, [0-9.]+ KiB resident\) never "
                         r"unmapped, from 1 call site")
        dom, drawn = self.load(page)
        self.assertEqual(drawn["rows"], "1")
        self.assert_box(drawn, "table")
        self.assert_box(drawn, "flame")
        self.assert_box(drawn, "chart", min_h=150)
        lines = re.findall(r'<polyline class="live"[^>]* points="([^"]*)"', dom)
        self.assertEqual(len(lines), 1)
        self.assertGreaterEqual(len(lines[0].split()), 10, "a point per 0.2 s for 2 s")
        # the live bytes only grow, to the site's 40 regions at the end
        values = [int(v) for v in re.search(r'<polyline class="live"[^>]* data-b="([^"]*)"',
                                             dom).group(1).split(",")]
        self.assertEqual(values, sorted(values))
        self.assertEqual(values[-1], 40 * 40960)
        self.assertIn('<polyline class="resident"', dom)


if __name__ == "__main__":
    main()
