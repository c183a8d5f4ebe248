// The page: draw or upload a digit (POST /predict) or a number (POST /read), show what came
// back; for a number, each digit's box drawn over the image that was sent.
//
// Only the newest input's answer is ever shown. Every input (a finished stroke, a chosen or
// dropped file, Clear) starts a new generation; an answer is shown only if no input came after
// the one it answers, and a request made for an older input is aborted when a file is sent.
// While the pen moves, at most one request for the drawing is in flight: strokes finished
// meanwhile are sent together, once, when it ends (a dozen quick strokes are two requests).
"use strict";

const canvas = document.getElementById("canvas");
const pen = canvas.getContext("2d");
const fileInput = document.getElementById("file");
const drop = document.getElementById("drop");
const byId = (id) => document.getElementById(id);

// the canvas of each mode: a square for one digit, a wide strip for a number
const CANVAS = { digit: [280, 280], number: [640, 200] };
const ENDPOINT = { digit: "/predict?top_k=3", number: "/read?top_k=3" };
const SVG = "http://www.w3.org/2000/svg";
let mode = "digit";

function setUpPen() {  // resizing a canvas resets its drawing state
  pen.lineWidth = 18;
  pen.lineCap = "round";
  pen.lineJoin = "round";
  pen.strokeStyle = "#000";
}
setUpPen();

let drawing = false;         // the pen is down
let generation = 0;          // counts inputs; an answer is shown only for the newest
let request = null;          // the AbortController of the request under way
let drawingInFlight = false; // a request for the drawing is under way
let drawingWaiting = false;  // strokes finished since it was sent
let lastUpload = null;       // [blob, name, generation], sent again once an API key is given
let previewUrl = null;

// When the server runs with API keys, the person enters theirs once; it lives in this tab only.
let apiKey = sessionStorage.getItem("digits.apiKey") || "";

function point(event) {
  const box = canvas.getBoundingClientRect();
  return [(event.clientX - box.left) * canvas.width / box.width,
          (event.clientY - box.top) * canvas.height / box.height];
}

canvas.addEventListener("pointerdown", (event) => {
  drawing = true;
  canvas.setPointerCapture(event.pointerId);
  const [x, y] = point(event);
  pen.beginPath();
  pen.moveTo(x, y);
  pen.lineTo(x + 0.1, y);
  pen.stroke();
});
canvas.addEventListener("pointermove", (event) => {
  if (!drawing) return;
  const [x, y] = point(event);
  pen.lineTo(x, y);
  pen.stroke();
});
function endStroke() {
  if (!drawing) return;
  drawing = false;
  generation += 1;
  showPreview(null);  // the canvas is what is sent (in number mode shown with its boxes)
  setPending(true);
  if (drawingInFlight) drawingWaiting = true;
  else sendDrawing();
}
canvas.addEventListener("pointerup", endStroke);
canvas.addEventListener("pointercancel", endStroke);

async function sendDrawing() {
  drawingInFlight = true;
  drawingWaiting = false;
  const mine = generation;
  const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/png"));
  if (mode === "number" && mine === generation) showPreview(blob, "your drawing");
  await predict(blob, "drawing.png", mine);
  drawingInFlight = false;
  if (drawingWaiting) sendDrawing();
}

function clearAll() {
  generation += 1;
  drawingWaiting = false;
  if (request) request.abort();
  pen.clearRect(0, 0, canvas.width, canvas.height);
  showPreview(null);
  showError("");
  clearAnswer();
}
byId("clear").addEventListener("click", clearAll);

function setMode(chosen) {
  mode = chosen;
  [canvas.width, canvas.height] = CANVAS[mode];
  setUpPen();
  document.body.classList.toggle("number-mode", mode === "number");
  byId("result").hidden = mode !== "digit";
  byId("number-result").hidden = mode !== "number";
  clearAll();  // a new generation: an answer for the other mode is never shown
}
for (const radio of document.querySelectorAll("input[name=mode]")) {
  radio.addEventListener("change", () => { if (radio.checked) setMode(radio.value); });
}
canvas.addEventListener("keydown", (event) => {
  if (event.key === "Delete" || event.key === "Backspace") clearAll();
});

