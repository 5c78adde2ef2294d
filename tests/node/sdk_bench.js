// Twilio's Conversations SDK against a running `convo-tui serve`: connect-to-ready
// time with 100 conversations, and message delivery p50/p99 to 100 SDK clients
// beside the same 100 people on /v1/Stream, in one run. Run by scripts/bench-sdk.
//
// Environment: CONVO_SERVER (http://HOST:PORT), CONVO_ACCOUNT_SID, CONVO_AUTH_TOKEN,
// CONVO_API_KEY, CONVO_API_SECRET. Optional: BENCH_CLIENTS (100), BENCH_MESSAGES (50),
// BENCH_CONVERSATIONS (100). Prints a table; never asserts.
"use strict";

const crypto = require("crypto");
const http = require("http");
const WebSocket = require("ws");
const { Client } = require("@twilio/conversations");

const env = (name, dflt) => {
  const v = process.env[name] ?? dflt;
  if (v === undefined) throw new Error(`${name} is not set`);
  return v;
};
const server = env("CONVO_SERVER").replace(/\/$/, "");
const [account, authToken, apiKey, apiSecret] = ["CONVO_ACCOUNT_SID", "CONVO_AUTH_TOKEN", "CONVO_API_KEY", "CONVO_API_SECRET"].map((n) => env(n));
const CLIENTS = Number(env("BENCH_CLIENTS", "100"));
const MESSAGES = Number(env("BENCH_MESSAGES", "50"));
const CONVERSATIONS = Number(env("BENCH_CONVERSATIONS", "100"));
const run = crypto.randomBytes(3).toString("hex");

