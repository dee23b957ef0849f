// The session room: device check → safety check → waiting room → call (peer-to-peer mesh or Janus SFU).
// Signaling without glare: the newcomer offers to everyone already in the room; incoming messages are
// handled one at a time (a promise chain). Tests read state through window.openiopRoom.

const cfg = JSON.parse(document.getElementById("room-config").textContent);
const T = JSON.parse(document.getElementById("room-text").textContent);
const $ = (selector) => document.querySelector(selector);

const state = {
  stream: null,
  audioOnly: false,
  ws: null,
  me: null,
  media: cfg.media,
  pcs: new Map(), // mesh: peer id → RTCPeerConnection
  names: new Map(),
  janus: null,
  publisher: null,
  feeds: new Map(), // SFU: feed id → subscriber handle
  chain: Promise.resolve(),
  ended: false,
  lostSince: null,
  joinedAt: null,
  mediaAt: null,
};
window.openiopRoom = state;

function show(step) {
  for (const id of ["step-device", "step-safety", "step-waiting", "step-room", "step-ended"]) {
    $("#" + id).hidden = id !== step;
  }
}

// --- 1. device check -----------------------------------------------------------------------------

async function startPreview() {
  if (state.stream) state.stream.getTracks().forEach((t) => t.stop());
  state.audioOnly = $("#audio-only").checked;
  const video = state.audioOnly ? false : { width: 320, height: 240, frameRate: 15 };
  try {
    state.stream = await navigator.mediaDevices.getUserMedia({ audio: true, video });
    $("#device-error").hidden = true;
  } catch (err) {
    state.stream = new MediaStream();
    $("#device-error").hidden = false;
  }
  $("#preview").srcObject = state.stream;
  $("#preview").hidden = state.audioOnly;
}

$("#audio-only").addEventListener("change", startPreview);
$("#device-ok").addEventListener("click", () => {
  $("#preview").srcObject = null;
  if (cfg.needs_safety) {
    show("step-safety");
  } else {
    connect();
  }
});

// --- 2. safety check -----------------------------------------------------------------------------

$("#safety-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.target;
  const response = await fetch(form.action, { method: "POST", body: new FormData(form), credentials: "same-origin" });
  const answer = await response.json().catch(() => ({ ok: false, errors: {} }));
  const box = $("#safety-errors");
  if (answer.ok) {
    box.hidden = true;
    connect();
    return;
  }
  box.replaceChildren(
    ...Object.values(answer.errors || {}).flat().map((text) => {
      const p = document.createElement("p");
      p.textContent = text;
      return p;
    }),
  );
  box.hidden = false;
});

// --- 3. waiting room and the socket -------------------------------------------------------------

function send(message) {
  if (state.ws && state.ws.readyState === WebSocket.OPEN) state.ws.send(JSON.stringify(message));
}

function connect() {
  state.ended = false;
  state.joinedAt = performance.now();
  show("step-waiting");
  $("#waiting-text").textContent = T.connecting;
  const scheme = location.protocol === "https:" ? "wss://" : "ws://";
  const ws = new WebSocket(scheme + location.host + cfg.ws_url);
  state.ws = ws;
  ws.onmessage = (event) => {
    const message = JSON.parse(event.data);
    state.chain = state.chain.then(() => handle(message)).catch((err) => console.error("room:", err));
  };
  ws.onclose = (event) => {
    if (ws !== state.ws) return;
    state.closeCode = event.code;
    if (state.ended) return;
    if (event.code >= 4000) {
      const why = { 4000: T.removed, 4001: T.superseded, 4002: T.session_ended };
      end(why[event.code] || T.refused);
      return;
    }
    // Dropped: try again for the reconnection window; the server lets us back in without admission.
    state.lostSince = state.lostSince || Date.now();
    if (Date.now() - state.lostSince > cfg.reconnect_seconds * 1000) {
      end(T.refused);
      return;
    }
    note(T.reconnecting);
    setTimeout(connect, 1500);
  };
}

function end(text) {
  state.ended = true;
  hangUpAll();
  $("#ended-text").textContent = text;
  show("step-ended");
}

$("#btn-rejoin").addEventListener("click", () => location.reload());

