// The flash-sale page. Static: everything comes from the public session list (micro-cached by the
// gateway), the challenge and the buy. Times follow the server's clock (the list's Date header),
// never the browser's. A buy carries the session's code (shown by the list once the session has
// started) and a proof-of-work whose input includes that code, so nobody can solve it ahead.
"use strict";

const state = { offset: 0, sessions: [], busy: new Set(), timer: null };

// ---- SHA-256 (plain JS: crypto.subtle needs a secure context and is slow for short inputs) ----
const K = new Uint32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2]);
const W = new Uint32Array(64);

/** SHA-256 of an ASCII string; returns the first word (enough to count leading zero bits) and the rest. */
function sha256(text) {
  const n = text.length, blocks = ((n + 9 + 63) >> 6) << 4;
  const words = new Uint32Array(blocks);
  for (let i = 0; i < n; i++) words[i >> 2] |= (text.charCodeAt(i) & 0xff) << (24 - (i & 3) * 8);
  words[n >> 2] |= 0x80 << (24 - (n & 3) * 8);
  words[blocks - 1] = n * 8;
  let h0 = 0x6a09e667, h1 = 0xbb67ae85, h2 = 0x3c6ef372, h3 = 0xa54ff53a, h4 = 0x510e527f, h5 = 0x9b05688c, h6 = 0x1f83d9ab, h7 = 0x5be0cd19;
  for (let b = 0; b < blocks; b += 16) {
    for (let t = 0; t < 16; t++) W[t] = words[b + t];
    for (let t = 16; t < 64; t++) {
      const x = W[t - 15], y = W[t - 2];
      const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
      const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
      W[t] = (W[t - 16] + s0 + W[t - 7] + s1) | 0;
    }
    let a = h0, c = h2, d = h3, e = h4, f = h5, g = h6, h = h7, bb = h1;
    for (let t = 0; t < 64; t++) {
      const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
      const t1 = (h + S1 + ((e & f) ^ (~e & g)) + K[t] + W[t]) | 0;
      const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
      const t2 = (S0 + ((a & bb) ^ (a & c) ^ (bb & c))) | 0;
      h = g; g = f; f = e; e = (d + t1) | 0; d = c; c = bb; bb = a; a = (t1 + t2) | 0;
    }
    h0 = (h0 + a) | 0; h1 = (h1 + bb) | 0; h2 = (h2 + c) | 0; h3 = (h3 + d) | 0;
    h4 = (h4 + e) | 0; h5 = (h5 + f) | 0; h6 = (h6 + g) | 0; h7 = (h7 + h) | 0;
  }
  return [h0 >>> 0, h1 >>> 0, h2 >>> 0, h3 >>> 0, h4 >>> 0, h5 >>> 0, h6 >>> 0, h7 >>> 0];
}

function leadingZeroBits(hash) {
  let bits = 0;
  for (const word of hash) {
    if (word === 0) { bits += 32; continue; }
    return bits + Math.clz32(word);
  }
  return bits;
}

/** Finds an answer in slices, so the page stays responsive while it works. */
function solve(nonce, code, bits) {
  return new Promise((resolve) => {
    let answer = 0;
    const prefix = nonce + ":" + (code || "") + ":";
    (function slice() {
      for (let i = 0; i < 20000; i++, answer++) {
        if (leadingZeroBits(sha256(prefix + answer)) >= bits) return resolve(String(answer));
      }
      setTimeout(slice, 0);
    })();
  });
}

// ---- the server's clock ----
function now() { return Date.now() + state.offset; }

function two(n) { return String(n).padStart(2, "0"); }
function span(ms) {
  const s = Math.max(0, Math.ceil(ms / 1000));
  const d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
  return (d ? d + "d " : "") + two(h) + ":" + two(m) + ":" + two(s % 60);
}

async function loadSessions() {
  const sent = Date.now();
  const response = await fetch("/seckill/sessions", { cache: "no-store", credentials: "same-origin" });
  const received = Date.now();
  const date = Date.parse(response.headers.get("Date") || "");
  // The Date header has whole seconds: the server's clock is within [date, date + 1 s).
  if (!Number.isNaN(date)) state.offset = date + 500 - (sent + received) / 2;
  if (!response.ok) throw new Error("HTTP " + response.status);
  const body = await response.json();
  state.sessions = body.data || [];
  document.getElementById("clock").textContent =
    "服务器时间 Server time " + new Date(now()).toLocaleTimeString() + " (偏差 skew " + Math.round(state.offset / 1000) + " s)";
}

function render() {
  const list = document.getElementById("sessions");
  document.getElementById("empty").hidden = state.sessions.length > 0;
  for (const s of state.sessions) {
    let item = list.querySelector('[data-id="' + s.id + '"]');
    if (!item) {
      item = document.getElementById("session").content.firstElementChild.cloneNode(true);
      item.dataset.id = s.id;
      item.querySelector(".buy").addEventListener("click", () => buy(s.id));
      list.appendChild(item);
    }
    item.querySelector(".name").textContent = s.skuName || ("商品 sku " + s.skuId);
    item.querySelector(".amount").textContent = s.price;
    const left = s.permitsLeft == null ? s.stock : s.permitsLeft;
    item.querySelector(".stock").textContent = "库存 Stock " + left + " / " + s.stock + " · 限购 limit " + s.limit;
    const start = Date.parse(s.startTime), end = Date.parse(s.endTime), t = now();
    const button = item.querySelector(".buy"), countdown = item.querySelector(".countdown");
    if (t < start) {
      countdown.textContent = "距开始 Starts in " + span(start - t);
      button.disabled = true; button.textContent = "未开始 Not started";
    } else if (t < end && left > 0) {
      countdown.textContent = "距结束 Ends in " + span(end - t);
      button.disabled = state.busy.has(s.id);
      if (!state.busy.has(s.id)) button.textContent = "立即抢购 Buy now";
    } else {
      countdown.textContent = t >= end ? "已结束 Ended" : "已售罄 Sold out";
      button.disabled = true; button.textContent = t >= end ? "已结束 Ended" : "已售罄 Sold out";
    }
  }
}