const b64url = (x) => Buffer.from(x).toString("base64url");
function token(identity) {
  const now = Math.floor(Date.now() / 1000);
  const header = { typ: "JWT", alg: "HS256", cty: "twilio-fpa;v=1" };
  const claims = { jti: `${apiKey}-${now}`, iss: apiKey, sub: account, nbf: now, exp: now + 3600, grants: { identity, chat: {} } };
  const body = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  return `${body}.${crypto.createHmac("sha256", apiSecret).update(body).digest("base64url")}`;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
function rest(method, path, form) {
  const body = form ? new URLSearchParams(form).toString() : "";
  const url = new URL(server + path);
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method,
        agent,
        auth: `${account}:${authToken}`,
        headers: { "Content-Type": "application/x-www-form-urlencoded", "Content-Length": Buffer.byteLength(body) },
      },
      (res) => {
        const parts = [];
        res.on("data", (c) => parts.push(c));
        res.on("end", () => {
          const text = Buffer.concat(parts).toString();
          if (res.statusCode >= 300) reject(new Error(`${method} ${path}: ${res.statusCode} ${text}`));
          else resolve(text ? JSON.parse(text) : null);
        });
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const summary = (xs) => {
  const s = xs.slice().sort((a, b) => a - b);
  return { n: s.length, p50: pct(s, 50), p99: pct(s, 99), max: s[s.length - 1] };
};
const wsUrl = server.replace(/^http/, "ws");
const sdk = (identity) => new Client(token(identity), { Twilsock: { uri: `${wsUrl}/v3/wsconnect` }, logLevel: "silent" });
const ready = (client) =>
  new Promise((resolve, reject) => {
    client.on("stateChanged", (s) => s === "initialized" && resolve());
    client.on("initFailed", ({ error }) => reject(new Error(String(error && error.message))));
  });

async function connectTimes(reader) {
  const times = { initialized: [], listed: [] };
  for (let i = 0; i < 5; i++) {
    const t0 = process.hrtime.bigint();
    const client = sdk(reader);
    await ready(client);
    const t1 = process.hrtime.bigint();
    let page = await client.getSubscribedConversations();
    let n = page.items.length;
    while (page.hasNextPage) {
      page = await page.nextPage();
      n += page.items.length;
    }
    const t2 = process.hrtime.bigint();
    if (n !== CONVERSATIONS) throw new Error(`listed ${n} conversations, not ${CONVERSATIONS}`);
    times.initialized.push(Number(t1 - t0) / 1e6);
    times.listed.push(Number(t2 - t0) / 1e6);
    await client.shutdown();
  }
  return times;
}

// Sends MESSAGES at 20/s; `arrivals` maps body → [arrival ms] filled by the receivers.
async function deliver(conversation, sender, arrivals, receivers) {
  const sent = new Map();
  for (let i = 0; i < MESSAGES; i++) {
    const body = `bench ${run} ${i} ${Math.random()}`;
    arrivals.set(body, []);
    sent.set(body, performance.now());
    await rest("POST", `/v1/Conversations/${conversation}/Messages`, { Author: sender, Body: body });
    await new Promise((r) => setTimeout(r, 50));
  }
  const deadline = Date.now() + 30000;
  while (Date.now() < deadline && [...arrivals.values()].some((a) => a.length < receivers)) await new Promise((r) => setTimeout(r, 50));
  const latencies = [];
  let missing = 0;
  for (const [body, times] of arrivals) {
    missing += receivers - times.length;
    for (const t of times) latencies.push(t - sent.get(body));
  }
  return { ...summary(latencies), missing };
}

function frame(header, payload = "") {
  const body = Buffer.from(payload);
  const h = Buffer.from(JSON.stringify({ ...header, payload_size: body.length }));
  return Buffer.concat([Buffer.from(`TWILSOCK V3.0 ${h.length}\r\n`), h, Buffer.from("\r\n"), body]);
}
function parseFrame(buf) {
  const nl = buf.indexOf("\r\n");
  const len = Number(buf.subarray(0, nl).toString().split(" ")[2]);
  const header = JSON.parse(buf.subarray(nl + 2, nl + 2 + len).toString());
  const rest = buf.subarray(nl + 4 + len);
  return { header, payload: rest.length ? JSON.parse(rest.toString()) : null };
}
// A bare twilsock client of `identity` following the conversation's messages list.
function rawTwilsock(identity, conversation, arrivals) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${wsUrl}/v3/wsconnect`);
    ws.on("error", reject);
    ws.on("open", () => ws.send(frame({ method: "init", id: "TM1", token: token(identity) })));
    ws.on("message", (data) => {
      const { header, payload } = parseFrame(data);
      if (header.id === "TM1") {
        const body = JSON.stringify({ event_protocol_version: 4, action: "establish", correlation_id: 1,
          requests: [{ object_sid: `${conversation}.messages`, object_type: "list" }] });
        const http = { host: "bench", path: "/v4/Subscriptions", method: "POST", headers: {} };
        ws.send(frame({ method: "message", id: "TM2", payload_type: "application/json", http_request: http }, body));
      } else if (header.method === "notification" && payload) {
        if (payload.event_type === "subscription_established") resolve(ws);
        if (payload.event_type === "list_item_added") {
          const a = arrivals.get(payload.event.item_data.text);
          if (a) a.push(performance.now());
        }
      }
    });
  });
}

async function main() {
  // One reader in CONVERSATIONS conversations, each with a message.
  const reader = `reader-${run}`;
  for (let i = 0; i < CONVERSATIONS; i++) {
    const c = await rest("POST", "/v1/Conversations", { FriendlyName: `bench ${i}` });
    await rest("POST", `/v1/Conversations/${c.sid}/Participants`, { Identity: reader });
    await rest("POST", `/v1/Conversations/${c.sid}/Messages`, { Author: "system", Body: `hello ${i}` });
  }
  const connect = await connectTimes(reader);

  // CLIENTS people in one conversation, and a sender.
  const room = await rest("POST", "/v1/Conversations", { FriendlyName: "bench fan-out" });
  const people = Array.from({ length: CLIENTS }, (_, i) => `p${i}-${run}`);
  for (const p of [...people, `sender-${run}`]) await rest("POST", `/v1/Conversations/${room.sid}/Participants`, { Identity: p });

  const sdkArrivals = new Map();
  const clients = [];
  for (const p of people) {
    const client = sdk(p);
    clients.push(client);
  }
  await Promise.all(clients.map(ready));
  for (const client of clients) {
    const c = await client.getConversationBySid(room.sid);
    await c.getMessages(1);
    client.on("messageAdded", (m) => {
      const a = sdkArrivals.get(m.body);
      if (a) a.push(performance.now());
    });
  }
  const viaSdk = await deliver(room.sid, `sender-${run}`, sdkArrivals, CLIENTS);
  await Promise.all(clients.map((c) => c.shutdown()));

  const streamArrivals = new Map();
  const sockets = await Promise.all(
    people.map(
      (p) =>
        new Promise((resolve, reject) => {
          const ws = new WebSocket(`${wsUrl}/v1/Stream`, { headers: { "X-Twilio-Token": token(p) } });
          ws.on("open", () => resolve(ws));
          ws.on("error", reject);
          ws.on("message", (data) => {
            const e = JSON.parse(data.toString());
            if (e.event !== "messageAdded") return;
            const a = streamArrivals.get(e.data.body);
            if (a) a.push(performance.now());
          });
        }),
    ),
  );
  const viaStream = await deliver(room.sid, `sender-${run}`, streamArrivals, CLIENTS);
  sockets.forEach((s) => s.close());

  // The same people on bare twilsock sockets (frames parsed by hand, no SDK):
  // what the server's twilsock path costs, apart from the SDK's own work.
  const rawArrivals = new Map();
  const raws = await Promise.all(people.map((p) => rawTwilsock(p, room.sid, rawArrivals)));
  const viaRaw = await deliver(room.sid, `sender-${run}`, rawArrivals, CLIENTS);
  raws.forEach((s) => s.close());

  const f = (x) => x.toFixed(1).padStart(8);
  const ci = summary(connect.initialized);
  const cl = summary(connect.listed);
  console.log(`Twilio's Conversations SDK 3.0.1 against ${server} (${CLIENTS} clients, ${MESSAGES} messages, ${CONVERSATIONS} conversations)`);
  console.log(`  connect → initialized, ${CONVERSATIONS} conversations      p50 ${f(ci.p50)} ms   max ${f(ci.max)} ms   (5 runs)`);
  console.log(`  connect → all ${CONVERSATIONS} conversations listed        p50 ${f(cl.p50)} ms   max ${f(cl.max)} ms`);
  console.log(`  delivery to ${CLIENTS} SDK clients (twilsock)           p50 ${f(viaSdk.p50)} ms   p99 ${f(viaSdk.p99)} ms   max ${f(viaSdk.max)} ms   missing ${viaSdk.missing}`);
  console.log(`  delivery to ${CLIENTS} /v1/Stream sockets (floor)       p50 ${f(viaStream.p50)} ms   p99 ${f(viaStream.p99)} ms   max ${f(viaStream.max)} ms   missing ${viaStream.missing}`);
  console.log(`  delivery to ${CLIENTS} bare twilsock sockets, no SDK    p50 ${f(viaRaw.p50)} ms   p99 ${f(viaRaw.p99)} ms   max ${f(viaRaw.max)} ms   missing ${viaRaw.missing}`);
  console.log(`  ratio SDK / stream                                 p50 ${(viaSdk.p50 / viaStream.p50).toFixed(2)}x      p99 ${(viaSdk.p99 / viaStream.p99).toFixed(2)}x`);
  console.log(`  ratio bare twilsock / stream                       p50 ${(viaRaw.p50 / viaStream.p50).toFixed(2)}x      p99 ${(viaRaw.p99 / viaStream.p99).toFixed(2)}x`);
  console.log(`  note: all receivers share one Node process (one core); the SDK's own frame parsing and Sync bookkeeping run there`);
  process.exit(0);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