async function handle(message) {
  switch (message.type) {
    case "waiting":
      show("step-waiting");
      $("#waiting-text").textContent = T.waiting;
      break;
    case "admitted":
      await enterRoom(message);
      break;
    case "peer_joined":
      // Nothing to do yet: the newcomer calls everyone already in (a fresh offer replaces any old call).
      state.names.set(message.id, message.name);
      break;
    case "peer_left":
      closePeer(message.id);
      break;
    case "signal":
      await onSignal(message.from, message.data);
      break;
    case "chat":
      addChat(message.name, message.text);
      break;
    case "waiting_list":
      showWaitingList(message.people);
      break;
    case "mute_all":
      setMuted(true);
      note(T.muted_by_clinician);
      break;
    case "crisis": {
      const box = $("#crisis-alerts");
      const p = document.createElement("p");
      p.textContent = message.name + " " + T.crisis_alert;
      box.append(p);
      box.hidden = false;
      break;
    }
    case "janus":
      if (message.janus) startJanus(message.janus);
      else setTimeout(() => send({ type: "janus" }), 2000);
      break;
    case "removed":
      state.ended = true;
      end(T.removed);
      break;
    case "ended":
      state.ended = true;
      end(T.session_ended);
      break;
    case "superseded":
      state.ended = true;
      end(T.superseded);
      break;
  }
}

function note(text) {
  $("#notices").textContent = text;
}

// --- 4. the call --------------------------------------------------------------------------------

async function enterRoom(message) {
  state.me = message.me;
  state.media = message.media;
  state.iceServers = message.ice_servers || [];
  state.lostSince = null;
  note("");
  show("step-room");
  $("#local-video").srcObject = state.stream;
  $("#tile-me").classList.toggle("audio-only", state.audioOnly);
  for (const peer of message.peers) state.names.set(peer.id, peer.name);
  if (state.media === "sfu") {
    if (message.janus) startJanus(message.janus);
    else send({ type: "janus" });
    return;
  }
  for (const peer of message.peers) await callPeer(peer.id);
}

function tileFor(id) {
  let tile = document.getElementById("tile-" + id);
  if (!tile) {
    tile = document.createElement("figure");
    tile.className = "tile";
    tile.id = "tile-" + id;
    const video = document.createElement("video");
    video.autoplay = true;
    video.playsInline = true; // not muted: received audio plays (and reads in getStats)
    const caption = document.createElement("figcaption");
    caption.textContent = state.names.get(id) || "";
    tile.append(video, caption);
    if (cfg.role === "clinician") {
      const remove = document.createElement("button");
      remove.type = "button";
      remove.className = "small link remove";
      remove.textContent = T.remove;
      remove.addEventListener("click", () => send({ type: "remove", id }));
      tile.append(remove);
    }
    $("#tiles").append(tile);
  }
  return tile;
}

function closePeer(id) {
  const pc = state.pcs.get(id);
  if (pc) pc.close();
  state.pcs.delete(id);
  const feed = state.feeds.get(id);
  if (feed) feed.detach();
  state.feeds.delete(id);
  const tile = document.getElementById("tile-" + id);
  if (tile) tile.remove();
}

function hangUpAll() {
  for (const id of [...state.pcs.keys(), ...state.feeds.keys()]) closePeer(id);
  if (state.janus) {
    const janus = state.janus;
    state.janus = null;
    janus.destroy({ cleanupHandles: true });
  }
  if (state.ws) {
    const ws = state.ws;
    state.ws = null;
    ws.close();
  }
}

// Mesh ---------------------------------------------------------------------------------------------

function newPeer(id) {
  const pc = new RTCPeerConnection({ iceServers: state.iceServers });
  for (const track of state.stream.getTracks()) pc.addTrack(track, state.stream);
  pc.onicecandidate = (event) => {
    if (event.candidate) send({ type: "signal", to: id, data: { candidate: event.candidate.toJSON() } });
  };
  pc.ontrack = (event) => {
    const video = tileFor(id).querySelector("video");
    const stream = event.streams[0] || new MediaStream([event.track]);
    if (video.srcObject !== stream) video.srcObject = stream;
  };
  pc.onconnectionstatechange = () => {
    tileFor(id).dataset.state = pc.connectionState;
    if (pc.connectionState === "connected" && state.mediaAt === null) state.mediaAt = performance.now();
  };
  state.pcs.set(id, pc);
  tileFor(id);
  return pc;
}

async function callPeer(id) {
  closePeer(id);
  const pc = newPeer(id);
  await pc.setLocalDescription(await pc.createOffer());
  send({ type: "signal", to: id, data: { sdp: pc.localDescription.toJSON() } });
}

