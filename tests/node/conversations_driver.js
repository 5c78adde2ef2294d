// Twilio's @twilio/conversations SDK from npm, unchanged, driven line by line:
// the Rust tests (tests/server/twilsock.rs) write one JSON command per line to
// stdin and read JSON lines back: {"id", "ok", "result"|"error"} answers, and
// {"event", ...} for every client event the SDK emits.
//
// Environment: CONVO_TWILSOCK_URL (ws://HOST:PORT/v3/wsconnect), CONVO_TOKEN.
"use strict";

const readline = require("readline");
// mcs-client uploads with XMLHttpRequest; under Node that is this polyfill.
global.XMLHttpRequest = require("xmlhttprequest").XMLHttpRequest;
const { Client } = require("@twilio/conversations");

const out = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");
const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};

const started = Date.now();
const client = new Client(env("CONVO_TOKEN"), {
  Twilsock: { uri: env("CONVO_TWILSOCK_URL") },
  logLevel: process.env.CONVO_SDK_LOG || "silent",
});

const msg = (m) => ({
  sid: m.sid,
  index: m.index,
  body: m.body,
  author: m.author,
  attributes: m.attributes,
  conversation: m.conversation && m.conversation.sid,
  participant_sid: m.participantSid,
  type: m.type,
  media: (m.attachedMedia || []).map((x) => ({ sid: x.sid, filename: x.filename, content_type: x.contentType, size: x.size })),
});
const part = (p) => ({
  sid: p.sid,
  identity: p.identity,
  conversation: p.conversation && p.conversation.sid,
  attributes: p.attributes,
  last_read_message_index: p.lastReadMessageIndex,
});
const conv = (c) => ({
  sid: c.sid,
  friendly_name: c.friendlyName,
  unique_name: c.uniqueName,
  attributes: c.attributes,
  status: c.status,
  last_read_message_index: c.lastReadMessageIndex,
  notification_level: c.notificationLevel,
  last_message: c.lastMessage ? { index: c.lastMessage.index } : null,
});

client.on("stateChanged", (state) => {
  if (state === "initialized") out({ event: "initialized", ms: Date.now() - started });
});
client.on("initFailed", ({ error }) => out({ event: "initFailed", error: error && (error.message || String(error)) }));
client.on("connectionStateChanged", (state) => out({ event: "connectionStateChanged", state }));
client.on("connectionError", (e) => out({ event: "connectionError", error: e }));
client.on("tokenAboutToExpire", () => out({ event: "tokenAboutToExpire" }));
client.on("tokenExpired", () => out({ event: "tokenExpired" }));
for (const name of ["messageAdded", "messageRemoved"]) client.on(name, (m) => out({ event: name, message: msg(m) }));
client.on("messageUpdated", ({ message, updateReasons }) => out({ event: "messageUpdated", message: msg(message), reasons: updateReasons }));
for (const name of ["participantJoined", "participantLeft", "typingStarted", "typingEnded"])
  client.on(name, (p) => out({ event: name, participant: part(p) }));
client.on("participantUpdated", ({ participant, updateReasons }) =>
  out({ event: "participantUpdated", participant: part(participant), reasons: updateReasons }),
);
for (const name of ["conversationAdded", "conversationRemoved", "conversationJoined", "conversationLeft"])
  client.on(name, (c) => out({ event: name, conversation: conv(c) }));
client.on("conversationUpdated", ({ conversation, updateReasons }) =>
  out({ event: "conversationUpdated", conversation: conv(conversation), reasons: updateReasons }),
);
client.on("userUpdated", ({ user, updateReasons }) =>
  out({ event: "userUpdated", identity: user.identity, friendly_name: user.friendlyName, attributes: user.attributes, online: user.isOnline, reasons: updateReasons }),
);

const conversation = (sid) => client.getConversationBySid(sid);

// Every message from the newest page back to index 0, oldest first.
async function allMessages(sid, pageSize) {
  const c = await conversation(sid);
  let page = await c.getMessages(pageSize);
  let items = page.items.slice();
  let pages = 1;
  while (page.hasPrevPage) {
    page = await page.prevPage();
    items = page.items.concat(items);
    pages += 1;
  }
  return { pages, messages: items.map(msg) };
}