async function sendFile(file) {
  clearAll();  // the file replaces the drawing, and whatever answer was on screen
  const mine = generation;
  showPreview(file, file.name);
  setPending(true);
  predict(await sendable(file), file.name, mine);
}
fileInput.addEventListener("change", () => {
  if (fileInput.files.length) sendFile(fileInput.files[0]);
  fileInput.value = "";  // choosing the same file again is a new input too
});
drop.addEventListener("dragover", (event) => { event.preventDefault(); drop.classList.add("over"); });
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", (event) => {
  event.preventDefault();
  drop.classList.remove("over");
  const file = event.dataTransfer.files[0];
  if (file) sendFile(file);
});

// HEIC/HEIF (an iPhone photo) is refused by the service; a browser that can show one (Safari)
// turns it into a JPEG here. Elsewhere the file is sent as it is and the 415 says what to do.
async function sendable(file) {
  if (!/^image\/hei[cf]/.test(file.type) && !/\.hei[cf]$/i.test(file.name)) return file;
  try {
    const bitmap = await createImageBitmap(file);
    const copy = document.createElement("canvas");
    [copy.width, copy.height] = [bitmap.width, bitmap.height];
    copy.getContext("2d").drawImage(bitmap, 0, 0);
    return await new Promise((resolve) => copy.toBlob(resolve, "image/jpeg", 0.92));
  } catch (error) {
    return file;
  }
}

byId("key-form").addEventListener("submit", (event) => {
  event.preventDefault();
  apiKey = byId("api-key").value.trim();
  sessionStorage.setItem("digits.apiKey", apiKey);
  byId("key-form").hidden = true;
  if (lastUpload && lastUpload[2] === generation) predict(...lastUpload);
});

// POST one image; show its answer or its problem, unless a newer input came meanwhile.
async function predict(blob, name, mine) {
  if (mine !== generation) return;  // a newer input came while the image was being prepared
  if (request) request.abort();
  const controller = new AbortController();
  request = controller;
  lastUpload = [blob, name, mine];
  const form = new FormData();
  form.append("image", blob, name);
  const headers = apiKey ? { Authorization: `Bearer ${apiKey}` } : {};
  let response, body;
  try {
    response = await fetch(ENDPOINT[mode], { method: "POST", body: form, headers,
                                             signal: controller.signal });
    body = await response.json().catch(() => ({}));
  } catch (error) {
    if (mine === generation && error.name !== "AbortError") {
      clearAnswer();
      showError("The service could not be reached. Check your connection and try again.");
    }
    return;
  } finally {
    if (request === controller) request = null;
  }
  if (mine !== generation) return;  // answers an older input: never shown
  byId("key-form").hidden = response.status !== 401;
  if (!response.ok) {
    clearAnswer();
    let message = body.detail || `The server answered ${response.status} ${response.statusText}.`;
    if (String(body.type).endsWith("several-digits")) {  // the page's own way to read a number
      message = `${message.split(".")[0]}. Choose “a number” above to read them all.`;
    }
    showError(message);
    return;
  }
  showError("");
  if (mode === "number") showNumber(body);
  else show(body);
}

function showPreview(file, name) {
  if (previewUrl) URL.revokeObjectURL(previewUrl);
  previewUrl = file ? URL.createObjectURL(file) : null;
  byId("sent").hidden = !file;
  byId("preview").src = previewUrl || "";
  byId("sent-name").textContent = file ? `Sent: ${name}` : "";
}
byId("preview").addEventListener("error", () => {
  if (previewUrl) byId("sent-name").textContent += " (this browser cannot show it)";
});

function showError(message) {
  const box = byId("error");
  box.textContent = message;
  box.hidden = !message;
}

// What is on screen for the last input, dimmed (and busy) while a newer input is asked about.
function setPending(on) {
  for (const id of ["result", "number-result", "sent"]) {
    byId(id).classList.toggle("pending", on);
    if (on) byId(id).setAttribute("aria-busy", "true");
    else byId(id).removeAttribute("aria-busy");
  }
}

function clearAnswer() {
  setPending(false);
  byId("number").textContent = "–";
  byId("number-confidence").textContent = "";
  byId("number-uncertain").hidden = true;
  byId("ignored").hidden = true;
  byId("digits").replaceChildren();
  byId("boxes").replaceChildren();
  byId("digit").textContent = "–";
  byId("confidence").textContent = "";
  byId("uncertain").hidden = true;
  byId("probabilities").replaceChildren();
  byId("pixels").replaceChildren();
}

