"""An upload button that talks: files go to the server in acknowledged chunks, with progress.

ipywidgets' ``FileUpload`` reads every file in the browser and sends them in
one websocket message: nothing can show progress, and a large upload looks
like a frozen page. :class:`ChunkedUpload` (an `anywidget
<https://anywidget.dev>`_ with its own small script) sends each file in
chunks of :data:`CHUNK_BYTES`; the server acknowledges each chunk after
writing it to disk, and the browser sends the next one only then — so the
progress shown per file and in total is what the server has *received*, and
a slow link shows as a slowly moving bar. While files travel, the page's
controls are locked (the ``wb-uploading`` class on the workbench, and the
server disables its buttons through :meth:`ChunkedUpload.on_begin`).

Everything the browser sends is checked here: the file count, declared and
received sizes (a file larger than the cap is refused as soon as it says so,
and cut off if it sends more than it said), chunk order. Chunks are written to
a private folder under numbered names, never under the name the browser sent;
:func:`~workbench.ui.files.save_uploads` later judges the content and names.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import anywidget
import traitlets

from .files import format_size

#: Bytes per chunk: small enough to show progress on a slow link, large enough to be quick on a fast one.
CHUNK_BYTES = 256 * 1024
#: Most files in one upload (the session cap applies later; this only bounds the bookkeeping).
MAX_FILES_PER_UPLOAD = 64

_ESM = r"""
function fmt(n) { return n < 1e6 ? (n / 1e3).toFixed(0) + " kB" : (n / 1e6).toFixed(1) + " MB"; }
function render({ model, el }) {
  el.classList.add("wb-upload-widget");
  const btn = document.createElement("button");
  btn.className = "wb-upload jupyter-button widget-button";
  btn.textContent = model.get("label");
  btn.title = "Choose WAV stems to upload";
  const input = document.createElement("input");
  input.type = "file"; input.multiple = true; input.accept = model.get("accept"); input.style.display = "none";
  const prog = document.createElement("div");
  prog.className = "wb-upload-progress";
  el.append(btn, input, prog);
  let waiter = null;
  model.on("msg:custom", (msg) => { if (waiter) { const w = waiter; waiter = null; w(msg); } });
  const ask = (content, buffers) => new Promise((resolve) => {
    waiter = resolve; model.send(content, undefined, buffers || []);
  });
  const sync = () => { btn.disabled = model.get("disabled") || model.get("busy"); };
  model.on("change:disabled", sync); model.on("change:busy", sync); sync();
  btn.addEventListener("click", () => { if (!btn.disabled) input.click(); });
  input.addEventListener("change", async () => {
    const files = Array.from(input.files || []);
    input.value = "";
    if (!files.length) return;
    const app = el.closest(".wb-app");
    if (app) app.classList.add("wb-uploading");
    btn.disabled = true;
    const total = files.reduce((a, f) => a + f.size, 0);
    const chunk = model.get("chunk_bytes");
    prog.innerHTML = "";
    const head = document.createElement("div"); head.className = "wb-upload-total";
    const table = document.createElement("table");
    prog.append(head, table);
    const cells = files.map((f) => {
      const tr = document.createElement("tr"); tr.className = "wb-upload-file";
      const a = document.createElement("td"); a.textContent = f.name;
      const b = document.createElement("td"); b.className = "wb-upload-file-progress"; b.textContent = "waiting";
      tr.append(a, b); table.append(tr); return b;
    });
    let sent = 0;
    const showTotal = () => {
      const pct = total ? Math.floor(100 * sent / total) : 100;
      head.textContent = `Uploading ${files.length} file(s): ${pct}% (${fmt(sent)} of ${fmt(total)}) — ` +
                         "the other controls are locked until it is done.";
    };
    showTotal();
    try {
      const ready = await ask({ type: "begin", files: files.map((f) => ({ name: f.name, size: f.size })) });
      const skip = ready.skip || {};
      for (let i = 0; i < files.length; i++) {
        const f = files[i];
        if (skip[i]) { cells[i].textContent = "not sent: " + skip[i]; sent += f.size; showTotal(); continue; }
        let off = 0, refused = null;
        cells[i].textContent = "0%";
        while (off < f.size) {
          const buf = await f.slice(off, off + chunk).arrayBuffer();
          const ack = await ask({ type: "chunk", index: i, offset: off }, [buf]);
          if (ack.type !== "ack") { refused = ack.reason || "refused"; break; }
          off += buf.byteLength; sent += buf.byteLength;
          cells[i].textContent = `${Math.floor(100 * off / f.size)}% (${fmt(off)} of ${fmt(f.size)})`;
          showTotal();
        }
        if (refused) { sent += f.size - off; cells[i].textContent = "stopped: " + refused; showTotal(); }
        else if (f.size === 0) { cells[i].textContent = "empty file"; }
        else { cells[i].textContent = "received"; }
      }
      await ask({ type: "end" });
      head.textContent = `Received ${files.length} file(s): checking them…`;
    } catch (err) {
      head.textContent = "The upload stopped: " + err;
      model.send({ type: "abort" });
    } finally {
      if (app) app.classList.remove("wb-uploading");
      sync();
    }
  });
  model.on("change:outcome_html", () => { if (model.get("outcome_html")) prog.innerHTML = model.get("outcome_html"); });
}
export default { render };
"""

_CSS = """
.wb-upload-widget { display: inline-flex; flex-direction: column; min-width: 200px; }
.wb-upload-widget button.wb-upload { width: 200px; }
.wb-upload-progress { font-size: 12.5px; margin-top: 2px; }
.wb-upload-progress td { padding: 1px 8px 1px 0; }
.wb-uploading .wb-generate, .wb-uploading .wb-render, .wb-uploading .wb-sample, .wb-uploading .wb-stem-row,
.wb-uploading .wb-remove { pointer-events: none; opacity: 0.55; }
"""


@dataclass
class _Incoming:
    name: str
    declared: int
    path: Path
    received: int = 0
    refused: str = ""


class ChunkedUpload(anywidget.AnyWidget):
    """A file button that uploads in acknowledged chunks, showing progress per file and in total.

    Parameters
    ----------
    folder : Path
        A private folder for the chunks (emptied at each upload).
    max_file_bytes : int
        Files declared or received larger than this are refused while they upload.

    Examples
    --------
    >>> up = ChunkedUpload(Path("/tmp/incoming"), max_file_bytes=200_000_000)   # doctest: +SKIP
    >>> up.on_done(lambda files: print(files))                                  # doctest: +SKIP
    """

    _esm = _ESM
    _css = _CSS
    label = traitlets.Unicode("Upload WAV stems").tag(sync=True)
    accept = traitlets.Unicode(".wav,audio/wav,audio/x-wav").tag(sync=True)
    disabled = traitlets.Bool(False).tag(sync=True)
    busy = traitlets.Bool(False).tag(sync=True)
    chunk_bytes = traitlets.Int(CHUNK_BYTES).tag(sync=True)
    #: Shown under the button after the files were judged (set by the host).
    outcome_html = traitlets.Unicode("").tag(sync=True)

    def __init__(self, folder: Path, max_file_bytes: int, **kwargs) -> None:
        super().__init__(**kwargs)
        self.folder = Path(folder)
        self.max_file_bytes = int(max_file_bytes)
        self._files: list[_Incoming] = []
        self._begin: list[Callable[[int], None]] = []
        self._done: list[Callable[[list[tuple[str, Path | None, str]]], None]] = []
        self.on_msg(self._on_msg)

    # ---------------------------------------------------------------- public
    def on_begin(self, callback: Callable[[int], None]) -> None:
        """``callback(n_files)`` when files start to arrive (lock the page)."""
        self._begin.append(callback)

    def on_done(self, callback: Callable[[list[tuple[str, Path | None, str]]], None]) -> None:
        """``callback([(name sent, path of the received bytes or None, refusal reason), ...])`` when all arrived."""
        self._done.append(callback)

    # ---------------------------------------------------------------- messages
    def _on_msg(self, _widget, content, buffers) -> None:
        kind = content.get("type") if isinstance(content, dict) else None
        if kind == "begin":
            self._start(content.get("files"))
        elif kind == "chunk":
            self._chunk(content, buffers)
        elif kind == "end":
            self._finish()
        elif kind == "abort":
            self._reset()
            self.busy = False

    def _reset(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True, exist_ok=True)
        self._files = []

    def _start(self, files) -> None:
        self._reset()
        skip: dict[str, str] = {}
        if not isinstance(files, list):
            files = []
        for i, f in enumerate(files[:MAX_FILES_PER_UPLOAD]):
            name = f.get("name") if isinstance(f, dict) else None
            size = f.get("size") if isinstance(f, dict) else None
            name = name if isinstance(name, str) else "?"
            size = size if isinstance(size, int) and size >= 0 else 0
            item = _Incoming(name, size, self.folder / f"{i:03d}.part")
            item.path.write_bytes(b"")
            if size > self.max_file_bytes:
                item.refused = (f"it is {format_size(size)}, above the limit of {format_size(self.max_file_bytes)} "
                                "per file. Export a shorter or 16-bit version, or ask for a larger limit.")
                skip[str(i)] = f"above the limit of {format_size(self.max_file_bytes)}"
            self._files.append(item)
        for i in range(MAX_FILES_PER_UPLOAD, len(files)):
            skip[str(i)] = f"at most {MAX_FILES_PER_UPLOAD} files per upload"
        self.outcome_html = ""
        self.busy = True
        for cb in self._begin:
            cb(len(self._files))
        self.send({"type": "ready", "skip": skip})

    def _chunk(self, content, buffers) -> None:
        index, offset = content.get("index"), content.get("offset")
        if not (isinstance(index, int) and 0 <= index < len(self._files)) or not buffers:
            self.send({"type": "refused", "reason": "unexpected chunk"})
            return
        item = self._files[index]
        data = memoryview(buffers[0])
        if item.refused or offset != item.received:
            self.send({"type": "refused", "reason": item.refused or "chunks out of order"})
            return
        if item.received + data.nbytes > self.max_file_bytes:
            item.refused = (f"it is larger than the limit of {format_size(self.max_file_bytes)} per file. "
                            "Export a shorter or 16-bit version, or ask for a larger limit.")
            item.path.unlink(missing_ok=True)
            self.send({"type": "refused", "reason": f"above the limit of {format_size(self.max_file_bytes)}"})
            return
        with open(item.path, "ab") as f:
            f.write(data)
        item.received += data.nbytes
        self.send({"type": "ack", "index": index, "received": item.received})

    def _finish(self) -> None:
        result = [(f.name, None if f.refused else f.path, f.refused) for f in self._files]
        self.send({"type": "finished"})
        self.busy = False
        for cb in self._done:
            cb(result)
