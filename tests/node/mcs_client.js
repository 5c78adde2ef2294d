// Twilio's @twilio/mcs-client from npm, unchanged (xmlhttprequest is its transport
// under Node), against convo-tui's server; run by tests/server/mcs_client.rs.
//
// Environment: CONVO_MEDIA_URL (…/v1/Services/IS…/Media), CONVO_MEDIA_SET_URL,
// CONVO_TOKEN (an access token of the uploader), CONVO_OTHER_TOKEN (someone else's).
// Prints one JSON object of what the client saw; the Rust test asserts on it.
"use strict";

const crypto = require("crypto");
const http = require("http");
const { McsClient } = require("@twilio/mcs-client");

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};

// Bytes that are not text (every byte value, no short cycle), over several 256 KiB chunks.
function payload(len) {
  const b = Buffer.alloc(len);
  for (let i = 0; i < len; i++) b[i] = (i * 7 + Math.floor(i / 251)) % 256;
  return b;
}

const sha256 = (bytes) => crypto.createHash("sha256").update(bytes).digest("hex");

// The bytes at a URL, with no credentials: a temporary link must work alone.
function download(url) {
  return new Promise((resolve, reject) => {
    http
      .get(url, (res) => {
        const parts = [];
        res.on("data", (c) => parts.push(c));
        res.on("end", () => {
          const body = Buffer.concat(parts);
          resolve({ status: res.statusCode, content_type: res.headers["content-type"], length: body.length, sha256: sha256(body) });
        });
        res.on("error", reject);
      })
      .on("error", reject);
  });
}

const record = (m) => ({
  sid: m.sid,
  service_sid: m.serviceSid,
  size: m.size,
  content_type: m.contentType,
  filename: m.filename,
  category: m.category,
  date_created: m.dateCreated ? m.dateCreated.toISOString() : null,
  state: m._state(),
});

async function main() {
  const mediaUrl = env("CONVO_MEDIA_URL");
  const setUrl = env("CONVO_MEDIA_SET_URL");
  const client = new McsClient(env("CONVO_TOKEN"), mediaUrl, setUrl, { logLevel: "silent" });
  const data = payload(Number(process.env.CONVO_PAYLOAD_BYTES || 600 * 1024 + 17));
  const out = { version: McsClient.version, sent: { length: data.length, sha256: sha256(data) } };

  const posted = await client.post("image/png", data, "media", "cat.png");
  out.posted = record(posted);

  const got = await client.get(posted.sid);
  out.got = record(got);
  const url = await got.getContentUrl();
  out.content_url = url;
  out.content = await download(url);

  const set = await client.mediaSetGet([posted.sid]);
  out.media_set = set.map(record);
  const urls = await client.mediaSetGetContentUrls([posted.sid]);
  const setLink = urls.get(posted.sid);
  out.media_set_content = setLink ? await download(setLink) : null;

  // Someone else is refused (the client rejects with the HTTP status).
  const other = new McsClient(env("CONVO_OTHER_TOKEN"), mediaUrl, setUrl, { logLevel: "silent" });
  try {
    await other.get(posted.sid);
    out.other_get = { refused: false };
  } catch (e) {
    out.other_get = { refused: true, status: e.code ?? null, body: e.body ?? null };
  }
  return out;
}

main().then(
  (out) => {
    process.stdout.write(JSON.stringify(out) + "\n");
    process.exit(0);
  },
  (err) => {
    process.stderr.write(`mcs-client script failed: ${err && err.stack ? err.stack : err}\n`);
    process.exit(1);
  },
);
