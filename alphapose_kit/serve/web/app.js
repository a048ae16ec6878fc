// akit serve's page: plain ES modules, no library, no CDN. Every name from the server is shown as text
// (textContent), never parsed as HTML. The session cookie is HTTP-only; the CSRF cookie is echoed in a header.

const COLORS = ["#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#42d4f4", "#f032e6", "#bfef45"];
const $ = (id) => document.getElementById(id);
const state = { fps: 25, frames: new Map(), skeleton: [], analysis: null, events: null, kind: "upload", frame: 0,
  poll: null, last: -1 };
const EDGE_POLL_MS = 1000;

function csrf() {
  const match = document.cookie.match(/(?:^|; )akit_csrf=([^;]*)/);
  return match ? decodeURIComponent(match[1]) : "";
}

async function api(path, options = {}) {
  const headers = { ...(options.headers || {}) };
  if (options.method && options.method !== "GET") headers["X-CSRF-Token"] = csrf();
  const answer = await fetch(path, { ...options, headers, credentials: "same-origin" });
  if (answer.status === 401) { show("login-view"); throw new Error("signed out"); }
  if (!answer.ok) throw new Error((await answer.json().catch(() => ({}))).detail || answer.statusText);
  return answer.json();
}

function show(view) {
  for (const id of ["login-view", "list-view", "session-view"]) $(id).hidden = id !== view;
}

function cell(row, text) {
  const td = row.insertCell();
  td.textContent = text ?? "";
  return td;
}

async function listView() {
  show("list-view");
  const body = $("sessions").tBodies[0];
  body.replaceChildren();
  for (const s of await api("/api/sessions")) {
    const row = body.insertRow();
    const link = document.createElement("a");
    link.href = `#/session/${s.id}`;
    link.textContent = String(s.id);
    cell(row, "").append(link);
    cell(row, s.subject.name);
    cell(row, s.video_name || (s.kind === "edge" ? "edge device" : ""));
    cell(row, s.exercise);
    cell(row, s.job ? s.job.status : "");
  }
}

function frameOf(time) { return Math.max(0, Math.floor(time * state.fps + 1e-6)); }
function currentFrame() { return state.kind === "edge" ? state.frame : frameOf($("video").currentTime); }

function seekFrame(frame) {
  if (state.kind === "edge") {
    state.frame = Math.min(Math.max(0, frame), Math.max(0, state.last));
    drawOverlay();
  } else {
    $("video").currentTime = (Math.max(0, frame) + 0.5) / state.fps;
  }
}

function edgeSize() {
  let width = 320, height = 240;
  for (const people of state.frames.values()) {
    for (const person of people) {
      for (let j = 0; j < person.keypoints.length; j += 3) {
        width = Math.max(width, person.keypoints[j] + 20);
        height = Math.max(height, person.keypoints[j + 1] + 20);
      }
    }
  }
  return [Math.ceil(width), Math.ceil(height)];
}

function drawOverlay() {
  const video = $("video"), canvas = $("overlay");
  const frame = currentFrame();
  $("frame").value = String(frame);
  [canvas.width, canvas.height] = state.kind === "edge" ? edgeSize() : [video.videoWidth || 1, video.videoHeight || 1];
  const ctx = canvas.getContext("2d");
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  ctx.lineWidth = Math.max(2, canvas.width / 300);
  for (const person of state.frames.get(frame) || []) {
    const k = person.keypoints, color = COLORS[(person.idx ?? 0) % COLORS.length];
    ctx.strokeStyle = ctx.fillStyle = color;
    for (const [a, b] of state.skeleton) {
      ctx.beginPath();
      ctx.moveTo(k[3 * a], k[3 * a + 1]);
      ctx.lineTo(k[3 * b], k[3 * b + 1]);
      ctx.stroke();
    }
    for (let j = 0; j < k.length; j += 3) {
      ctx.beginPath();
      ctx.arc(k[j], k[j + 1], ctx.lineWidth * 2, 0, 2 * Math.PI);
      ctx.fill();
    }
  }
  drawCurves(frame);
}

function drawCurves(frame) {
  const canvas = $("curves"), ctx = canvas.getContext("2d");
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  const track = state.analysis && state.analysis.angles[0];
  if (!track) return;
  const last = Math.max(...track.frames, 1);
  const x = (f) => 30 + (f / last) * (canvas.width - 40);
  const y = (deg) => canvas.height - 10 - (deg / 180) * (canvas.height - 20);
  Object.values(track.angles).forEach((values, n) => {
    ctx.strokeStyle = COLORS[n % COLORS.length];
    ctx.beginPath();
    let pen = false;
    values.forEach((deg, i) => {
      if (deg === null) { pen = false; return; }
      if (pen) ctx.lineTo(x(track.frames[i]), y(deg)); else ctx.moveTo(x(track.frames[i]), y(deg));
      pen = true;
    });
    ctx.stroke();
  });
  ctx.strokeStyle = "#000";
  ctx.beginPath();
  ctx.moveTo(x(frame), 0);
  ctx.lineTo(x(frame), canvas.height);
  ctx.stroke();
}

