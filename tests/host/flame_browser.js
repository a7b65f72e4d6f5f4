// SPDX-License-Identifier: GPL-2.0-or-later
// End-to-end test of the flame graph SVG in headless Chromium, used as a
// person would: hover, click a frame to zoom, Ctrl-F to search (answering
// the prompt), toggle case, reload from the URL, reset zoom.  Expected
// values come from the fixture's counts, not from the page.
//
// usage: node flame_browser.js DIAGNOSE_TOOLS OUTDIR
// Prints "  ok: ..." / "  FAILED: ..." per check; exits 1 on any failure.
// Leaves OUTDIR/flame-browser.png (zoomed and searched) for docs/flame.md.
"use strict";
const { execFileSync } = require("child_process");
const fs = require("fs");
const path = require("path");
const { Browser } = require("./cdp");

const [dt, outdir] = process.argv.slice(2);
if (!dt || !outdir) {
  console.error("usage: node flame_browser.js DIAGNOSE_TOOLS OUTDIR");
  process.exit(2);
}
fs.mkdirSync(outdir, { recursive: true });

// user frames, a kernel part above a separator, C++ names with <, &, operator[]
const FIXTURE = [
  ["app;main;parse_config;std::map<std::string, int>::operator[](std::string const&)", 30],
  ["app;main;parse_config;read_file;-;ksys_read_[k];vfs_read_[k]", 20],
  ["app;main;run;Worker<int>::step()", 100],
  ["app;main;run;Worker<int>::step();compute", 60],
  ["app;main;run;write_out;-;ksys_write_[k];vfs_write_[k]", 40],
  ["other;main;idle", 50],
];
const TOTAL = FIXTURE.reduce((s, [, c]) => s + c, 0);
const PLOT = 1200 - 2 * 10;  // default width minus padding

// The oracle: share of samples in stacks under `under` (a folded prefix)
// that have a frame matching `re` (frames as displayed: no _[k] suffix).
function expectedShare(re, under) {
  let n = 0;
  for (const [stack, c] of FIXTURE) {
    if (under && !(stack + ";").startsWith(under + ";")) continue;
    if (stack.split(";").some((f) => re.test(f.replace(/_\[k\]$/, "")))) n += c;
  }
  return n;
}
const pct = (a, b) => (100 * a / b).toFixed(2);

let failures = 0;
function check(what, got, want) {
  if (got === want) {
    console.log(`  ok: ${what} = ${JSON.stringify(got)}`);
  } else {
    failures++;
    console.log(`  FAILED: ${what}: expected ${JSON.stringify(want)}, got ${JSON.stringify(got)}`);
  }
}
function near(what, got, want, eps = 0.02) {
  if (typeof got === "number" && Math.abs(got - want) <= eps) {
    console.log(`  ok: ${what} = ${got}`);
  } else {
    failures++;
    console.log(`  FAILED: ${what}: expected ${want}, got ${got}`);
  }
}

// Page-side helpers: a frame's rect, visibility, and centre on screen.
const FRAME_JS = `
  function frameByName(name) {
    for (const g of document.querySelectorAll("#frames > g")) {
      const t = g.querySelector("title").textContent;
      if (t.substring(0, t.lastIndexOf(" (")) === name) return g;
    }
    return null;
  }
  function frameInfo(name) {
    const g = frameByName(name);
    if (!g) return null;
    const r = g.querySelector("rect"), b = r.getBoundingClientRect();
    return { x: parseFloat(r.getAttribute("x")), y: parseFloat(r.getAttribute("y")),
             width: parseFloat(r.getAttribute("width")), fill: r.getAttribute("fill"),
             shown: getComputedStyle(g).display !== "none", parent: g.classList.contains("parent"),
             label: g.querySelector("text").textContent,
             cx: b.x + b.width / 2, cy: b.y + b.height / 2 };
  }`;

