#!/usr/bin/env python3
"""tests/integration/test_interface.py - the statements of the contract cannot
drift apart from the code: every option that `vmleak --help` lists (long and
short, with its argument) has an item in man/vmleak.1's OPTIONS section and a row
in the option table of docs/interface.md, and neither documents an option that
--help does not list; the JSON example of docs/interface.md has, at every level,
exactly the keys that vmleak writes."""
import json
import os
import re
import shlex
import unittest

from vmleak_common import SRC, example, main, run_json, run_vmleak

MAN = os.path.join(SRC, "man", "vmleak.1")
CONTRACT = os.path.join(SRC, "docs", "interface.md")
OPTION = re.compile(r"(?<![\w-])(--?[A-Za-z][A-Za-z-]*)")


def help_synopses():
    """{"-p, --pid PID[,PID...]", ...}: the option column of --help."""
    proc = run_vmleak(["--help"])
    if proc.returncode != 0:
        raise AssertionError(f"--help exited {proc.returncode}: {proc.stderr!r}")
    out = set()
    in_options = False
    for line in proc.stdout.splitlines():
        if line.startswith("Options:"):
            in_options = True
            continue
        if in_options and not line.strip():
            break
        if in_options and re.match(r"^\s+-", line):
            out.add(re.split(r"\s{2,}", line.strip())[0])
    return out


def roff_text(args):
    """The text of a .B/.BR/.BI line's arguments: fonts dropped, joined as troff
    joins alternating-font arguments (no space between them)."""
    words = shlex.split(args.replace("\\-", "-"), posix=True)
    text = "".join(words)
    return re.sub(r"\\f[BIRP]", "", text)


def man_synopses():
    """The item line of each .TP in the OPTIONS section, as plain text."""
    with open(MAN) as f:
        lines = f.read().splitlines()
    start = lines.index(".SH OPTIONS")
    out = set()
    for i in range(start + 1, len(lines)):
        if lines[i].startswith(".SH "):
            break
        if lines[i] != ".TP":
            continue
        m = re.match(r"^\.(B|BR|BI|I|IR)\s+(.*)$", lines[i + 1])
        if m:
            out.add(roff_text(m.group(2)))
    return out


def contract_synopses():
    """The first cell of each row of the option table of "## Command line"."""
    with open(CONTRACT) as f:
        text = f.read()
    section = text.split("\n## Command line\n", 1)[1].split("\n## ", 1)[0]
    out = set()
    for line in section.splitlines():
        m = re.match(r"^\| `([^`]+)` \|", line)
        if m and m.group(1).startswith("-"):
            out.add(m.group(1).replace("\\|", "|"))
    return out


def options_of(synopses):
    return {o for s in synopses for o in OPTION.findall(s)}


class OptionsAgree(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.help = help_synopses()

    def test_help_lists_options(self):
        # a parser that finds nothing would make the other tests vacuous
        self.assertIn("-p, --pid PID[,PID...]", self.help)
        self.assertIn("--verify", self.help)
        self.assertGreaterEqual(len(options_of(self.help)), 20)

    def test_man_page_has_every_option(self):
        man = man_synopses()
        self.assertEqual(sorted(self.help - man), [], "in --help, not in man/vmleak.1")
        self.assertEqual(sorted(man - self.help), [], "in man/vmleak.1, not in --help")

    def test_contract_has_every_option(self):
        doc = contract_synopses()
        self.assertEqual(sorted(self.help - doc), [], "in --help, not in docs/interface.md")
        self.assertEqual(sorted(doc - self.help), [], "in docs/interface.md, not in --help")

    def test_every_short_and_long_option_is_named(self):
        # the same check per option name, so a renamed metavariable alone is
        # told apart from a missing option
        names = options_of(self.help)
        self.assertTrue({"-p", "--pid", "-j", "-q", "--quiet", "-V"} <= names)
        for where, synopses in (("man/vmleak.1", man_synopses()),
                                ("docs/interface.md", contract_synopses())):
            self.assertEqual(sorted(names - options_of(synopses)), [], f"missing in {where}")

    def test_help_options_are_accepted(self):
        # --help is not a list of wishes: every option it names parses (an
        # unknown one is refused with "unknown option"); -h and -V exit 0
        for name in sorted(options_of(self.help)):
            proc = run_vmleak([name])
            self.assertNotIn("unknown option", proc.stderr, name)
            if name in ("-h", "--help", "-V", "--version"):
                self.assertEqual(proc.returncode, 0, name)
            else:
                self.assertEqual(proc.returncode, 1, name)
                self.assertRegex(proc.stderr, r"^vmleak: ", name)

def contract_json_example():
    with open(CONTRACT) as f:
        text = f.read()
    section = text.split("\n## JSON report", 1)[1]
    return json.loads(section.split("```json\n", 1)[1].split("\n```", 1)[0])


def key_levels(report):
    """{level: set of keys} of a report: the top level and each kind of object."""
    site = report["sites"][0]
    return {
        "top": set(report),
        "exit": set(report["exit"]),
        "events": set(report["events"]),
        "totals": set(report["totals"]),
        "process": set(report["processes"][0]),
        "site": set(site),
        "frame": set(site["frames"][0]),
        "region": set(site["regions"][0]),
        "verify": set(report["verify"]),
    }


class JsonExampleAgrees(unittest.TestCase):
    def test_example_has_the_keys_vmleak_writes(self):
        report, proc = run_json([example("clone_stack_leak"), "2"], options=["--verify"])
        self.assertEqual(proc.returncode, 0, proc.stderr)
        ours, doc = key_levels(report), key_levels(contract_json_example())
        for level in ours:
            with self.subTest(level=level):
                self.assertEqual(sorted(ours[level]), sorted(doc[level]),
                                 f"keys of {level}: vmleak's (first) vs docs/interface.md's")
        # every frame of the example has the same keys
        for frame in contract_json_example()["sites"][0]["frames"]:
            self.assertEqual(set(frame), ours["frame"])


if __name__ == "__main__":
    main()
