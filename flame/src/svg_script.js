// SPDX-License-Identifier: MIT
// Interaction for flame graphs written by diagnose-tools flame.
// `fl` (set by the writer before this script): inverted, diff, total,
// countname, width, xpad, fontsize, fontwidth, searchcolor.
"use strict";
var frames = [];        // {g, rect, text, x, w, y, xs, ys, name, count, fill, label}
var byKey = {};         // "x,y" (as written) -> frame, for zoom state in the URL
var zoomed = null;      // the frame zoomed into, or null
var searchTerm = "";    // the active search, or ""
var ignoreCase = false;
var details, matchedText, unzoomBtn, searchBtn, icBtn;

function init(evt) {
  details = document.getElementById("details").firstChild;
  matchedText = document.getElementById("matched");
  unzoomBtn = document.getElementById("unzoom");
  searchBtn = document.getElementById("search");
  icBtn = document.getElementById("ignorecase");
  var root = document.getElementById("frames");
  if (!root) return;
  var gs = root.children;
  for (var i = 0; i < gs.length; i++) {
    var g = gs[i], title = g.children[0], rect = g.children[1], text = g.children[2];
    var t = title.textContent, cut = t.lastIndexOf(" (");
    var f = {
      g: g, rect: rect, text: text,
      xs: rect.getAttribute("x"), ys: rect.getAttribute("y"),
      w: parseFloat(rect.getAttribute("width")),
      name: cut >= 0 ? t.substring(0, cut) : t,
      count: parseFloat(g.getAttribute("c")),
      fill: rect.getAttribute("fill"),
      label: text.textContent
    };
    f.x = parseFloat(f.xs);
    f.y = parseFloat(f.ys);
    g.frameIndex = frames.length;
    frames.push(f);
    byKey[f.xs + "," + f.ys] = f;
  }
  root.addEventListener("click", function (e) {
    var f = frameOf(e.target);
    if (f) zoom(f);
  });
  root.addEventListener("mouseover", function (e) {
    var f = frameOf(e.target);
    if (f) details.nodeValue = describe(f);
  });
  root.addEventListener("mouseout", function () { details.nodeValue = " "; });
  unzoomBtn.addEventListener("click", function () { unzoom(); });
  searchBtn.addEventListener("click", function () {
    if (searchTerm) clearSearch(); else searchPrompt();
  });
  icBtn.addEventListener("click", function () { toggleCase(); });
  window.addEventListener("keydown", function (e) {
    if (e.key === "F3" || ((e.ctrlKey || e.metaKey) && e.key === "f")) {
      e.preventDefault();
      searchPrompt();
    } else if ((e.ctrlKey || e.metaKey) && e.key === "i") {
      e.preventDefault();
      toggleCase();
    } else if (e.key === "Escape") {
      if (zoomed) unzoom(); else clearSearch();
    }
  });
  // restore the state kept in the URL
  var p = new URLSearchParams(window.location.search);
  if (p.get("i") === "1") setCase(true);
  var z = byKey[p.get("x") + "," + p.get("y")];
  if (z) zoom(z, true);
  if (p.get("s")) search(p.get("s"), true);
}

function frameOf(el) {
  while (el && !(el.parentNode && el.parentNode.id === "frames")) el = el.parentNode;
  return el ? frames[el.frameIndex] : null;
}

function grouped(n) {
  return String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

function pct(part, whole) {
  return whole > 0 ? (100 * part / whole).toFixed(2) : "0.00";
}

// The tooltip text, plus the share of the zoomed frame.
function describe(f) {
  var t = f.g.children[0].textContent;
  if (zoomed && zoomed !== frames[0] && f !== zoomed && isInside(f, zoomed))
    t = t.replace(/\)$/, "; " + pct(f.count, zoomed.count) + "% of " + zoomed.name + ")");
  return t;
}

// Is f within z's subtree (or z itself)?  Children are drawn inside their
// parent's span, one level further from the root.
function isInside(f, z) {
  var further = fl.inverted ? f.y >= z.y : f.y <= z.y;
  return further && f.x >= z.x - 0.005 && f.x + f.w <= z.x + z.w + 0.005;
}

function isAncestor(f, z) {
  var nearer = fl.inverted ? f.y < z.y : f.y > z.y;
  return nearer && f.x <= z.x + 0.005 && f.x + f.w >= z.x + z.w - 0.005;
}

function fitLabel(f, w) {
  var n = Math.floor((w - 3) / (fl.fontsize * fl.fontwidth));
  if (n < 3) return "";
  return f.name.length <= n ? f.name : f.name.substring(0, n - 2) + "..";
}

