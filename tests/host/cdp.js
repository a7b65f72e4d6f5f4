// SPDX-License-Identifier: GPL-2.0-or-later
// A minimal Chrome DevTools Protocol client over --remote-debugging-pipe
// (no WebSocket, no npm package): Chromium reads NUL-terminated JSON
// commands on fd 3 and writes replies and events on fd 4.
"use strict";
const { spawn } = require("child_process");
const fs = require("fs");
const os = require("os");
const path = require("path");

const CHROMIUM_FLAGS = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
  "--remote-debugging-pipe",
];

class Browser {
  static async launch({ width = 1280, height = 900, binary = process.env.CHROMIUM || "/usr/bin/chromium" } = {}) {
    const profile = fs.mkdtempSync(path.join(os.tmpdir(), "flame-chromium-"));
    const proc = spawn(binary, [...CHROMIUM_FLAGS, `--user-data-dir=${profile}`,
                                `--window-size=${width},${height}`, "about:blank"],
                       { stdio: ["ignore", "ignore", "pipe", "pipe", "pipe"] });
    const b = new Browser(proc, profile);
    proc.stderr.on("data", (d) => { b.stderr += d.toString(); });
    const { targetInfos } = await b.send("Target.getTargets");
    const page = targetInfos.find((t) => t.type === "page");
    const { sessionId } = await b.send("Target.attachToTarget", { targetId: page.targetId, flatten: true });
    b.session = sessionId;
    await b.send("Page.enable", {}, sessionId);
    await b.send("Runtime.enable", {}, sessionId);
    await b.send("Emulation.setDeviceMetricsOverride",
                 { width, height, deviceScaleFactor: 1, mobile: false }, sessionId);
    return b;
  }

  constructor(proc, profile) {
    this.proc = proc;
    this.profile = profile;
    this.nextId = 1;
    this.pending = new Map();
    this.listeners = [];
    this.stderr = "";
    this.exited = false;
    let buf = "";
    proc.stdio[4].on("data", (chunk) => {
      buf += chunk.toString();
      let nul;
      while ((nul = buf.indexOf("\0")) >= 0) {
        const msg = JSON.parse(buf.slice(0, nul));
        buf = buf.slice(nul + 1);
        this.dispatch(msg);
      }
    });
    proc.on("exit", () => {
      this.exited = true;
      for (const { reject } of this.pending.values()) reject(new Error("chromium exited: " + this.stderr.slice(-500)));
      this.pending.clear();
    });
  }

  dispatch(msg) {
    if (msg.id !== undefined) {
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (msg.error) p.reject(new Error(`${p.method}: ${msg.error.message}`));
      else p.resolve(msg.result);
      return;
    }
    for (const l of this.listeners.slice()) l(msg);
  }

  send(method, params = {}, sessionId = undefined) {
    const id = this.nextId++;
    const msg = { id, method, params };
    if (sessionId) msg.sessionId = sessionId;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, method });
      this.proc.stdio[3].write(JSON.stringify(msg) + "\0");
    });
  }

  // page-level command
  cmd(method, params = {}) { return this.send(method, params, this.session); }

  on(fn) { this.listeners.push(fn); }

  waitFor(method, timeoutMs = 15000) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${method}`)), timeoutMs);
      const l = (msg) => {
        if (msg.method === method) {
          clearTimeout(timer);
          this.listeners.splice(this.listeners.indexOf(l), 1);
          resolve(msg.params);
        }
      };
      this.listeners.push(l);
    });
  }

  async navigate(url) {
    const loaded = this.waitFor("Page.loadEventFired");
    await this.cmd("Page.navigate", { url });
    await loaded;
  }

  async eval(expression) {
    const r = await this.cmd("Runtime.evaluate", { expression, returnByValue: true, awaitPromise: true });
    if (r.exceptionDetails) throw new Error("page: " + (r.exceptionDetails.exception?.description || r.exceptionDetails.text));
    return r.result.value;
  }

  async click(x, y) {
    await this.cmd("Input.dispatchMouseEvent", { type: "mouseMoved", x, y });
    await this.cmd("Input.dispatchMouseEvent", { type: "mousePressed", x, y, button: "left", clickCount: 1 });
    await this.cmd("Input.dispatchMouseEvent", { type: "mouseReleased", x, y, button: "left", clickCount: 1 });
  }

  async hover(x, y) {
    await this.cmd("Input.dispatchMouseEvent", { type: "mouseMoved", x, y });
  }

  // A key with Ctrl (modifiers: 2)
  async ctrlKey(key, code, keyCode) {
    await this.cmd("Input.dispatchKeyEvent", { type: "rawKeyDown", modifiers: 2, key, code, windowsVirtualKeyCode: keyCode });
    await this.cmd("Input.dispatchKeyEvent", { type: "keyUp", modifiers: 2, key, code, windowsVirtualKeyCode: keyCode });
  }

  async screenshot(file) {
    const { data } = await this.cmd("Page.captureScreenshot", { format: "png" });
    fs.writeFileSync(file, Buffer.from(data, "base64"));
  }

  async close() {
    const exited = new Promise((r) => (this.exited ? r() : this.proc.once("exit", r)));
    if (!this.exited) {
      this.send("Browser.close").catch(() => {});
      const timer = setTimeout(() => this.proc.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(timer);
    }
    try {
      fs.rmSync(this.profile, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
    } catch (e) {
      // a leftover temporary profile is not a test failure
    }
  }
}

module.exports = { Browser };
