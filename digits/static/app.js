// The page: draw or upload a digit, ask POST /predict, show what came back.
"use strict";

const canvas = document.getElementById("canvas");
const pen = canvas.getContext("2d");
const fileInput = document.getElementById("file");
const drop = document.getElementById("drop");
let drawing = false;

pen.lineWidth = 18;
pen.lineCap = "round";
pen.lineJoin = "round";
pen.strokeStyle = "#000";

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
  canvas.toBlob((blob) => predict(blob, "drawing.png"), "image/png");
}
canvas.addEventListener("pointerup", endStroke);
canvas.addEventListener("pointercancel", endStroke);

function clearAll() {
  pen.clearRect(0, 0, canvas.width, canvas.height);
  showError("");
  document.getElementById("digit").textContent = "–";
  document.getElementById("confidence").textContent = "";
  document.getElementById("uncertain").hidden = true;
  document.getElementById("probabilities").replaceChildren();
  document.getElementById("pixels").replaceChildren();
}
document.getElementById("clear").addEventListener("click", clearAll);
canvas.addEventListener("keydown", (event) => {
  if (event.key === "Delete" || event.key === "Backspace") clearAll();
});

fileInput.addEventListener("change", () => {
  if (fileInput.files.length) predict(fileInput.files[0], fileInput.files[0].name);
});
drop.addEventListener("dragover", (event) => { event.preventDefault(); drop.classList.add("over"); });
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", (event) => {
  event.preventDefault();
  drop.classList.remove("over");
  const file = event.dataTransfer.files[0];
  if (file) predict(file, file.name);
});

// When the server runs with API keys, the person enters theirs once; it lives in this tab only.
let apiKey = sessionStorage.getItem("digits.apiKey") || "";
let lastUpload = null;

document.getElementById("key-form").addEventListener("submit", (event) => {
  event.preventDefault();
  apiKey = document.getElementById("api-key").value.trim();
  sessionStorage.setItem("digits.apiKey", apiKey);
  document.getElementById("key-form").hidden = true;
  if (lastUpload) predict(...lastUpload);
});

async function predict(blob, name) {
  lastUpload = [blob, name];
  const form = new FormData();
  form.append("image", blob, name);
  const headers = apiKey ? { Authorization: `Bearer ${apiKey}` } : {};
  try {
    const response = await fetch("/predict?top_k=3", { method: "POST", body: form, headers });
    const body = await response.json();
    document.getElementById("key-form").hidden = response.status !== 401;
    if (!response.ok) {
      showError(body.detail || `The server answered ${response.status}.`);
      return;
    }
    showError("");
    show(body);
  } catch (error) {
    showError("The service could not be reached. Check your connection and try again.");
  }
}

function showError(message) {
  const box = document.getElementById("error");
  box.textContent = message;
  box.hidden = !message;
}

function show(answer) {
  document.getElementById("digit").textContent = answer.digit;
  document.getElementById("confidence").textContent =
    `${Math.round(answer.confidence * 100)} % sure`;
  document.getElementById("uncertain").hidden = !answer.uncertain;
  const bars = answer.probabilities.map((p, digit) => {
    const row = document.createElement("li");
    row.setAttribute("aria-label", `${digit}: ${(p * 100).toFixed(1)} percent`);
    row.innerHTML = `<span>${digit}</span><span class="bar"><span style="width:${(p * 100).toFixed(1)}%"></span></span><span>${(p * 100).toFixed(1)}%</span>`;
    return row;
  });
  document.getElementById("probabilities").replaceChildren(...bars);
  const cells = answer.pixels.flat().map((count) => {
    const cell = document.createElement("div");
    const shade = Math.round(255 - count * 255 / 16);
    cell.style.background = `rgb(${shade}, ${shade}, ${shade})`;
    cell.title = String(count);
    return cell;
  });
  document.getElementById("pixels").replaceChildren(...cells);
}
