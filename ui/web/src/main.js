// The operator page: Uppy's Dashboard uploading with tus to this gateway,
// and a list of uploads in progress polled from /ui/api/uploads.
import Uppy from "@uppy/core";
import Dashboard from "@uppy/dashboard";
import Tus from "@uppy/tus";

const cfg = JSON.parse(document.getElementById("tusgate-config").textContent);

const uppy = new Uppy({ autoProceed: false });
uppy.use(Dashboard, { inline: true, target: "#uppy", height: 360, proudlyDisplayPoweredByUppy: false });
uppy.use(Tus, { endpoint: cfg.endpoint, chunkSize: cfg.chunkSize, retryDelays: [0, 1000, 3000, 5000] });
// Tests drive uploads through this handle.
window.tusgateUppy = uppy;

const units = ["B", "KiB", "MiB", "GiB", "TiB"];
function bytes(n) {
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return (i === 0 ? n : n.toFixed(1)) + " " + units[i];
}

// Rates come from the difference between two polls, kept only for the IDs
// of the latest listing.
let last = new Map();

function cell(row, text, cls) {
  const td = document.createElement("td");
  td.textContent = text;
  if (cls) td.className = cls;
  row.appendChild(td);
}

async function refresh() {
  const status = document.getElementById("status");
  try {
    const res = await fetch(cfg.api, { cache: "no-store" });
    if (!res.ok) throw new Error("status " + res.status);
    const body = await res.json();
    const now = Date.now();
    const next = new Map();
    const tbody = document.getElementById("uploads");
    tbody.replaceChildren();
    for (const u of body.uploads) {
      const prev = last.get(u.id);
      const rate = prev && now > prev.at ? ((u.offset - prev.offset) * 1000) / (now - prev.at) : 0;
      next.set(u.id, { offset: u.offset, at: now });
      const row = document.createElement("tr");
      row.dataset.id = u.id;
      cell(row, u.id);
      cell(row, u.filename || "");
      cell(row, bytes(u.offset) + " of " + (u.length >= 0 ? bytes(u.length) : "?"), "num");
      cell(row, rate > 0 ? bytes(rate) + "/s" : "–", "num");
      // The replica holding the lock, by its instance name when the store
      // records one.
      cell(row, u.locked ? u.holder || "yes" : "no", "holder");
      cell(row, u.expires ? new Date(u.expires).toLocaleString() : "never");
      tbody.appendChild(row);
    }
    last = next;
    status.textContent = body.uploads.length + " in progress" + (body.truncated ? " (first " + body.limit + " shown)" : "") +
      " · updated " + new Date(now).toLocaleTimeString();
  } catch (e) {
    status.textContent = "list unavailable: " + e.message;
  }
}

refresh();
setInterval(refresh, cfg.refreshMillis);
