// Reads a .dawproject with openDAW's parser (@opendaw/lib-dawproject, not ours) and prints
// what it understood as JSON on the last line of stdout: transport, tracks (channel volume,
// pan, mute, sends, devices with EQ bands), and the arrangement's clips with their files.
import fs from "node:fs";
import { DOMParser } from "@xmldom/xmldom";
import JSZip from "jszip";

globalThis.DOMParser = DOMParser;
const { Xml } = await import("@opendaw/lib-xml");
const D = await import("@opendaw/lib-dawproject");

const zip = await JSZip.loadAsync(fs.readFileSync(process.argv[2]));
const project = Xml.parse(await zip.file("project.xml").async("string"), D.ProjectSchema);
const real = (p) => (p === undefined ? null : { value: p.value, unit: p.unit ?? null });
const tracks = (project.structure ?? []).map((t) => ({
  id: t.id, name: t.name, contentType: t.contentType,
  channel: t.channel && {
    id: t.channel.id, role: t.channel.role, destination: t.channel.destination ?? null,
    audioChannels: t.channel.audioChannels,
    volume: real(t.channel.volume), pan: real(t.channel.pan), mute: t.channel.mute?.value ?? null,
    sends: (t.channel.sends ?? []).map((s) => ({ destination: s.destination, type: s.type,
      volume: real(s.volume), enable: s.enable?.value ?? null })),
    devices: (t.channel.devices ?? []).map((d) => ({ name: d.deviceName ?? null, role: d.deviceRole,
      bands: (d.bands ?? []).map((b) => ({ type: b.type, order: b.order ?? null, freq: real(b.freq),
        gain: real(b.gain), q: real(b.Q) })) })),
  },
}));
const clips = [];
for (const lane of project.arrangement?.lanes?.lanes ?? []) {
  for (const timeline of lane.lanes ?? [lane]) {
    for (const clip of timeline.clips ?? []) {
      for (const content of clip.content ?? []) {
        const inZip = content.file && zip.file(content.file.path) !== null;
        clips.push({ track: timeline.track ?? lane.track, name: clip.name, time: clip.time,
          duration: clip.duration, channels: content.channels, sampleRate: content.sampleRate,
          file: content.file?.path ?? null, external: content.file?.external ?? false, inZip });
      }
    }
  }
}
console.log(JSON.stringify({ tempo: real(project.transport?.tempo),
  timeSignature: project.transport?.timeSignature ?? null, tracks, clips }));