function fillAnalysis(analysis) {
  state.analysis = analysis;
  state.fps = analysis.fps || 25;
  state.skeleton = analysis.skeleton;
  const reps = $("reps").tBodies[0];
  reps.replaceChildren();
  ((analysis.reps && analysis.reps.reps) || []).forEach((rep, n) => {
    const row = reps.insertRow();
    [n + 1, rep.track_id, rep.start_frame, rep.bottom_frame, rep.end_frame].forEach((v) => cell(row, String(v)));
    row.addEventListener("click", () => seekFrame(rep.start_frame));
  });
  const latest = analysis.falls[analysis.falls.length - 1];
  $("alert").hidden = !latest;
  $("alert").textContent = latest ? `Fall detected: track ${latest.track_id} at frame ${latest.frame}` : "";
  $("falls").replaceChildren(...analysis.falls.map((fall) => {
    const item = document.createElement("li");
    item.textContent = `track ${fall.track_id}: frame ${fall.frame} (${fall.time_s.toFixed(2)} s)`;
    return item;
  }));
}

async function loadResults(id) {
  const [records, analysis] = await Promise.all([api(`/api/sessions/${id}/results`), api(`/api/sessions/${id}/analysis`)]);
  state.frames = new Map();
  for (const person of records) {
    const frame = parseInt(String(person.image_id), 10);
    if (!state.frames.has(frame)) state.frames.set(frame, []);
    state.frames.get(frame).push(person);
  }
  fillAnalysis(analysis);
  drawOverlay();
  document.body.dataset.ready = "true";
}

function addFrames(records) {
  for (const record of records) {
    state.frames.set(record.frame, record.people);
    state.last = Math.max(state.last, record.frame);
  }
  $("live-frames").value = String(state.frames.size);
}

async function pollEdge(id) {
  const records = await api(`/api/sessions/${id}/frames?after=${state.last}`);
  if (!records.length && state.analysis) return;
  addFrames(records);
  try {
    fillAnalysis(await api(`/api/sessions/${id}/analysis`));
  } catch (error) {
    console.warn(error);  // no frame rate yet: the skeletons still show
  }
  drawOverlay();
  document.body.dataset.ready = "true";
}

function showJob(job) {
  $("job-status").textContent = job.status;
  $("job-progress").value = job.progress;
  $("job-error").textContent = job.error || "";
}

async function sessionView(id) {
  show("session-view");
  delete document.body.dataset.ready;
  const session = await api(`/api/sessions/${id}`);
  $("session-title").textContent = `${session.subject.name} — session ${session.id}`;
  if (state.events) state.events.close();
  clearInterval(state.poll);
  Object.assign(state, { kind: session.kind, frame: 0, last: -1, frames: new Map(), analysis: null });
  $("player").classList.toggle("edge", session.kind === "edge");
  $("job-line").hidden = session.kind === "edge";
  $("live-line").hidden = session.kind !== "edge";
  if (session.kind === "edge") {
    if (session.fps) state.fps = session.fps;
    await pollEdge(id);
    state.poll = setInterval(() => pollEdge(id).catch(console.warn), EDGE_POLL_MS);
    return;
  }
  $("video").src = `/api/sessions/${id}/video`;
  showJob(session.job);
  if (session.job.status === "done") return loadResults(id);
  state.events = new EventSource(`/api/jobs/${session.job.id}/events`);
  const update = (event) => showJob(JSON.parse(event.data));
  state.events.addEventListener("progress", update);
  state.events.addEventListener("failed", (event) => { update(event); state.events.close(); });
  state.events.addEventListener("done", (event) => { update(event); state.events.close(); loadResults(id); });
}

async function route() {
  try {
    const me = await api("/api/me");
    $("who").textContent = `${me.name} (${me.role})`;
    const match = location.hash.match(/^#\/session\/(\d+)$/);
    if (!match) clearInterval(state.poll);
    await (match ? sessionView(match[1]) : listView());
  } catch (error) {
    console.warn(error);
  }
}

$("login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const answer = await fetch("/api/login", { method: "POST", body: new FormData(event.target) });
  if (!answer.ok) { $("login-error").textContent = "wrong user name or password"; return; }
  $("login-error").textContent = "";
  route();
});

$("upload-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  if (!form.get("exercise")) form.delete("exercise");
  try {
    const session = await api("/api/sessions", { method: "POST", body: form });
    location.hash = `#/session/${session.id}`;
  } catch (error) {
    $("upload-error").textContent = error.message;
  }
});

const video = $("video");
video.addEventListener("seeked", drawOverlay);
video.addEventListener("loadeddata", drawOverlay);
video.addEventListener("timeupdate", drawOverlay);
$("play").addEventListener("click", () => (video.paused ? video.play() : video.pause()));
$("prev-frame").addEventListener("click", () => { video.pause(); seekFrame(currentFrame() - 1); });
$("next-frame").addEventListener("click", () => { video.pause(); seekFrame(currentFrame() + 1); });
window.addEventListener("hashchange", route);
route();