function show(answer) {
  clearAnswer();
  byId("digit").textContent = answer.digit;
  byId("confidence").textContent = sure(answer.confidence);
  byId("uncertain").hidden = !answer.uncertain;
  const bars = answer.probabilities.map((p, digit) => {
    const row = document.createElement("li");
    row.setAttribute("aria-label", `${digit}: ${(p * 100).toFixed(1)} percent`);
    row.innerHTML = `<span>${digit}</span><span class="bar"><span style="width:${(p * 100).toFixed(1)}%"></span></span><span>${(p * 100).toFixed(1)}%</span>`;
    return row;
  });
  byId("probabilities").replaceChildren(...bars);
  byId("pixels").replaceChildren(...cells(answer.pixels));
}

function showNumber(answer) {
  clearAnswer();
  byId("number").textContent = answer.number;
  byId("number-confidence").textContent = sure(answer.confidence);
  byId("number-uncertain").hidden = !answer.uncertain;
  const marks = answer.ignored.map((mark) => `a ${mark.kind}`);
  byId("ignored").textContent = marks.length ? `Left out (not digits): ${marks.join(", ")}.` : "";
  byId("ignored").hidden = !marks.length;
  const items = answer.digits.map((digit, index) => {
    const item = document.createElement("li");
    item.setAttribute("aria-label", `Digit ${index + 1}: ${digit.digit}, ${sure(digit.confidence)}`);
    const value = document.createElement("span");
    value.className = "value";
    value.textContent = digit.digit;
    const note = document.createElement("span");
    note.textContent = sure(digit.confidence) + (digit.uncertain ? " ?" : "");
    const grid = document.createElement("div");
    grid.className = "pixels small";
    grid.replaceChildren(...cells(digit.pixels));
    item.replaceChildren(value, note, grid);
    return item;
  });
  byId("digits").replaceChildren(...items);
  drawBoxes(answer.digits, answer.separators, answer.lines);
}

// Each digit's box and value over the image that was sent, each point or dash read between
// two digits (or a minus sign before them) with its symbol and, when the image holds several
// lines, each line's box with its number, in the image's own pixels (the SVG's viewBox is the
// image's natural size, so it scales with the picture).
function drawBoxes(digits, separators = [], lines = []) {
  const image = byId("preview");
  if (!previewUrl) return;
  if (!image.complete) {
    const url = previewUrl;
    image.addEventListener("load", () => {
      if (previewUrl === url) drawBoxes(digits, separators, lines);
    }, { once: true });
    return;
  }
  if (!image.naturalWidth) return;  // this browser cannot show the image (e.g. TIFF)
  const svg = byId("boxes");
  svg.setAttribute("viewBox", `0 0 ${image.naturalWidth} ${image.naturalHeight}`);
  const stroke = Math.max(2, image.naturalWidth / 200);
  const marks = separators.filter((separator) => separator.symbol === "." || separator.symbol === "-");
  const lineBoxes = lines.length > 1 ? lines : [];
  svg.replaceChildren(
    ...lineBoxes.map((line) => labelledBox(grown(line.box, stroke * 3), line.number, "line-box", stroke)),
    ...digits.map((digit) => labelledBox(digit.box, digit.digit, "digit-box", stroke)),
    ...marks.map((mark) => labelledBox(mark.box, mark.symbol, "separator-box", stroke)));
}

function grown({ left, top, width, height }, by) {
  return { left: left - by, top: top - by, width: width + 2 * by, height: height + 2 * by };
}

function labelledBox({ left, top, width, height }, text, className, stroke) {
  const group = document.createElementNS(SVG, "g");
  const rect = document.createElementNS(SVG, "rect");
  Object.entries({ x: left, y: top, width, height, "stroke-width": stroke })
    .forEach(([name, value]) => rect.setAttribute(name, value));
  const label = document.createElementNS(SVG, "text");
  label.setAttribute("x", left);
  label.setAttribute("y", Math.max(top - stroke, stroke * 8));
  label.setAttribute("font-size", stroke * 8);
  label.textContent = text;
  group.classList.add(className);
  group.replaceChildren(rect, label);
  return group;
}

function sure(confidence) {
  return `${Math.round(confidence * 100)} % sure`;
}

function cells(pixels) {
  return pixels.flat().map((count) => {
    const cell = document.createElement("div");
    const shade = Math.round(255 - count * 255 / 16);
    cell.style.background = `rgb(${shade}, ${shade}, ${shade})`;
    cell.title = String(count);
    return cell;
  });
}
