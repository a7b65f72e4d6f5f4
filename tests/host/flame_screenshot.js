// SPDX-License-Identifier: GPL-2.0-or-later
// Screenshot of a flame graph SVG in headless Chromium (for docs/).
//   node flame_screenshot.js GRAPH.svg OUT.png [QUERY]
// QUERY is the view state the graph keeps in its URL, e.g. "s=^vfs_&i=1".
"use strict";
const fs = require("fs");
const path = require("path");
const { Browser } = require("./cdp");

async function main() {
  const [svg, png, query] = process.argv.slice(2);
  if (!svg || !png) {
    console.error("usage: node flame_screenshot.js GRAPH.svg OUT.png [QUERY]");
    process.exit(2);
  }
  const m = /<svg [^>]*width="(\d+)" height="(\d+)"/.exec(fs.readFileSync(svg, "utf8"));
  const b = await Browser.launch({ width: parseInt(m[1], 10), height: parseInt(m[2], 10) });
  try {
    await b.navigate("file://" + path.resolve(svg) + (query ? "?" + query : ""));
    await b.screenshot(png);
  } finally {
    await b.close();
  }
}
main().catch((e) => { console.error(e); process.exit(1); });