function place(f, x, w) {
  f.rect.setAttribute("x", x.toFixed(2));
  f.rect.setAttribute("width", w.toFixed(2));
  f.text.setAttribute("x", (x + 3).toFixed(2));
  f.text.textContent = fitLabel(f, w);
}

function zoom(z, fromUrl) {
  if (zoomed) restoreAll();
  zoomed = z;
  unzoomBtn.classList.remove("hide");
  var full = fl.width - 2 * fl.xpad, scale = full / z.w;
  for (var i = 0; i < frames.length; i++) {
    var f = frames[i];
    if (f === z || isInside(f, z)) {
      place(f, fl.xpad + (f.x - z.x) * scale, f.w * scale);
    } else if (isAncestor(f, z)) {
      f.g.classList.add("parent");
      place(f, fl.xpad, full);
    } else {
      f.g.style.display = "none";
    }
  }
  if (searchTerm) updateMatched();
  if (!fromUrl) saveState();
}

function restoreAll() {
  for (var i = 0; i < frames.length; i++) {
    var f = frames[i];
    f.g.style.display = "";
    f.g.classList.remove("parent");
    f.rect.setAttribute("x", f.xs);
    f.rect.setAttribute("width", String(f.w));
    f.text.setAttribute("x", (f.x + 3).toFixed(2));
    f.text.textContent = f.label;
  }
}

function unzoom() {
  if (!zoomed) return;
  restoreAll();
  zoomed = null;
  unzoomBtn.classList.add("hide");
  if (searchTerm) updateMatched();
  saveState();
}

function searchPrompt() {
  var term = window.prompt("Search for (regular expression" +
                           (ignoreCase ? ", ignoring case" : "") + "):", searchTerm);
  if (term !== null && term !== "") search(term);
}

function search(term, fromUrl) {
  var re;
  try {
    re = new RegExp(term, ignoreCase ? "i" : "");
  } catch (err) {
    matchedText.textContent = "Bad regular expression: " + term;
    return;
  }
  searchTerm = term;
  for (var i = 0; i < frames.length; i++) {
    var f = frames[i];
    f.match = re.test(f.name);
    f.rect.setAttribute("fill", f.match ? fl.searchcolor : f.fill);
  }
  searchBtn.textContent = "Reset Search";
  updateMatched();
  if (!fromUrl) saveState();
}

function clearSearch() {
  if (!searchTerm) return;
  searchTerm = "";
  for (var i = 0; i < frames.length; i++) {
    frames[i].match = false;
    frames[i].rect.setAttribute("fill", frames[i].fill);
  }
  searchBtn.textContent = "Search";
  matchedText.textContent = " ";
  saveState();
}

// The share of samples in matching frames: a frame inside another match is
// not counted twice.  Relative to everything, and to the zoomed frame.
function updateMatched() {
  var spans = [];
  for (var i = 0; i < frames.length; i++) {
    var f = frames[i];
    if (f.match && (!zoomed || f === zoomed || isInside(f, zoomed))) spans.push([f.x, f.x + f.w]);
  }
  spans.sort(function (a, b) { return a[0] - b[0]; });
  var width = 0, end = -1;
  for (var j = 0; j < spans.length; j++) {
    var s = spans[j];
    if (s[0] >= end) {
      width += s[1] - s[0];
      end = s[1];
    } else if (s[1] > end) {
      width += s[1] - end;
      end = s[1];
    }
  }
  var all = frames[0].w;
  var text = "Matched: " + pct(width, all) + "%";
  if (zoomed && zoomed !== frames[0]) text += " (" + pct(width, zoomed.w) + "% of zoomed)";
  matchedText.textContent = text;
  matchedText.setAttribute("data-matched", pct(width, all));
}

function setCase(on) {
  ignoreCase = on;
  if (on) icBtn.classList.add("on"); else icBtn.classList.remove("on");
}

function toggleCase() {
  setCase(!ignoreCase);
  if (searchTerm) search(searchTerm); else saveState();
}

// Zoom (the zoomed frame's position) and search live in the URL, so a link
// or a reload shows the same view.
function saveState() {
  var p = new URLSearchParams();
  if (zoomed) {
    p.set("x", zoomed.xs);
    p.set("y", zoomed.ys);
  }
  if (searchTerm) p.set("s", searchTerm);
  if (ignoreCase) p.set("i", "1");
  var q = p.toString();
  try {
    window.history.replaceState(null, "", window.location.pathname + (q ? "?" + q : ""));
  } catch (err) {
    // some viewers forbid history changes; the view still works
  }
}
