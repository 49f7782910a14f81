// The A/B player's script (workbench/ui/player.py): one Web Audio clock for every version.
const fmt = (s) => { s = Math.max(0, s); const m = Math.floor(s / 60); return m + ":" + (s - 60 * m).toFixed(1).padStart(4, "0"); };
function render({ model, el }) {
  el.classList.add("wb-ab-player");
  el.innerHTML = `
    <div class="wb-ab-title"></div>
    <div class="wb-ab-groups"></div>
    <div class="wb-ab-transport">
      <button class="wb-ab-play" type="button" title="Play or pause (space)">▶ Play</button>
      <input class="wb-ab-seek" type="range" min="0" max="1" step="0.01" value="0" title="Where in the song">
      <span class="wb-ab-position">0:00.0</span>
    </div>
    <div class="wb-ab-options">
      <label title="Repeat the section between the two times"><input class="wb-ab-loop" type="checkbox"> loop from
        <input class="wb-ab-loop-start" type="number" step="0.1" min="0"> s to
        <input class="wb-ab-loop-end" type="number" step="0.1" min="0"> s</label>
      <label title="Play every mix version at the loudness of the quietest (BS.1770 integrated loudness), so the louder one does not win"><input class="wb-ab-match" type="checkbox"> level-matched</label>
    </div>
    <div class="wb-ab-note"></div>`;
  const $ = (c) => el.querySelector(c);
  const playBtn = $(".wb-ab-play"), seek = $(".wb-ab-seek"), posEl = $(".wb-ab-position");
  const loopBox = $(".wb-ab-loop"), loopA = $(".wb-ab-loop-start"), loopB = $(".wb-ab-loop-end"), match = $(".wb-ab-match");
  let ctx = null, gain = null, source = null, buffers = {}, current = null;
  let playing = false, startedAt = 0, startPos = 0, pausedPos = 0, timer = null;
  const versions = () => model.get("versions") || [];
  const byKey = (k) => versions().find((v) => v.key === k);
  const range = (v) => [v.start_s, v.start_s + v.duration_s];
  function gainDb(v) {
    if (!match.checked || v.group === "solo" || v.lufs === null) return 0;
    const ls = versions().filter((w) => w.group !== "solo" && w.lufs !== null).map((w) => w.lufs);
    return ls.length ? Math.min(...ls) - v.lufs : 0;
  }
  function loopRange(v) {
    const [a, b] = range(v);
    const s = Math.max(a, parseFloat(loopA.value) || a), e = Math.min(b, parseFloat(loopB.value) || b);
    return e - s > 0.05 ? [s, e] : [a, b];
  }
  function pos() {
    if (!playing) return pausedPos;
    let p = startPos + (ctx.currentTime - startedAt);
    const v = byKey(current);
    if (v && loopBox.checked) { const [s, e] = loopRange(v); if (p >= e) p = s + ((p - s) % (e - s)); }
    return p;
  }
  async function buffer(v) {
    if (!buffers[v.key]) {
      const dv = v.wav; const bytes = dv.buffer.slice(dv.byteOffset, dv.byteOffset + dv.byteLength);
      buffers[v.key] = await ctx.decodeAudioData(bytes);
    }
    return buffers[v.key];
  }
  function stopSource() { if (source) { source.onended = null; try { source.stop(); } catch (e) {} source.disconnect(); source = null; } }
  async function start(at) {
    const v = byKey(current); if (!v) return;
    if (!ctx) { ctx = new AudioContext(); gain = ctx.createGain(); gain.connect(ctx.destination); }
    if (ctx.state === "suspended") await ctx.resume();
    const buf = await buffer(v);
    const [a, b] = range(v);
    let p = Math.min(Math.max(at, a), b - 0.01);
    if (loopBox.checked) { const [s, e] = loopRange(v); if (p < s || p >= e) p = s; }
    stopSource();
    source = ctx.createBufferSource(); source.buffer = buf;
    if (loopBox.checked) { const [s, e] = loopRange(v); source.loop = true; source.loopStart = s - a; source.loopEnd = e - a; }
    gain.gain.value = Math.pow(10, gainDb(v) / 20);
    source.connect(gain);
    source.onended = () => { if (playing && !source.loop) { pausedPos = a; playing = false; show(); } };
    source.start(0, p - a);
    startedAt = ctx.currentTime; startPos = p; playing = true;
    el.dataset.gainDb = gainDb(v).toFixed(2);
    show();
  }
  function pause() { pausedPos = pos(); playing = false; stopSource(); show(); }
  function show() {
    const v = byKey(current);
    const p = pos();
    posEl.textContent = fmt(p) + (v ? " / " + fmt(range(v)[1]) : "");
    el.dataset.position = p.toFixed(3); el.dataset.current = current || ""; el.dataset.playing = playing ? "1" : "0";
    if (v) { el.dataset.gainDb = gainDb(v).toFixed(2); seek.min = range(v)[0]; seek.max = range(v)[1]; if (document.activeElement !== seek) seek.value = p; }
    playBtn.textContent = playing ? "❚❚ Pause" : "▶ Play";
    el.querySelectorAll(".wb-ab-version").forEach((b) => b.classList.toggle("wb-ab-current", b.dataset.key === current));
  }
  function choose(key) {
    const was = pos(); current = key;
    const v = byKey(key); if (v) { const [a, b] = range(v); if (was < a || was > b) pausedPos = a; else pausedPos = was; }
    if (playing) start(was); else show();
  }
  function build() {
    const groups = $(".wb-ab-groups"); groups.innerHTML = "";
    const names = { preview: "Preview section", mix: "Full mix", versions: "Release versions", solo: "Solo (one stem, in the mix's section)" };
    for (const g of ["preview", "mix", "versions", "solo"]) {
      const vs = versions().filter((v) => v.group === g); if (!vs.length) continue;
      const row = document.createElement("div"); row.className = "wb-ab-group wb-ab-group-" + g;
      const h = document.createElement("span"); h.className = "wb-ab-group-name"; h.textContent = names[g]; row.append(h);
      for (const v of vs) {
        const b = document.createElement("button"); b.type = "button"; b.className = "wb-ab-version"; b.dataset.key = v.key;
        b.textContent = v.label; b.title = v.explains || v.label; b.addEventListener("click", () => choose(v.key)); row.append(b);
      }
      groups.append(row);
    }
    if (!byKey(current)) { current = versions().length ? versions()[0].key : null; pausedPos = current ? byKey(current).start_s : 0; if (playing) pause(); }
    for (const k of Object.keys(buffers)) if (!byKey(k)) delete buffers[k];
    buffers = {};  // new files: decode again
    $(".wb-ab-title").innerHTML = model.get("title_html");
    $(".wb-ab-note").textContent = model.get("note");
    el.classList.toggle("wb-ab-empty", !versions().length);
    show();
  }
  playBtn.addEventListener("click", () => { if (playing) pause(); else start(pausedPos); });
  seek.addEventListener("change", () => { const p = parseFloat(seek.value); if (playing) start(p); else { pausedPos = p; show(); } });
  for (const c of [loopBox, loopA, loopB]) c.addEventListener("change", () => { if (playing) start(pos()); else show(); });
  match.checked = model.get("level_matched");
  match.addEventListener("change", () => { model.set("level_matched", match.checked); model.save_changes(); if (playing) start(pos()); else show(); });
  model.on("change:versions", build); model.on("change:title_html", build); model.on("change:note", build);
  build();
  timer = setInterval(() => { if (playing) show(); }, 100);
  return () => { clearInterval(timer); stopSource(); if (ctx) ctx.close(); };
}
export default { render };