const ops = {
  async subscribed() {
    const page = await client.getSubscribedConversations();
    let items = page.items.slice();
    let p = page;
    while (p.hasNextPage) {
      p = await p.nextPage();
      items = items.concat(p.items);
    }
    return items.map(conv);
  },
  messages: ({ sid, page_size }) => allMessages(sid, page_size || 30),
  async participants({ sid }) {
    return (await (await conversation(sid)).getParticipants()).map(part);
  },
  async send({ sid, body, attributes }) {
    return (await conversation(sid)).sendMessage(body, attributes);
  },
  async send_media({ sid, body, filename, content_type, base64 }) {
    const c = await conversation(sid);
    const builder = c.prepareMessage();
    if (body) builder.setBody(body);
    builder.addMedia({ contentType: content_type, filename, media: Buffer.from(base64, "base64") });
    return builder.build().send();
  },
  async media_url({ sid, index }) {
    const c = await conversation(sid);
    const page = await c.getMessages(1, index, "forward");
    const m = page.items.find((x) => x.index === index);
    return m.attachedMedia[0].getContentTemporaryUrl();
  },
  async typing({ sid }) {
    await (await conversation(sid)).typing();
    return true;
  },
  async read({ sid, index }) {
    return (await conversation(sid)).updateLastReadMessageIndex(index);
  },
  async unread({ sid }) {
    return (await conversation(sid)).getUnreadMessagesCount();
  },
  async rename({ sid, name }) {
    await (await conversation(sid)).updateFriendlyName(name);
    return true;
  },
  async set_attributes({ sid, attributes }) {
    await (await conversation(sid)).updateAttributes(attributes);
    return true;
  },
  async join({ sid }) {
    const c = await client.peekConversationBySid(sid);
    await c.join();
    return conv(c);
  },
  async leave({ sid }) {
    await (await conversation(sid)).leave();
    return true;
  },
  async add({ sid, identity }) {
    await (await conversation(sid)).add(identity);
    return true;
  },
  async remove_participant({ sid, identity }) {
    await (await conversation(sid)).removeParticipant(identity);
    return true;
  },
  async create({ friendly_name, unique_name }) {
    return conv(await client.createConversation({ friendlyName: friendly_name, uniqueName: unique_name }));
  },
  async delete({ sid }) {
    await (await conversation(sid)).delete();
    return true;
  },
  async edit({ sid, index, body }) {
    const page = await (await conversation(sid)).getMessages(1, index, "forward");
    const m = page.items.find((x) => x.index === index);
    await m.updateBody(body);
    return true;
  },
  async remove_message({ sid, index }) {
    const page = await (await conversation(sid)).getMessages(1, index, "forward");
    const m = page.items.find((x) => x.index === index);
    await m.remove();
    return true;
  },
  async notification_level({ sid, level }) {
    await (await conversation(sid)).setUserNotificationLevel(level);
    return true;
  },
  async my_friendly_name({ name }) {
    await client.user.updateFriendlyName(name);
    return true;
  },
  async my_attributes({ attributes }) {
    await client.user.updateAttributes(attributes);
    return true;
  },
  async user({ identity }) {
    const u = await client.getUser(identity);
    return { identity: u.identity, friendly_name: u.friendlyName, attributes: u.attributes, online: u.isOnline };
  },
  async me() {
    const u = client.user;
    return { identity: u.identity, friendly_name: u.friendlyName, attributes: u.attributes };
  },
  // One tunnelled request as the SDK's own transport sends it (access tests).
  async raw({ method, url, body, headers: extra }) {
    const t = client._services.twilsockClient;
    const headers = Object.assign({ "Content-Type": "application/json" }, extra || {});
    try {
      const r = method === "get" ? await t.get(url, headers) : await t[method](url, headers, body || {});
      return { status: r.status.code, body: r.body };
    } catch (e) {
      return { status: e.status, body: e.body, error: e.message };
    }
  },
  async by_unique_name({ unique_name }) {
    return conv(await client.getConversationByUniqueName(unique_name));
  },
  async counts({ sid }) {
    const c = await conversation(sid);
    return { messages: await c.getMessagesCount(), participants: await c.getParticipantsCount() };
  },
  async set_unique_name({ sid, unique_name }) {
    await (await conversation(sid)).updateUniqueName(unique_name);
    return true;
  },
  async read_all({ sid }) {
    return (await conversation(sid)).setAllMessagesRead();
  },
  async edit_attributes({ sid, index, attributes }) {
    const page = await (await conversation(sid)).getMessages(1, index, "forward");
    await page.items.find((x) => x.index === index).updateAttributes(attributes);
    return true;
  },
  async update_token({ token }) {
    await client.updateToken(token);
    return true;
  },
  async shutdown() {
    await client.shutdown();
    setTimeout(() => process.exit(0), 50);
    return true;
  },
};

readline.createInterface({ input: process.stdin }).on("line", async (line) => {
  if (!line.trim()) return;
  let cmd;
  try {
    cmd = JSON.parse(line);
  } catch (e) {
    out({ id: null, ok: false, error: `not JSON: ${line}` });
    return;
  }
  const op = ops[cmd.op];
  if (!op) {
    out({ id: cmd.id, ok: false, error: `unknown op ${cmd.op}` });
    return;
  }
  try {
    const result = await op(cmd);
    out({ id: cmd.id, ok: true, result: result === undefined ? null : result });
  } catch (e) {
    out({ id: cmd.id, ok: false, error: (e && (e.message || e.description)) || String(e), status: e && e.status, code: e && e.code, body: e && e.body });
  }
});
process.on("unhandledRejection", (e) => out({ event: "unhandledRejection", error: String((e && e.message) || e) }));
process.on("uncaughtException", (e) => out({ event: "uncaughtException", error: String((e && e.stack) || e) }));