function status(id, text, kind) {
  const el = document.querySelector('[data-id="' + id + '"] .status');
  el.textContent = text;
  el.className = "status" + (kind ? " " + kind : "");
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const headers = { "X-Requested-With": "gmall" };

async function json(response) {
  try { return await response.json(); } catch (_) { return { code: response.status, msg: "HTTP " + response.status }; }
}

/** Tries `attempt` until it answers, waiting longer each time (a 429 or 503 at the peak is normal). */
async function patiently(attempt, seconds) {
  const deadline = Date.now() + seconds * 1000;
  for (let wait = 300; ; wait = Math.min(wait * 2, 2000)) {
    try {
      return await attempt();
    } catch (error) {
      if (error.message === "login" || Date.now() + wait > deadline) throw error;
      await sleep(wait + Math.random() * 200);
    }
  }
}

/** A challenge nonce for the sku's session (checks the login too). */
async function fetchChallenge(skuId) {
  const issued = await fetch("/miaosha/challenge?skuId=" + skuId, { credentials: "same-origin", headers });
  if (issued.status === 401) { document.getElementById("login").hidden = false; throw new Error("login"); }
  if (!issued.ok) throw new Error("HTTP " + issued.status);
  return (await json(issued)).data;
}

async function buy(id) {
  if (state.busy.has(id)) return;
  state.busy.add(id);
  render();
  const button = document.querySelector('[data-id="' + id + '"] .buy');
  try {
    // The code appears in the list at the start (the list is cached for about a second).
    let session = state.sessions.find((s) => s.id === id);
    if (session && session.codeRequired && !session.code) {
      status(id, "等待开场码 Waiting for the session code…");
      session = await patiently(async () => {
        await loadSessions();
        const found = state.sessions.find((s) => s.id === id);
        if (found && found.codeRequired && !found.code) throw new Error("no code yet");
        return found;
      }, 15);
    }
    if (!session) throw new Error("session gone");
    button.textContent = "验证中 Verifying…";
    status(id, "正在计算验证 Solving the challenge…");
    const challenge = await patiently(() => fetchChallenge(session.skuId), 10);
    const began = performance.now();
    const answer = challenge.bits > 0 ? await solve(challenge.nonce, session.code, challenge.bits) : "";
    const solvedIn = Math.round(performance.now() - began);
    // Kept for the tab (the browser test reads it on pay.html).
    try { sessionStorage.setItem("gmall.solvedIn", String(solvedIn)); } catch (_) { /* storage off */ }
    button.textContent = "抢购中 Buying…";
    const query = new URLSearchParams();
    if (session.code) query.set("code", session.code);
    if (challenge.bits > 0) { query.set("nonce", challenge.nonce); query.set("answer", answer); }
    const response = await fetch("/miaosha/" + session.skuId + "?" + query, { method: "POST", credentials: "same-origin", headers });
    const result = await json(response);
    if (response.status === 401) { document.getElementById("login").hidden = false; throw new Error("login"); }
    if (result.code === 0) {
      status(id, "抢到了！订单 " + result.data + " · You won (" + solvedIn + " ms to verify)", "won");
      await payWait(id, result.data);
      return;
    }
    const messages = {
      1001: "已售罄 Sold out", 1002: "您已抢购过 Already bought", 1003: "未开始 Not started yet",
      1004: "已结束 Ended", 1005: "无此场次 No such sale", 1006: "系统繁忙，请重试 Busy, retry",
      1008: "开场码不对 The session code is wrong", 1009: "验证未通过 The challenge failed", 429: "请求太频繁 Too many requests",
    };
    status(id, (messages[result.code] || result.msg || "失败 Failed") + " (" + result.code + ")", "lost");
  } catch (error) {
    if (error.message !== "login") status(id, "出错了 Something went wrong: " + error.message, "lost");
  } finally {
    state.busy.delete(id);
    render();
  }
}

/** After a win: the order is made asynchronously; wait for it, then go and pay. */
async function payWait(id, orderSn) {
  for (let i = 0; i < 60; i++) {
    const response = await fetch("/miaosha/pay?orderSn=" + encodeURIComponent(orderSn), { credentials: "same-origin", headers });
    if (response.redirected && response.url.includes("/pay.html")) {
      status(id, "订单已生成，正在前往支付 Order ready: to the payment page", "won");
      window.location.href = response.url;
      return;
    }
    const result = await json(response);
    if (response.status === 202) {
      status(id, "订单处理中 Processing order " + orderSn + "…", "won");
    } else if (result.code === 1001) {
      status(id, "很遗憾，已售罄 Sold out after all", "lost");
      return;
    }
    await sleep(1000);
  }
  status(id, "订单仍在处理，请稍后在订单中查看 Still processing: check your orders later", "lost");
}

async function main() {
  try {
    await patiently(loadSessions, 30);
  } catch (error) {
    document.getElementById("clock").textContent = "加载失败，重试中 Loading failed, retrying: " + error.message;
  }
  render();
  // Know about a missing login before the start, not at it.
  if (state.sessions.length > 0) fetchChallenge(state.sessions[0].skuId).catch(() => {});
  setInterval(render, 250);
  // The list again every few seconds (permits left, new sessions); the gateway caches it.
  setInterval(() => loadSessions().then(render).catch(() => {}), 5000);
}

main();