async function onSignal(from, data) {
  if (state.media !== "mesh") return;
  let pc = state.pcs.get(from);
  if (data.sdp && data.sdp.type === "offer") {
    if (pc) closePeer(from);
    pc = newPeer(from);
    await pc.setRemoteDescription(data.sdp);
    await pc.setLocalDescription(await pc.createAnswer());
    send({ type: "signal", to: from, data: { sdp: pc.localDescription.toJSON() } });
  } else if (data.sdp && pc) {
    await pc.setRemoteDescription(data.sdp);
  } else if (data.candidate && pc) {
    try {
      await pc.addIceCandidate(data.candidate);
    } catch (err) {
      console.warn("room: candidate", err);
    }
  }
}

// SFU (Janus VideoRoom) ------------------------------------------------------------------------------

function startJanus(creds) {
  state.janusStarts = (state.janusStarts || 0) + 1;
  if (state.janus) {
    const old = state.janus;
    state.janus = null;
    old.destroy({ cleanupHandles: true, notifyDestroyed: false });
  }
  for (const id of [...state.feeds.keys()]) closePeer(id);
  window.Janus.init({
    debug: false,
    callback: () => {
      const janus = new window.Janus({
        server: creds.url,
        iceServers: state.iceServers,
        success: () => attachPublisher(janus, creds),
        error: () => janusLost(janus),
        destroyed: () => {},
      });
      state.janus = janus;
    },
  });
}

function janusLost(janus) {
  if (state.janus !== janus || state.ended) return;
  note(T.video_server_down);
  state.janus = null;
  for (const id of [...state.feeds.keys()]) closePeer(id);
  // The backend recreates the room if Janus restarted; then we join again.
  setTimeout(() => send({ type: "janus" }), 1500);
}

function attachPublisher(janus, creds) {
  janus.attach({
    plugin: "janus.plugin.videoroom",
    success: (handle) => {
      state.publisher = handle;
      handle.send({
        message: { request: "join", ptype: "publisher", room: creds.room, pin: creds.pin, id: state.me, display: creds.display },
      });
    },
    error: () => janusLost(janus),
    onmessage: (msg, jsep) => {
      if (msg.videoroom === "joined") {
        note("");
        publish();
        subscribe(janus, creds, msg.publishers || []);
      } else if (msg.videoroom === "event") {
        if (msg.publishers) subscribe(janus, creds, msg.publishers);
        const gone = msg.leaving || msg.unpublished;
        if (gone && gone !== "ok") closePeer(gone);
      }
      if (jsep) state.publisher.handleRemoteJsep({ jsep });
    },
  });
}

function publish() {
  const tracks = [];
  const audio = state.stream.getAudioTracks()[0];
  const video = state.stream.getVideoTracks()[0];
  if (audio) tracks.push({ type: "audio", capture: audio, recv: false });
  if (video) tracks.push({ type: "video", capture: video, recv: false });
  state.publisher.createOffer({
    tracks,
    success: (jsep) => state.publisher.send({ message: { request: "configure", audio: !!audio, video: !!video }, jsep }),
    error: (err) => console.error("room: publish", err),
  });
}

function subscribe(janus, creds, publishers) {
  for (const publisher of publishers) {
    const id = publisher.id;
    if (id === state.me || state.feeds.has(id)) continue;
    state.names.set(id, publisher.display);
    state.feeds.set(id, null);
    janus.attach({
      plugin: "janus.plugin.videoroom",
      success: (handle) => {
        state.feeds.set(id, handle);
        handle.send({ message: { request: "join", ptype: "subscriber", room: creds.room, pin: creds.pin, streams: [{ feed: id }] } });
      },
      error: () => state.feeds.delete(id),
      onmessage: (msg, jsep) => {
        const handle = state.feeds.get(id);
        if (!jsep || !handle) return;
        handle.createAnswer({
          jsep,
          tracks: [{ type: "data" }],
          success: (answer) => handle.send({ message: { request: "start", room: creds.room }, jsep: answer }),
          error: (err) => console.error("room: subscribe", err),
        });
      },
      onremotetrack: (track, mid, on) => {
        const video = tileFor(id).querySelector("video");
        if (!video.srcObject) video.srcObject = new MediaStream();
        if (on) {
          video.srcObject.addTrack(track);
          if (state.mediaAt === null) state.mediaAt = performance.now();
        } else {
          video.srcObject.removeTrack(track);
        }
      },
      webrtcState: (up) => {
        tileFor(id).dataset.state = up ? "connected" : "disconnected";
      },
    });
  }
}

// --- controls -------------------------------------------------------------------------------------

function setMuted(muted) {
  for (const track of state.stream.getAudioTracks()) track.enabled = !muted;
  const button = $("#btn-mute");
  button.setAttribute("aria-pressed", String(muted));
  button.textContent = muted ? T.unmute : T.mute;
}