async function main() {
  const folded = path.join(outdir, "fixture.folded");
  const svg = path.join(outdir, "fixture.svg");
  fs.writeFileSync(folded, FIXTURE.map(([s, c]) => `${s} ${c}\n`).join(""));
  execFileSync(dt, ["flame", "--input", folded, "--output", svg, "--title", "flame browser test",
                    "--subtitle", "click, search, reload"]);
  const url = "file://" + path.resolve(svg);

  const height = parseInt(/<svg [^>]*height="(\d+)"/.exec(fs.readFileSync(svg, "utf8"))[1], 10);
  const b = await Browser.launch({ width: 1200, height });
  const dialogs = [];
  let answer = null;
  b.on((msg) => {
    if (msg.method === "Page.javascriptDialogOpening") {
      dialogs.push(msg.params.message);
      b.cmd("Page.handleJavaScriptDialog", { accept: answer !== null, promptText: answer || "" });
    }
  });
  const info = (name) => b.eval(`(() => { ${FRAME_JS}; return frameInfo(${JSON.stringify(name)}); })()`);
  const text = (id) => b.eval(`document.getElementById(${JSON.stringify(id)}).textContent`);
  const search = async (term) => {
    answer = term;
    await b.ctrlKey("f", "KeyF", 70);
    await b.eval("new Promise(r => setTimeout(r, 50))");
    answer = null;
  };

  try {
    await b.navigate(url);
    check("page is an SVG document", await b.eval("document.documentElement.tagName"), "svg");
    const prefixes = new Set();
    for (const [stack] of FIXTURE) stack.split(";").forEach((_, i, a) => prefixes.add(a.slice(0, i + 1).join(";")));
    check("one frame per distinct call path, plus 'all'",
          await b.eval("document.querySelectorAll('#frames > g').length"), prefixes.size + 1);
    check("title", await text("title"), "flame browser test");
    const cxx = await info("std::map<std::string, int>::operator[](std::string const&)");
    check("C++ name intact in the tooltip (frame found by its full name)", cxx !== null, true);
    check("its narrow label is cut with '..'", cxx && cxx.label.endsWith(".."), true);
    const sep = await info("kernel"), kread = await info("ksys_read"), rf = await info("read_file");
    check("kernel part drawn above its user part (read_file < kernel < ksys_read)",
          rf.y > sep.y && sep.y > kread.y, true);

    // hover: the tooltip line at the bottom
    let run = await info("run");
    near("run width before zoom", run.width, PLOT * 200 / TOTAL);
    await b.hover(run.cx, run.cy);
    check("details on hover", await text("details"), `run (200 samples, ${pct(200, TOTAL)}%)`);

    // click to zoom
    await b.click(run.cx, run.cy);
    run = await info("run");
    near("run fills the width after a click", run.width, PLOT);
    near("Worker<int>::step() rescaled", (await info("Worker<int>::step()")).width, PLOT * 160 / 200);
    check("parse_config hidden while zoomed into run", (await info("parse_config")).shown, false);
    check("main shown as a parent", (await info("main")).parent, true);
    check("Reset Zoom shown", await b.eval("!document.getElementById('unzoom').classList.contains('hide')"), true);
    const compute = await info("compute");
    await b.hover(compute.cx, compute.cy);
    check("details give the share of the zoomed frame", await text("details"),
          `compute (60 samples, ${pct(60, TOTAL)}%; ${pct(60, 200)}% of run)`);
    let loc = await b.eval("location.search");
    check("zoom kept in the URL", /[?&]x=[\d.]+&y=[\d.]+/.test(loc), true);

    // search with Ctrl-F and the prompt
    await search("^vfs_");
    check("Ctrl-F opened the search prompt", dialogs.length, 1);
    let m = expectedShare(/^vfs_/, "app;main;run");
    check("matched percentage (zoomed)", await text("matched"),
          `Matched: ${pct(m, TOTAL)}% (${pct(m, 200)}% of zoomed)`);
    check("matching frame highlighted", (await info("vfs_write")).fill, "rgb(230,0,230)");
    check("non-matching frame keeps its colour", (await info("compute")).fill !== "rgb(230,0,230)", true);

    await search("VFS_WRITE|compute");
    m = expectedShare(/VFS_WRITE|compute/, "app;main;run");
    check("case-sensitive search", await text("matched"),
          `Matched: ${pct(m, TOTAL)}% (${pct(m, 200)}% of zoomed)`);
    const ic = await b.eval(`(() => { const b = document.getElementById("ignorecase").getBoundingClientRect();
                                      return [b.x + b.width / 2, b.y + b.height / 2]; })()`);
    await b.click(ic[0], ic[1]);
    m = expectedShare(/VFS_WRITE|compute/i, "app;main;run");
    check("ignoring case after clicking 'ic'", await text("matched"),
          `Matched: ${pct(m, TOTAL)}% (${pct(m, 200)}% of zoomed)`);
    loc = await b.eval("location.search");
    check("search and case kept in the URL",
          new URLSearchParams(loc).get("s") + "/" + new URLSearchParams(loc).get("i"),
          "VFS_WRITE|compute/1");
    await b.screenshot(path.join(outdir, "flame-browser.png"));

    // a reload (or a shared link) shows the same view
    await b.navigate(await b.eval("location.href"));
    near("zoom restored from the URL", (await info("run")).width, PLOT);
    check("search restored from the URL", await text("matched"),
          `Matched: ${pct(m, TOTAL)}% (${pct(m, 200)}% of zoomed)`);
    check("case toggle restored", await b.eval("document.getElementById('ignorecase').classList.contains('on')"), true);

    // reset zoom: everything back, search over the whole graph
    const reset = await b.eval(`(() => { const b = document.getElementById("unzoom").getBoundingClientRect();
                                         return [b.x + b.width / 2, b.y + b.height / 2]; })()`);
    await b.click(reset[0], reset[1]);
    near("run back to its width", (await info("run")).width, PLOT * 200 / TOTAL);
    check("parse_config shown again", (await info("parse_config")).shown, true);
    m = expectedShare(/VFS_WRITE|compute/i);
    check("matched percentage of the whole graph", await text("matched"), `Matched: ${pct(m, TOTAL)}%`);
    check("zoom gone from the URL", /[?&]x=/.test(await b.eval("location.search")), false);
    await b.eval("window.dispatchEvent(new KeyboardEvent('keydown', {key: 'Escape'}))");
    check("Escape clears the search", (await text("matched")).trim(), "");
  } finally {
    await b.close();
  }
}

main().then(() => {
  process.exit(failures ? 1 : 0);
}, (err) => {
  console.log("  FAILED: " + (err && err.stack || err));
  process.exit(1);
});
