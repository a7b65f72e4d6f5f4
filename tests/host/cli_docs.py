#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# The man pages and the shell completion cover the whole command line:
# every subcommand, every option CLI11 accepts (as --help lists it) and
# every --activate key appears in the subcommand's man page, is offered by
# the bash completion when completing, and is in the zsh completion.  Also:
# the pages render without groff warnings, the zsh file parses.
#
# usage: tests/host/cli_docs.py path/to/diagnose-tools
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

cli = sys.argv[1]
failures = []


def check(ok, what):
    if not ok:
        failures.append(what)


def run(*args, **kw):
    return subprocess.run(args, capture_output=True, text=True, **kw)


spec = json.loads(run(cli, "--dump-cli-spec").stdout)
subs = spec["subcommands"]
check(len(subs) >= 8, f"only {len(subs)} subcommands in the spec")

# the spec against --help: an option --help shows that the spec lacks (or
# the other way round) would mean the generators read something else
opt_re = re.compile(r"(?<![\w-])(--?[A-Za-z][\w-]*)")
for s in subs:
    help_text = run(cli, s["name"], "--help").stdout
    # the option groups ("Options:" and any named group after it, such as
    # flame's "perf script input:"), not the footer's key table
    block = help_text.split("Options:", 1)[-1]
    block = block.split("--activate keys:", 1)[0]
    # the names column: from the first dash to the first run of blanks
    cols = [m.group(1) for m in (re.match(r"\s+(-\S.*?)(\s{2,}|$)", l) for l in block.splitlines()) if m]
    shown = {n for c in cols for n in opt_re.findall(c)}
    spec_opts = {n for o in s["options"] for n in o["names"]}
    check(shown <= spec_opts, f"{s['name']}: --help shows {sorted(shown - spec_opts)} not in the spec")
    check(spec_opts <= shown | {"-h", "--help"},
          f"{s['name']}: spec has {sorted(spec_opts - shown)} that --help does not show")
    if s["name"] in ("migrate-image", "kprobe", "keytime-image", "resource-image"):
        check("keys" in s and s["keys"], f"{s['name']}: no --activate keys in the spec")
        for k in s.get("keys", []):
            check(re.search(r"^\s+" + re.escape(k["name"]) + r"\s", help_text, re.M),
                  f"{s['name']}: key {k['name']} of the spec not in --help")