$("#btn-mute").addEventListener("click", () => {
  setMuted($("#btn-mute").getAttribute("aria-pressed") !== "true");
});

$("#btn-camera").addEventListener("click", () => {
  const button = $("#btn-camera");
  const off = button.getAttribute("aria-pressed") !== "true";
  for (const track of state.stream.getVideoTracks()) track.enabled = !off;
  button.setAttribute("aria-pressed", String(off));
  button.textContent = off ? T.camera_on : T.camera_off;
});

$("#btn-leave").addEventListener("click", () => {
  state.ended = true;
  end(T.left);
});

const muteAll = $("#btn-mute-all");
if (muteAll) muteAll.addEventListener("click", () => send({ type: "mute_all" }));
const admitAll = $("#btn-admit-all");
if (admitAll) admitAll.addEventListener("click", () => send({ type: "admit_all" }));

const crisis = $("#btn-crisis");
if (crisis) {
  crisis.addEventListener("click", () => {
    // Resources first, whatever the connection does.
    const panel = $("#crisis-panel");
    panel.hidden = false;
    panel.focus();
    send({ type: "crisis" });
  });
}

function showWaitingList(people) {
  const list = $("#waiting-list");
  if (!list) return;
  if (!people.length) {
    const li = document.createElement("li");
    li.className = "help";
    li.textContent = T.nobody_waiting;
    list.replaceChildren(li);
    return;
  }
  list.replaceChildren(
    ...people.map((person) => {
      const li = document.createElement("li");
      li.dataset.id = person.id;
      const button = document.createElement("button");
      button.type = "button";
      button.className = "small";
      button.textContent = T.admit;
      button.addEventListener("click", () => send({ type: "admit", id: person.id }));
      li.append(person.name + " ", button);
      return li;
    }),
  );
}

function addChat(name, text) {
  const li = document.createElement("li");
  const who = document.createElement("strong");
  who.textContent = name + ": ";
  li.append(who, text);
  $("#chat-log").append(li);
}

const chatSave = document.querySelector("#chat-save-form");
if (chatSave) {
  chatSave.addEventListener("submit", async (event) => {
    event.preventDefault();
    $("#chat-transcript").value = [...document.querySelectorAll("#chat-log li")].map((li) => li.textContent).join("\n");
    const answer = await fetch(chatSave.action, { method: "POST", body: new FormData(chatSave), credentials: "same-origin" });
    const body = await answer.json().catch(() => ({ message: String(answer.status) }));
    $("#chat-save-result").textContent = body.message;
  });
}

$("#chat-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const input = $("#chat-text");
  if (input.value.trim()) send({ type: "chat", text: input.value });
  input.value = "";
});

// --- for tests and the benchmark: what each incoming connection is doing ---------------------------

state.stats = async () => {
  const result = [];
  const connections = [];
  for (const [id, pc] of state.pcs) connections.push([id, pc]);
  for (const [id, handle] of state.feeds) {
    if (handle && handle.webrtcStuff && handle.webrtcStuff.pc) connections.push([id, handle.webrtcStuff.pc]);
  }
  for (const [id, pc] of connections) {
    const entry = { peer: id, state: pc.connectionState, framesDecoded: 0, audioSamples: 0, audioEnergy: 0, videoSent: 0, pair: "" };
    const report = await pc.getStats();
    report.forEach((s) => {
      if (s.type === "inbound-rtp" && s.kind === "video") entry.framesDecoded += s.framesDecoded || 0;
      if (s.type === "inbound-rtp" && s.kind === "audio") {
        entry.audioSamples += s.totalSamplesReceived || 0;
        entry.audioEnergy += s.totalAudioEnergy || 0;
      }
      if (s.type === "outbound-rtp" && s.kind === "video") entry.videoSent += s.framesSent || s.framesEncoded || 0;
      if (s.type === "transport" && s.selectedCandidatePairId) {
        const pair = report.get(s.selectedCandidatePairId);
        const remote = pair && report.get(pair.remoteCandidateId);
        if (remote) entry.pair = remote.address || remote.ip || "";
      }
    });
    result.push(entry);
  }
  return result;
};

// Being in a call is activity: keep the session from idling out (the server's idle rule) while in it.
setInterval(() => {
  if (state.ended || !state.ws || $("#step-room").hidden) return;
  const csrf = document.querySelector("input[name=csrfmiddlewaretoken]");
  fetch(document.body.dataset.keepaliveUrl, {
    method: "POST",
    headers: { "X-CSRFToken": csrf ? csrf.value : "" },
    credentials: "same-origin",
  }).catch(() => {});
}, 60000);

startPreview();