tmp = tempfile.mkdtemp()
try:
    mandir = os.path.join(tmp, "man")
    os.mkdir(mandir)
    r = run(cli, "--generate-man", mandir)
    check(r.returncode == 0, f"--generate-man failed: {r.stderr}")

    def page_text(name):
        path = os.path.join(mandir, name)
        if not os.path.exists(path):
            failures.append(f"no man page {name}")
            return ""
        g = run("groff", "-man", "-ww", "-z", path)
        check(g.returncode == 0 and not g.stderr.strip(), f"{name}: groff warns: {g.stderr.strip()}")
        text = open(path).read()
        return re.sub(r"\\f[BIRP]", "", text.replace("\\-", "-").replace("\\e", "\\"))

    main = page_text("diagnose-tools.8")
    for o in spec["options"]:
        for n in o["names"]:
            check(n in main, f"diagnose-tools.8 lacks {n}")
    page_text("diagnose-migration-trace.7")
    for s in subs:
        check(s["name"] in main, f"diagnose-tools.8 does not list {s['name']}")
        page = page_text(f"diagnose-tools-{s['name']}.8")
        for o in s["options"]:
            for n in o["names"] or [o.get("name", "")]:
                check(n in page, f"diagnose-tools-{s['name']}.8 lacks option {n}")
        if "keys" in s:
            keys_sec = page.split(".SH ACTIVATE KEYS", 1)[-1].split(".SH", 1)[0]
            for k in s["keys"]:
                check(re.search(r"^" + re.escape(k["name"]) + "=", keys_sec, re.M),
                      f"diagnose-tools-{s['name']}.8 lacks key {k['name']}")
        for sec in ("NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "EXIT STATUS", "EXAMPLES"):
            check(f".SH {sec}" in page, f"diagnose-tools-{s['name']}.8 has no {sec} section")

    # bash: source the completion and complete as a user would
    bash_file = os.path.join(tmp, "diagnose-tools.bash")
    with open(bash_file, "w") as f:
        f.write(run(cli, "--generate-completion", "bash").stdout)

    def complete(line):
        # the words as bash makes them: split at blanks, and at '=' and ':'
        # (COMP_WORDBREAKS), which become words of their own
        words = []
        for token in line.split():
            words += re.findall(r"[=:]+|[^=:]+", token)
        if line.endswith(" ") or not words:
            words.append("")
        script = (f"source {bash_file}\nCOMP_WORDS=({' '.join(repr(w) for w in words)})\n"
                  f"COMP_CWORD={len(words) - 1}\nCOMP_LINE={line!r}\nCOMP_POINT={len(line)}\n"
                  "_diagnose_tools\nprintf '%s\\n' \"${COMPREPLY[@]}\"\n")
        r = run("bash", "-c", script)
        check(r.returncode == 0, f"bash completion failed on {line!r}: {r.stderr}")
        # what the command line reads after bash puts a reply in place
        head = line[: len(line) - len(words[-1])]
        return {head + c for c in r.stdout.split("\n") if c}

    top = complete("diagnose-tools ")
    for s in subs:
        check(f"diagnose-tools {s['name']}" in top, f"bash completion does not offer {s['name']}")
        cmd = f"diagnose-tools {s['name']} "
        offered = complete(cmd + "-")
        for o in s["options"]:
            for n in o["names"]:
                check(cmd + n in offered, f"bash: {s['name']} - does not offer {n}")
        for o in s["options"]:
            for n in o["names"] if o.get("choices") else []:
                offered = complete(cmd + n + " ")
                for c in o["choices"]:
                    check(cmd + n + " " + c in offered, f"bash: {s['name']} {n} does not offer {c}")
        if "keys" in s:
            for typed in ("--activate=", "--activate=pid=1,", "--activate pid=1,"):
                offered = complete(cmd + typed)
                for k in s["keys"]:
                    check(cmd + typed + k["name"] + "=" in offered,
                          f"bash: {s['name']} {typed} does not offer {k['name']}=")
            # a prefix narrows the choice
            first = s["keys"][0]["name"]
            offered = complete(cmd + "--activate=" + first[:-1])
            check(cmd + "--activate=" + first + "=" in offered,
                  f"bash: {s['name']} --activate={first[:-1]} does not complete {first}=")

    # zsh: every option and key inside the subcommand's own function
    zsh_text = run(cli, "--generate-completion", "zsh").stdout
    for s in subs:
        fn = "_diagnose_tools_" + s["name"].replace("-", "_") + "() {"
        body = zsh_text.split(fn, 1)[-1].split("\n}\n", 1)[0] if fn in zsh_text else ""
        check(body, f"zsh: no function for {s['name']}")
        for o in s["options"]:
            for n in o["names"]:
                check(re.search(r"[{,']" + re.escape(n) + r"[=,}\[]", body),
                      f"zsh: {s['name']} lacks {n}")
        for k in s.get("keys", []):
            check("'" + k["name"] + "[" in body, f"zsh: {s['name']} lacks key {k['name']}")
    if shutil.which("zsh"):
        zf = os.path.join(tmp, "_diagnose-tools")
        open(zf, "w").write(zsh_text)
        r = run("zsh", "-n", zf)
        check(r.returncode == 0, f"zsh -n: {r.stderr}")
finally:
    shutil.rmtree(tmp)

n_opts = sum(len(o["names"]) for s in subs for o in s["options"])
n_keys = sum(len(s.get("keys", [])) for s in subs)
for f in failures:
    print("FAIL:", f)
print(f"{len(subs)} subcommands, {n_opts} option names, {n_keys} keys checked: "
      f"{len(failures)} problems")
sys.exit(1 if failures else 0)
