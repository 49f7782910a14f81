"""Instrument categories: the table, and a first guess from a stem's file name.

The category tells the mixer what job a stem does (a kick is shaped differently
from a synth pad), so a wrong category means decisions made on wrong
information. This module holds

- :data:`CATEGORIES`, the sixteen categories as one table of data: name, a
  one-line rule, the default importance, a priority, and the words that name
  each one in file names;
- :func:`suggest_from_name`, which reads a file name ("03_SnareBot.wav",
  "Gesang Lead.wav", "BGV 2 L.wav") and suggests a category with a confidence,
  an importance, and whether the stem holds a whole group of parts;
- :func:`display_name`, :func:`is_generic_name`, :func:`group_note`,
  :func:`canonical` and :func:`default_importance` for the session, the checks
  and the user interface.

Sources
-------
- The category rules and the importance advice follow the stem preparation
  guide that the design takes its rules from (``reference/stem-preparation-guide.txt``,
  sections "Categorising stems correctly" and "Setting Importance"), restated
  here in our own words: toms are Percussion; hi-hats are Cymbals; claps are
  Snare; bells and synth bells are Cymbals; Drums only for a whole kit on one
  stem; crackle, noise and atmospheres are FX or Other; lead and backing vocals
  are separate. Importance: what the listener follows is high, rhythm parts and
  harmonic layers medium, atmospheres and background textures low.
- The vocabulary was drawn from the naming habits of real multitrack sessions:
  the Cambridge-MT "Mixing Secrets" free multitrack library (CamelCase names
  with numbering prefixes and mic positions: ``01_KickIn``, ``04_SnareDown``,
  ``08_OverheadsL``, ``13_BassDI``, ``21_LeadVoxDT``, ``24_BackingVox2``),
  MedleyDB (``Artist_Song_STEM_03.wav``, whose instrument lives in the YAML
  metadata rather than the file name, hence treated as generic), and the
  default track names of Logic ("Audio 1", "Inst 1", ``_bip`` bounces), Pro
  Tools ("Audio 1_01", ``.L``/``.R`` split mono), Ableton Live ("1-Audio",
  "2-MIDI") and Cubase/Reaper ("Audio 01", "untitled").

Judgment calls
--------------
These are decisions the guide leaves open; each is tested in
``tests/test_categories.py``.

- **Two instruments in one name.** The more specific word wins, by the
  ``priority`` column of the table (drum pieces, then bass, then the melodic
  families, then vocals, then whole-kit Drums, FX, Other). So "Synth Bass" and
  "Bass Synth" are Bass, "Synth Pad" is Pads, "Synth Strings" is Strings,
  "Drum Loop" is Drums, "Perc Loop" is Percussion, "Guitar FX" is Guitar,
  "Snare Room" is Snare. Confidence drops (x0.85, at most 0.8) because the name
  is not one plain word.
- **Modifiers are not instruments.** "Lead", "Acoustic", "Rhythm", "808",
  "Double", "Backing", "Beat", "Mix" are *hints* (confidence 0.55): they decide
  a category only when nothing else in the name does. "808" alone is a Kick,
  "808 Bass" and "Sub 808" are Bass, "808 Clap" is Snare; "Lead" alone is a
  Lead Vocal (the usual short name in vocal sessions), "Acoustic" alone a
  Guitar, "Beat" a whole kit, "Mix"/"Master" a full mix. "FT" (floor tom) is
  only a hint too, because "ft." also means "featuring".
- **Compound words** ("Bassgitarre", "Kinderchor", "Guitarist") are read by
  a keyword at their start or end, at confidence 0.65, and only when no whole
  word matched.
- **Overheads** are Cymbals (they are the cymbal mics of a miked kit).
  **Room** mics hear the whole kit, so they are Drums, flagged as the
  ``"drum room"`` group with a note.
- **Vocal doubles** ("Vox Dbl", "LeadVoxDT") are Backing Vocal: a double
  supports the lead and should sit under it, not compete with it for the
  lead's place. "Harmony", "Choir" and "Ad Libs" are Backing Vocal too; a lead
  harmony ("Lead Harm") is a harmony. "Vocals" alone is Lead Vocal, flagged as
  the ``"vocals"`` group because such a stem usually holds lead and harmonies
  together; so is a name joining lead and backing words ("Vox + BVs",
  "Lead & Backing", "Gesang und Chor", "Voce e Cori") or a vocal bus ("All
  Vox", "Vox Bus"). A name joining two guitar numbers ("Gtr 1+2") or saying
  "Rhythm & Lead" is the ``"guitars"`` group.
- **Processed vocal fragments** ("Vocal Chop", "Vox FX") are FX: they are ear
  candy, and calling them Lead Vocal would make them compete with the singer.
  An instrument with effects ("Guitar FX") keeps its instrument.
- **Woodwinds** (sax, flute, clarinet, oboe, bassoon) and harmonica are Brass:
  the table has no woodwind category, and these parts play the same roles as a
  horn section (lines, stabs, solos). "Bass Clarinet" is Brass, not Bass.
- **Mallets**: glockenspiel, chimes and bells are Cymbals (the guide's bell
  rule); marimba, xylophone and vibraphone are Percussion; celesta is Keys.
- **Harp** is Strings, sitar/banjo/mandolin/ukulele are Guitar, accordion is
  Keys, whistling and a click track are Other.
- **Importance**: Cymbals and Percussion default to medium (they carry the
  groove); a shaker, or any stem named as a texture/atmosphere/drone, is
  suggested low, following the guide's "background elements low". A name
  that says "lead", "solo", "riff", "hook", "melody" or "main" raises a melodic
  stem to high. A full mix or instrumental on one stem is Other, but medium.
- **Generic names** ("Track 7", "Audio 03", "Inst 1", "Spur 3", "Stem 4") give
  no category and confidence 0; an unknown but descriptive word ("Gizmo") also
  gives no category, but is not called generic.
- **What the user types** (:func:`canonical`) is matched against the category
  names and a short list of aliases per row ("vocals", "vox", "lead" → Lead
  Vocal; "bv", "bgv", "harmonies" → Backing Vocal; "woodwinds" → Brass), not
  against the whole file-name vocabulary: a typo should be refused, not guessed.
"""

from __future__ import annotations

import os
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from .errors import ParameterError, WorkbenchError
from .importance import IMPORTANCE_LEVELS as _LEVELS

__all__ = [
    "Category",
    "NameSuggestion",
    "CATEGORIES",
    "CATEGORY_NAMES",
    "get_category",
    "canonical",
    "default_importance",
    "display_name",
    "is_generic_name",
    "suggest_from_name",
    "group_note",
]

# Confidence of a suggestion by how the name matched (see the module docstring).
CONFIDENCE_PHRASE = 0.95  #: several words that together name one instrument ("kick drum")
CONFIDENCE_WORD = 0.92  #: one plain, unambiguous word ("snare", "piano")
CONFIDENCE_ABBREVIATION = 0.75  #: a short form ("kck", "gtr", "pno", "bd")
CONFIDENCE_HINT = 0.55  #: a modifier that only guesses ("lead", "808", "acoustic")
CONFIDENCE_PART_OF_WORD = 0.65  #: a keyword at the start or end of a compound ("bassgitarre")
CONFLICT_FACTOR = 0.85  #: applied when words of other categories also appear
CONFLICT_CAP = 0.8  #: ... and the result is capped here
VOCAL_MODIFIER_CAP = 0.85  #: "Vox Dbl": a vocal word turned into a backing vocal


@dataclass(frozen=True)
class Category:
    """One instrument category: its rule and the words that name it.

    Parameters
    ----------
    name : str
        The name shown to the user ("Lead Vocal").
    description : str
        One line saying what belongs here (and what does not).
    default_importance : {"low", "medium", "high"}
        Importance given to a stem of this category unless the name or the
        user says otherwise.
    priority : int
        When a file name holds words of several categories, the lowest priority
        wins. Specific parts (kick, snare, bass) come before whole families, and
        whole-kit Drums, FX and Other come last.
    words : tuple of str
        Full words and phrases, matched as whole tokens after splitting the
        name ("kick", "bass drum", "hi hat"). Several-word phrases win over the
        single words they contain.
    abbreviations : tuple of str
        Short forms with a lower confidence ("kck", "gtr").
    hints : tuple of str
        Modifiers that decide the category only when nothing else does
        ("lead" → Lead Vocal, "808" → Kick).
    aliases : tuple of str
        Extra names that :func:`canonical` accepts for this category.
    """

    name: str
    description: str
    default_importance: str
    priority: int
    words: tuple[str, ...] = ()
    abbreviations: tuple[str, ...] = ()
    hints: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.default_importance not in _LEVELS:
            raise ParameterError(
                f"default_importance={self.default_importance!r} for category {self.name!r} "
                f"is not one of {_LEVELS}")


# --------------------------------------------------------------------------- the table
#
# Words are written as they appear in names; they are split with the same
# tokenizer as file names, so "hi-hat", "hi hat" and "HiHat" are one entry.
# Accents are folded ("Bläser" → "blaser", "chœurs" → "choeurs"); a final "s" is
# dropped when the singular is known ("Toms" → "tom"), so plurals need no entry.
# Languages: de, fr, es, it, pt, nl, sv besides English.

CATEGORIES: tuple[Category, ...] = (
    Category(
        "Kick",
        "The kick drum: inside, outside and sub-kick mics or a kick sample, one kick per stem.",
        "medium", 10,
        words=("kick", "kickdrum", "kick drum", "bassdrum", "bass drum", "sub kick", "subkick",
               "kick sub", "grosse trommel", "grosse caisse", "bombo", "cassa", "grancassa",
               "bumbo", "basdrum", "bastrumma"),
        abbreviations=("bd", "kd", "kck", "kik", "bdrum"),
        hints=("808", "909"),
        aliases=("kicks", "kick drum", "bass drum", "bd"),
    ),
    Category(
        "Snare",
        "Snare drum top and bottom mics and rim shots; claps and snaps also go here, since they "
        "play the snare's backbeat role.",
        "medium", 11,
        words=("snare", "snaredrum", "snare drum", "clap", "handclap", "hand clap", "rimshot",
               "rim shot", "sidestick", "side stick", "cross stick", "crossstick", "xstick",
               "caisse claire", "caja", "redoblante", "rullante", "caixa", "kleine trommel",
               "virvel", "virveltrumma", "snaar"),
        abbreviations=("snr", "sn", "sd", "snre", "rim", "snap", "clp", "x stick"),
        aliases=("snares", "snare drum", "clap", "claps"),
    ),
    Category(
        "Cymbals",
        "Hi-hats, rides, crashes and overheads, plus bells, glockenspiel and synth bells, which "
        "share the same bright metallic register.",
        "medium", 20,
        words=("cymbal", "hihat", "hi hat", "high hat", "hat", "open hat", "closed hat",
               "overhead", "overheads", "ride", "ride bell", "crash", "china", "splash", "gong",
               "bell", "synth bell", "bell synth", "tubular bell", "sleigh bell", "glockenspiel",
               "glock", "chime", "wind chime", "crotales", "becken", "cymbale", "charleston",
               "platillo", "plato", "piatti", "prato", "bekken", "glocken", "cloche",
               "campana", "campane", "sino", "klokken"),
        abbreviations=("hh", "hhat", "cym", "cymb", "oh", "ohl", "ohr", "ohh", "chh"),
        aliases=("cymbal", "hi-hat", "hihat", "hi hat", "hats", "overheads", "bells"),
    ),
    Category(
        "Percussion",
        "Toms (rack, floor) and hand or mallet percussion such as shaker, tambourine, congas and "
        "cowbell; toms belong here, not under Drums.",
        "medium", 21,
        words=("percussion", "tom", "floor tom", "floortom", "rack tom", "racktom", "hi tom",
               "high tom", "mid tom", "low tom", "tom tom", "tomtom", "stand tom", "shaker",
               "egg shaker", "tambourine", "tamborine", "tamb", "conga", "bongo", "cowbell",
               "cow bell", "cajon", "djembe", "timbale", "guiro", "cabasa", "clave", "triangle",
               "woodblock", "wood block", "agogo", "timpani", "tabla", "darbuka", "doumbek",
               "surdo", "maraca", "marimba", "xylophone", "vibraphone", "vibes", "taiko", "udu",
               "frame drum", "bodhran", "pandeiro", "perkussion", "percusion", "percussioni",
               "percussao", "percussie", "slagverk"),
        abbreviations=("perc", "prc", "shkr", "tmb"),
        hints=("ft",),
        aliases=("perc", "percs", "tom", "toms"),
    ),
    Category(
        "Drums",
        "A whole drum kit mixed to one stem (or a room mic that hears the whole kit); single drum "
        "pieces take their own categories.",
        "medium", 60,
        words=("drums", "drumkit", "drum kit", "kit", "full kit", "drum set", "drumset",
               "drum bus", "drum buss", "drum group", "drum mix", "drum loop", "drum break",
               "breakbeat", "drum machine", "room", "drum room", "room mic", "schlagzeug",
               "batterie", "bateria", "batteria", "drumstel", "slagwerk", "trummor"),
        abbreviations=("drum", "drm", "drms"),
        hints=("beat",),
        aliases=("drum", "drum kit", "kit", "full kit", "drum bus"),
    ),
    Category(
        "Bass",
        "Bass guitar (DI or amp), upright and double bass, synth and sub bass, 808 bass lines.",
        "medium", 30,
        words=("bass", "bassline", "bass line", "bass guitar", "bassgitarre", "basgitaar",
               "bass gtr", "subbass", "sub bass", "808 bass", "sub 808", "808 sub", "upright",
               "upright bass", "double bass", "contrabass", "kontrabass", "contrebasse",
               "contrabajo", "contrabbasso", "synthbass", "moog bass", "ebass", "e bass",
               "electric bass", "acoustic bass", "fretless", "stand up bass", "basse", "bajo",
               "basso", "baixo"),
        abbreviations=("sub", "bas"),
        aliases=("bass guitar", "sub bass", "synth bass"),
    ),
    Category(
        "Guitar",
        "Electric and acoustic guitars and other plucked fretted instruments (banjo, mandolin, "
        "ukulele).",
        "medium", 43,
        words=("guitar", "electric guitar", "acoustic guitar", "steel guitar", "12 string",
               "gitarre", "leadgitarre", "akustikgitarre", "guitare", "guitarra", "chitarra",
               "gitaar", "gitarr", "banjo", "mandolin", "mandoline", "ukulele", "uke", "dobro",
               "pedal steel", "lap steel", "sitar", "bouzouki"),
        abbreviations=("gtr", "guit", "gt", "gtar", "egtr", "agtr", "acgtr", "elecgtr", "leadgtr",
                       "eg", "ag", "nylon"),
        hints=("acoustic", "electric", "elec", "rhythm", "rhy", "strat", "tele", "distorted"),
        aliases=("gtr", "guitars", "electric guitar", "acoustic guitar"),
    ),
    Category(
        "Keys",
        "Piano, electric pianos, organ, clavinet and other keyboard instruments.",
        "medium", 44,
        words=("keys", "keyboard", "piano", "grand piano", "upright piano", "electric piano",
               "epiano", "e piano", "toy piano", "rhodes", "fender rhodes", "wurli", "wurlitzer",
               "organ", "hammond", "b 3", "clavinet", "harpsichord", "cembalo", "celesta",
               "mellotron", "accordion", "harmonium", "klavier", "orgel", "orgue", "organo",
               "teclado", "tastiera", "tastiere", "toetsen", "pianoforte"),
        abbreviations=("pno", "ep", "kbd", "kybd", "clav", "org"),
        hints=("leslie",),
        aliases=("key", "piano", "keyboard", "keyboards", "organ"),
    ),
    Category(
        "Synth",
        "Synth leads, arps, plucks and stabs; synth basses go to Bass, synth pads to Pads and "
        "synth bells to Cymbals.",
        "medium", 45,
        words=("synth", "synthesizer", "synthesiser", "lead synth", "synth lead", "arp",
               "arpeggio", "arpeggiator", "pluck", "supersaw", "moog", "minimoog", "juno",
               "prophet", "dx 7", "vocoder", "talkbox", "sintetizador", "sintetizzatore",
               "synthe", "sinte"),
        abbreviations=("syn", "synt", "saw", "stab", "seq"),
        aliases=("synthesizer", "synths"),
    ),
    Category(
        "Pads",
        "Sustained chordal beds, synthetic or sampled, filling the harmony behind the main parts.",
        "medium", 40,
        words=("pad", "synth pad", "string pad", "bell pad", "warm pad", "flache", "flaeche",
               "flachen", "flaechen", "nappe"),
        aliases=("pad",),
    ),
    Category(
        "Strings",
        "Violins, violas, cellos, string sections and harp.",
        "medium", 41,
        words=("strings", "string", "string section", "string ensemble", "violin", "viola",
               "cello", "celli", "violoncello", "fiddle", "harp", "streicher", "geige",
               "violine", "bratsche", "cordes", "violon", "violoncelle", "cuerdas", "violonchelo",
               "archi", "violino", "violini", "cordas", "strijkers", "viool", "strakar"),
        abbreviations=("str", "strs", "strgs", "vln", "vl", "vn", "vla", "vc", "vlc"),
        hints=("orchestra", "orch", "ensemble"),
        aliases=("string", "string section"),
    ),
    Category(
        "Brass",
        "Trumpets, trombones, horns and saxophones, and the other wind instruments (flute, "
        "clarinet, harmonica).",
        "medium", 42,
        words=("brass", "horn", "horn section", "trumpet", "trombone", "french horn",
               "flugelhorn", "tuba", "cornet", "euphonium", "sousaphone", "sax", "saxophone",
               "alto sax", "tenor sax", "bari sax", "baritone sax", "soprano sax", "altosax",
               "tenorsax", "barisax", "flute", "pan flute", "piccolo", "clarinet",
               "bass clarinet", "bass trombone", "oboe", "bassoon", "english horn", "woodwind",
               "winds", "harmonica", "blues harp", "melodica", "recorder", "blaser", "blaeser",
               "trompete", "posaune", "saxophon", "flote", "floete", "klarinette", "horner",
               "cuivres", "trompette", "clarinette", "metales", "vientos", "trompeta",
               "trombon", "saxofon", "flauta", "clarinete", "ottoni", "fiati", "tromba",
               "sassofono", "flauto", "clarinetto", "metais", "sopros", "blazers", "trompet",
               "blas"),
        abbreviations=("tpt", "trp", "trpt", "tbn", "trb", "tbone", "hrn", "clar", "bari"),
        aliases=("horns", "winds", "woodwind", "woodwinds", "horn section", "wind"),
    ),
    Category(
        "Lead Vocal",
        "The main sung or rapped line the listener follows; a category separate from the "
        "harmonies, best kept on a stem of its own.",
        "high", 51,
        words=("vox", "vocal", "voice", "singer", "vocalist", "lead vocal", "lead vox", "leadvox",
               "lead voice", "lead singer", "main vocal", "main vox", "mainvox", "rap", "rapper",
               "lead rap", "spoken word", "narration", "narrator", "gesang", "leadgesang",
               "hauptgesang", "stimme", "hauptstimme", "leadstimme", "voix", "voix lead",
               "voix principale", "chant", "chant lead", "voz", "voz principal", "voce",
               "voce principale", "voce solista", "zang", "sang"),
        abbreviations=("voc", "vcl", "lv", "ldv", "mc", "vo"),
        hints=("lead", "ld", "topline"),
        aliases=("vocal", "vocals", "vox", "lead", "lead vox", "lead vocals", "lv", "main vocal",
                 "voice"),
    ),
    Category(
        "Backing Vocal",
        "Harmonies, doubles, choirs and ad-libs that support the lead; a category of their own, "
        "separate from the lead vocal.",
        "medium", 50,
        words=("backing vocal", "backing vox", "backingvox", "backing voice", "background vocal",
               "background vox", "bg vox", "bgvox", "b vox", "harmony", "harmonies", "choir",
               "ad lib", "adlib", "ooh", "oohs", "aah", "aahs", "ahh", "ahhs", "gang vocal",
               "gang vox", "bass vox", "bass vocal", "choeur", "choeurs", "coro", "coros",
               "cori", "chor", "koor", "kor", "korsang", "backgroundgesang", "chorgesang",
               "begleitgesang", "begleitstimme", "zweitstimme", "nebenstimme",
               "achtergrondzang", "coristas"),
        abbreviations=("bv", "bvs", "bgv", "bgvs", "bvox", "harm", "hrm"),
        hints=("backing", "backs", "bg", "bkg", "bck", "background", "double", "doubles", "dbl",
               "dt", "stack"),
        aliases=("backing", "backing vocals", "backing vox", "bv", "bvs", "bgv", "bgvs",
                 "harmony", "harmonies", "choir", "background vocals", "bgvox", "backing vocal"),
    ),
    Category(
        "FX",
        "Risers, sweeps, impacts, noise, vinyl crackle, atmospheres and other sound effects; they "
        "need no instrument category.",
        "low", 70,
        words=("fx", "sfx", "efx", "effects", "riser", "uplifter", "downlifter", "sweep",
               "up sweep", "down sweep", "whoosh", "swoosh", "impact", "reverse cymbal",
               "reverse crash", "sub drop", "noise", "white noise", "vinyl", "crackle",
               "vinyl crackle", "atmos", "atmo", "atmosphere", "ambience", "ambiance",
               "ambient", "ambiente", "atmosfera", "drone", "texture", "foley", "soundscape",
               "field recording", "glitch", "stutter", "tape stop", "scratch", "scratches",
               "transition", "crowd", "applause", "vocal chop", "vox chop", "vocalchop",
               "vocal fx", "vox fx",
               "effekte", "effekt", "gerausch", "gerausche", "bruit", "bruitage", "efectos",
               "ruido", "effetti", "rumore", "efeitos"),
        abbreviations=("amb",),
        hints=("chop", "boom", "reverse", "rain"),
        aliases=("effects", "sfx", "sound effects", "noise", "atmos", "atmosphere"),
    ),
    Category(
        "Other",
        "Anything that fits no other category: unusual instruments, a click, a full mix or "
        "instrumental on one stem.",
        "low", 80,
        words=("click", "click track", "clicktrack", "metronome", "count in", "countin",
               "talkback", "timecode", "smpte", "ltc", "whistle", "whistling", "theremin",
               "full mix", "fullmix", "mixdown", "stereo mix", "instrumental", "karaoke",
               "backing track", "playback", "minus one", "premaster", "ref mix"),
        abbreviations=("clk",),
        hints=("master", "mix", "reference"),
        aliases=("misc", "miscellaneous", "click", "full mix", "instrumental"),
    ),
)

#: The category names, in the order of the table (for dropdowns and messages).
CATEGORY_NAMES: tuple[str, ...] = tuple(c.name for c in CATEGORIES)

# --------------------------------------------------------------------------- other word lists
#
# Words that are not instruments but change the reading of a name.

#: Tokens that say nothing about the instrument: mic positions, sides, takes
#: (Cambridge-MT "KickIn/KickOut", "SnareUp/SnareDown", "OverheadsL"; Pro Tools ".L/.R").
_POSITION_WORDS = frozenset("""
    l r left right links rechts gauche droite izq der sx dx lft rgt
    up down top bottom bot btm under over in out inside outside close far near
    di amp mic mics mono stereo st ms mid side dry wet print printed edit edited final
    alt old bip raw processed v ver version the of a an
""".split())

#: Default names that DAWs and recorders give to tracks and files.
_GENERIC_WORDS = frozenset("""
    track tracks trk audio untitled unnamed unbenannt sans titre sin titulo senza titolo
    new neu nouveau nueva nuevo nuovo recording rec aufnahme enregistrement grabacion
    registrazione bounce bounced stem stems spur spuren piste pista traccia faixa spar
    channel ch chan kanal canal midi inst instrument software aux bus buss input take comp
    copy kopie dup duplicate export exported file sample clip region sound voicememo memo
    my song idea demo
""".split())

#: Words joining two parts in one stem ("Vox + BVs", "Lead & Backing", "Gesang und Chor").
_CONNECTORS = frozenset({"and", "und", "et", "y", "en", "och", "with", "plus", "n"})

#: Words saying a stem is a bus or the sum of a family ("Drum Bus", "All Vox", "Gtr Bus").
_BUS_WORDS = frozenset({"bus", "buss", "group", "grp", "sum", "submix", "all", "full", "mix",
                        "alle", "tutti", "todos", "todas", "tous"})

#: Words marking the part the listener follows (the guide: lead, main riff → high).
_LEAD_MARKERS = frozenset({"lead", "ld", "solo", "riff", "hook", "melody", "melodie", "main",
                           "topline", "theme", "principal", "principale", "solista", "haupt"})

#: Words marking an accompanying rhythm part.
_RHYTHM_MARKERS = frozenset({"rhythm", "rhy", "rythm", "rhythmic", "rythme", "ritmo",
                             "rhythmus", "chords", "strum"})

#: Whole words that start or end like a category word but are not compounds of
#: it: "chords" and "chorus" (a harmony part, an effect) are not a "Chor"
#: (German: choir). Issue 13: "SID Chords A" was read as a backing vocal.
_NOT_COMPOUNDS = frozenset({"chord", "chords", "chorus", "choruses", "chorale", "chordal", "chorded"})

#: Words marking a background element (the guide: atmospheres, subtle textures → low).
_LOW_MARKERS = frozenset({"shaker", "egg", "texture", "atmos", "atmo", "atmosphere",
                          "ambience", "ambiance", "ambient", "drone"})

#: Words that turn a vocal into an effect ("Vocal Chop", "Vox FX").
_VOCAL_FX_MARKERS = frozenset({"chop", "fx", "sfx", "efx", "glitch", "stutter", "vocalchop"})

#: Plural family words that mean several parts on one stem.
_VOCAL_PLURALS = frozenset({"vocals", "voices", "vocalists", "stimmen", "voci", "voces", "vozes"})
_GUITAR_PLURALS = frozenset({"guitars", "gtrs", "guits", "gitarren", "guitares", "guitarras",
                             "chitarre", "gitaren", "gitarrer"})

#: Drums words that mean a room mic rather than a mixed kit.
_ROOM_KEYS = frozenset({("room",), ("drum", "room"), ("room", "mic")})

#: Full mixes are Other, but they are the whole song: medium, not low.
_FULL_MIX_KEYS = frozenset({("full", "mix"), ("fullmix",), ("mixdown",), ("stereo", "mix"),
                            ("instrumental",), ("karaoke",), ("backing", "track"),
                            ("playback",), ("minus", "one"), ("premaster",), ("ref", "mix"),
                            ("master",), ("mix",)})

#: Categories whose importance a lead marker raises to high (melodic parts only:
#: a "Main Kick" is not what the listener follows).
_MELODIC = frozenset({"Bass", "Guitar", "Keys", "Synth", "Strings", "Brass", "Lead Vocal"})

#: MedleyDB file names ("Artist_Song_STEM_03", "Artist_Song_RAW_03_01") carry no instrument.
_MEDLEYDB = re.compile(r"^[^_\s]+_[^_\s]+_(?:STEM_\d+|RAW_\d+_\d+)$")

# --------------------------------------------------------------------------- messages

_GROUP_NOTES = {
    "drum kit": (
        "This stem seems to hold the whole drum kit, so every EQ and compression move lands on "
        "kick, snare and cymbals at once. With each drum on its own stem (kick, snare, hi-hat, "
        "toms, overheads) the kick can be fitted around the bass and the snare shaped on its own."),
    "drum room": (
        "A room mic picks up the whole kit, so this stem is treated as Drums and processed as one "
        "piece. That is fine next to separate close mics; it is those close mics (kick, snare, "
        "toms) that let each drum be shaped on its own."),
    "vocals": (
        "The lead vocal and the backing vocals seem to share this stem, so they can only be "
        "balanced and treated together. With the lead on a stem of its own, it can be kept clear "
        "and in front while the harmonies sit behind it."),
    "guitars": (
        "Several guitar parts seem to share this stem (rhythm and lead, or a pair of guitars), so "
        "they get one EQ, one compressor and one place in the stereo image. Separate stems let "
        "each part find its own spot."),
    "full mix": (
        "This looks like a full mix or an instrumental on one stem, so it can only be treated as "
        "one block. Stems of the separate instruments give the mix far more to work with."),
}


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class NameSuggestion:
    """What a file name says about a stem.

    Attributes
    ----------
    category : str or None
        The suggested category, ``None`` when the name says nothing we know.
    confidence : float
        0 (no idea) to 1. About 0.9–0.95 for a plain full word, 0.6–0.8 for an
        abbreviation or a name holding words of several categories, about 0.55
        for a mere hint such as "Lead" or "808".
    suggested_importance : {"low", "medium", "high"}
        The category's default, raised to high for a lead part ("Lead Guitar",
        "Sax Solo") and lowered for a background part ("Shaker", "Guitar Texture").
    group : str or None
        Set when the stem seems to hold several parts: ``"drum kit"``,
        ``"drum room"``, ``"vocals"``, ``"guitars"`` or ``"full mix"``.
    matched : str or None
        The word or phrase of the name that decided the category.
    """

    category: str | None
    confidence: float
    suggested_importance: str = "medium"
    group: str | None = None
    matched: str | None = None


@dataclass(frozen=True)
class _Entry:
    category: str
    priority: int
    confidence: float
    kind: str  # "word", "abbreviation" or "hint"


@dataclass(frozen=True)
class _Match:
    key: tuple[str, ...]
    entry: _Entry
    start: int


_NO_SUGGESTION = NameSuggestion(None, 0.0, "medium", None, None)


# --------------------------------------------------------------------------- lookup


def get_category(name: str) -> Category:
    """The table row of a category, by name or alias (case-insensitive).

    Parameters
    ----------
    name : str
        A category name or alias ("Lead Vocal", "bv", "hi-hat").

    Returns
    -------
    Category

    Raises
    ------
    WorkbenchError
        ``bad_category`` when the name is not a known category.
    """
    found = canonical(name)
    if found is None:
        raise WorkbenchError("bad_category", f"Category {name!r} is not known.",
                             "Use one of: " + ", ".join(CATEGORY_NAMES))
    return next(c for c in CATEGORIES if c.name == found)


def _squash(text: str) -> str:
    return " ".join(re.split(r"[\W_]+", _fold(text).casefold())).strip()


@lru_cache(maxsize=8)
def _alias_table(categories: tuple[Category, ...]) -> dict[str, str]:
    table: dict[str, str] = {}
    for c in categories:
        for alias in (c.name, *c.aliases):
            key = _squash(alias)
            if table.get(key, c.name) != c.name:
                raise ParameterError(f"alias {alias!r} is claimed by {table[key]!r} and {c.name!r}")
            table[key] = c.name
    return table


def canonical(name: str | None, *, categories: tuple[Category, ...] = CATEGORIES) -> str | None:
    """The category a user typed, spelled as in the table; ``None`` if unknown.

    Case, spaces, hyphens and underscores do not matter, and a few common
    aliases are accepted ("lead vox" and "vocals" → Lead Vocal, "bv" and
    "harmonies" → Backing Vocal, "hi-hat" → Cymbals, "perc" → Percussion).
    A plural of a category name is accepted too ("kicks", "pad").

    Parameters
    ----------
    name : str or None
        What the user typed.
    categories : tuple of Category
        The table to look in (default :data:`CATEGORIES`).

    Returns
    -------
    str or None

    Examples
    --------
    >>> canonical("lead_vocal")
    'Lead Vocal'
    >>> canonical("BV")
    'Backing Vocal'
    >>> canonical("banana") is None
    True
    """
    if not isinstance(name, str):
        return None
    key = _squash(name)
    if not key:
        return None
    table = _alias_table(categories)
    if key in table:
        return table[key]
    for variant in (key + "s", key[:-1] if key.endswith("s") else None):
        if variant and variant in table:
            return table[variant]
    return None


def default_importance(category: str | Category | None) -> str:
    """The importance a stem of this category starts with.

    Follows the guide's advice: the lead vocal is high; rhythm parts, pads and
    harmonic layers (drum pieces, bass, guitars, keys, synths, strings, brass,
    backing vocals) are medium; atmospheres and effects (FX, Other) are low.
    A lead instrument is raised to high by :func:`suggest_from_name`, which
    reads the name.

    Parameters
    ----------
    category : str, Category or None
        A category name (any case or alias), a table row, or ``None`` when the
        category is unknown.

    Returns
    -------
    {"low", "medium", "high"}
        ``"medium"`` for ``None``.

    Raises
    ------
    WorkbenchError
        ``bad_category`` for a name that is not a category.

    Examples
    --------
    >>> default_importance("Lead Vocal"), default_importance("Pads"), default_importance("FX")
    ('high', 'medium', 'low')
    >>> default_importance(None)
    'medium'
    """
    if category is None:
        return "medium"
    if isinstance(category, Category):
        return category.default_importance
    return get_category(category).default_importance


# --------------------------------------------------------------------------- names

_AUDIO_EXTENSIONS = frozenset({
    ".wav", ".wave", ".bwf", ".rf64", ".w64", ".aif", ".aiff", ".aifc", ".flac", ".mp3",
    ".ogg", ".oga", ".opus", ".m4a", ".aac", ".caf", ".wma", ".alac", ".sd2", ".mp4"})

# A directory separator, except the "/" of "Gtr 1/2".
_DIR_SEPARATOR = re.compile(r"(?<!\d)[/\\]|[/\\](?!\d)")

# A track number in front of the name: "01 ", "01_", "1-", "03 - ", "01. ", "(01) ",
# "Track01_", "Trk 3 - ". One or two digits, or any number written with a leading
# zero, so that "808 Bass" and "909 Hat" keep their number.
_LEADING_NUMBER = re.compile(
    r"""^\s*
        (?:(?:track|trk|tr)[\s_.\-]*)?      # an optional "Track" glued to the number
        [(\[]?(?P<number>0\d*|\d{1,2})[)\]]?
        (?:\s*[-_.]+\s*|\s+)                # a separator
        (?=\S)                              # and a name after it
    """, re.IGNORECASE | re.VERBOSE)


def _basename(filename: str | os.PathLike) -> str:
    if isinstance(filename, os.PathLike):
        filename = os.fspath(filename)
    if isinstance(filename, bytes):
        filename = os.fsdecode(filename)
    return _DIR_SEPARATOR.split(str(filename))[-1]


def _strip_extension(name: str) -> str:
    root, ext = os.path.splitext(name)
    return root if ext.lower() in _AUDIO_EXTENSIONS and root else name


def display_name(filename: str | os.PathLike) -> str:
    """A clean name to show for a stem file.

    Drops the folder and the audio extension and a track number in front
    ("01_", "03 - ", "Track01_"), turns underscores into spaces and collapses
    runs of spaces. A name that is only a number or a DAW default ("Track 7",
    "Audio 03") is kept as it is, and "808 Bass" keeps its "808".

    Parameters
    ----------
    filename : str or path-like
        The stem's file name (a path is fine).

    Returns
    -------
    str

    Examples
    --------
    >>> display_name("03_Lead_Vox.wav")
    'Lead Vox'
    >>> display_name("Track01_Kick In.wav"), display_name("Track 7.wav")
    ('Kick In', 'Track 7')
    """
    root = _strip_extension(_basename(filename))
    name = root
    m = _LEADING_NUMBER.match(name)
    # "12 String Guitar" and "6-String" name an instrument, not a track number.
    if m and not (m["number"] in ("6", "12") and name[m.end():].lower().startswith("string")):
        name = name[m.end():]
    name = re.sub(r"\s+", " ", name.replace("_", " ")).strip(" -.")
    return name or re.sub(r"\s+", " ", root.replace("_", " ")).strip() or root


_CAMEL = re.compile(
    r"(?<=[a-z])(?=[A-Z])"            # leadVox → lead Vox
    r"|(?<=[A-Z])(?=[A-Z][a-z]{2,})"  # HHTop → HH Top, but BVs stays whole
    r"|(?<=[A-Za-z])(?=\d)"           # Tom1 → Tom 1
    r"|(?<=\d)(?=[A-Za-z])")          # 808Bass → 808 Bass

_DIGIT_EDGE = re.compile(r"(?<=[^\W\d_])(?=\d)|(?<=\d)(?=[^\W\d_])")

_FOLD = str.maketrans({"ß": "ss", "œ": "oe", "Œ": "Oe", "æ": "ae", "Æ": "Ae", "ø": "o",
                       "Ø": "O", "ł": "l", "Ł": "L", "đ": "d", "Đ": "D"})


def _fold(text: str) -> str:
    """Fold accents to plain letters ("Bläser" → "Blaser", "chœurs" → "choeurs")."""
    text = unicodedata.normalize("NFKD", text.translate(_FOLD))
    return "".join(ch for ch in text if not unicodedata.combining(ch))


def _tokens(text: str, *, camel: bool = True) -> list[str]:
    """Split a name into lower-case words: spaces, punctuation, camelCase, digit edges."""
    text = _fold(text)
    text = _CAMEL.sub(" ", text) if camel else _DIGIT_EDGE.sub(" ", text)
    return [t for t in re.split(r"[\W_]+", text.casefold()) if t]


@lru_cache(maxsize=8)
def _index(categories: tuple[Category, ...]
           ) -> tuple[dict[tuple[str, ...], _Entry], frozenset[str], int]:
    """Map each keyword (as a token tuple) to its category; check no word is claimed twice."""
    index: dict[tuple[str, ...], _Entry] = {}
    for c in categories:
        for kind, words in (("word", c.words), ("abbreviation", c.abbreviations),
                            ("hint", c.hints)):
            for word in words:
                key = tuple(_tokens(word))
                if not key:
                    raise ParameterError(f"empty keyword {word!r} in category {c.name!r}")
                if key in index and index[key].category != c.name:
                    raise ParameterError(f"keyword {word!r} is claimed by {index[key].category!r} "
                                     f"and {c.name!r}")
                if kind == "word":
                    conf = CONFIDENCE_PHRASE if len(key) > 1 else CONFIDENCE_WORD
                else:
                    conf = CONFIDENCE_ABBREVIATION if kind == "abbreviation" else CONFIDENCE_HINT
                index[key] = _Entry(c.name, c.priority, conf, kind)
    vocabulary = frozenset(t for key in index for t in key)
    longest = max((len(k) for k in index), default=1)
    return index, vocabulary, longest


def _normalise(token: str, vocabulary: frozenset[str]) -> str:
    """Known tokens stay; "toms" becomes "tom" and "crashes" "crash" when the singular is known."""
    if token in vocabulary or len(token) <= 3 or not token.endswith("s"):
        return token
    for singular in (token[:-1], token[:-2] if token.endswith("es") else ""):
        if singular in vocabulary:
            return singular
    return token


def _read_name(filename: str | os.PathLike, categories: tuple[Category, ...]):
    """Tokens of a name and the keywords found in them (longest phrase first)."""
    root = _strip_extension(_basename(filename))
    index, vocabulary, longest = _index(categories)
    readings = []
    for camel in (True, False):  # "kIcK" is no camelCase: read it whole if the split finds nothing
        raw = _tokens(root, camel=camel)
        norm = [_normalise(t, vocabulary) for t in raw]
        matches: list[_Match] = []
        unmatched: list[str] = []
        i = 0
        while i < len(norm):
            for size in range(min(longest, len(norm) - i), 0, -1):
                key = tuple(norm[i:i + size])
                if key in index:
                    matches.append(_Match(key, index[key], i))
                    i += size
                    break
            else:
                unmatched.append(norm[i])
                i += 1
        readings.append((root, raw, matches, unmatched))
        if matches:
            return readings[-1]
    return readings[0]


def _part_of_word(tokens: list[str], categories: tuple[Category, ...]) -> list[_Match]:
    """Keywords at the start or end of a compound word ("Bassgitarre", "Kinderchor")."""
    index, _, _ = _index(categories)
    singles = [(k[0], e) for k, e in index.items()
               if len(k) == 1 and len(k[0]) >= 4 and e.kind != "hint" and not k[0].isdigit()]
    found = []
    for t in tokens:
        if (len(t) < 6 or t in _POSITION_WORDS or t in _GENERIC_WORDS or t.isdigit()
                or t in _NOT_COMPOUNDS):
            continue
        for word, entry in singles:
            if len(t) - len(word) >= 2 and (t.startswith(word) or t.endswith(word)):
                found.append(_Match((word,), _Entry(entry.category, entry.priority,
                                                    min(entry.confidence, CONFIDENCE_PART_OF_WORD),
                                                    "part"), 0))
    return found


def is_generic_name(filename: str | os.PathLike, *,
                    categories: tuple[Category, ...] = CATEGORIES) -> bool:
    """Whether a file name is a default that says nothing about the instrument.

    True for DAW and recorder defaults ("Track 7", "Audio 03", "Audio Track 1",
    "untitled", "Bounce 1", "New Recording", "Inst 1", "Stem 4", "Spur 3",
    "Piste 2"), for names that are only numbers, and for MedleyDB-style names
    ("Artist_Song_STEM_03"). False as soon as the name holds a category word,
    and false for an unknown but descriptive word ("Gizmo"): that is a name,
    just not one we recognise.

    Parameters
    ----------
    filename : str or path-like
    categories : tuple of Category
        The table whose words count as descriptive (default :data:`CATEGORIES`).

    Returns
    -------
    bool

    Examples
    --------
    >>> is_generic_name("Audio 03.wav"), is_generic_name("03_Kick.wav")
    (True, False)
    """
    root, raw, matches, unmatched = _read_name(filename, categories)
    if _MEDLEYDB.search(root):
        return True
    if matches:
        return False
    words = [t for t in unmatched if not t.isdigit() and len(t) > 1 and t not in _POSITION_WORDS]
    if _part_of_word(words, categories):
        return False
    return all(t in _GENERIC_WORDS for t in words)


def _has_connector(root: str, raw: list[str], matches: list[_Match]) -> bool:
    if re.search(r"[+&]", root) or any(t in _CONNECTORS for t in raw):
        return True
    # Italian/Portuguese "e" ("Voce e Cori") only between two known words.
    starts = {m.start for m in matches} | {m.start + len(m.key) - 1 for m in matches}
    return any(t == "e" and i - 1 in starts and i + 1 in starts for i, t in enumerate(raw))


def suggest_from_name(filename: str | os.PathLike, *,
                      categories: tuple[Category, ...] = CATEGORIES) -> NameSuggestion:
    """Suggest a category (and importance) from a stem's file name.

    The name is split into words (spaces, underscores, hyphens, dots,
    camelCase and digit edges: "03_SnareBot" → ``snare bot``; accents folded),
    and the words are looked up in :data:`CATEGORIES`, longest phrase first
    ("bass drum" is a Kick, not a Bass). Mic positions and sides ("In", "Out",
    "Top", "Bot", "L", "R", "DI", "Amp"), numbers and DAW defaults are ignored.
    When words of several categories appear, the more specific one wins by
    the table's ``priority`` at a lower confidence; see the module docstring
    for the judgment calls.

    Parameters
    ----------
    filename : str or path-like
        The stem's file name (a path is fine).
    categories : tuple of Category
        The table to use (default :data:`CATEGORIES`); pass an extended copy to
        add categories or words.

    Returns
    -------
    NameSuggestion
        ``category=None`` and ``confidence=0`` when the name says nothing we know.

    See Also
    --------
    is_generic_name : whether the name is a DAW default such as "Track 7".
    group_note : the note for a stem that holds several parts.

    Examples
    --------
    >>> s = suggest_from_name("01_KickIn.wav")
    >>> s.category, s.confidence
    ('Kick', 0.92)
    >>> suggest_from_name("Synth Lead.wav").suggested_importance
    'high'
    >>> suggest_from_name("Track 7.wav").category is None
    True
    """
    root, raw, matches, unmatched = _read_name(filename, categories)
    if _MEDLEYDB.search(root):
        return _NO_SUGGESTION  # the artist and song, not the instrument
    _, vocabulary, _ = _index(categories)
    tokens = set(raw) | {_normalise(t, vocabulary) for t in raw}
    strong = [m for m in matches if m.entry.kind != "hint"]
    if not strong:
        strong = _part_of_word(unmatched, categories)
    candidates = strong or [m for m in matches if m.entry.kind == "hint"]
    if not candidates:
        importance = "high" if tokens & _LEAD_MARKERS else "medium"
        return NameSuggestion(None, 0.0, importance, None, None)

    # The most specific category named wins; its best match gives the confidence.
    best_priority = min(m.entry.priority for m in candidates)
    winners = [m for m in candidates if m.entry.priority == best_priority]
    top = max(winners, key=lambda m: (m.entry.confidence, len(m.key)))
    category, confidence, matched = top.entry.category, top.entry.confidence, " ".join(top.key)
    named = {m.entry.category for m in candidates}

    vocal_pair = {"Lead Vocal", "Backing Vocal"}
    others = named - {category} - (vocal_pair if category in vocal_pair else set())
    if others:
        confidence = min(confidence * CONFLICT_FACTOR, CONFLICT_CAP)

    # Vocals: lead and backing together, doubles, and vocal effects.
    backing_words = _category_tokens("Backing Vocal", categories)
    has_backing = bool(tokens & backing_words) or "Backing Vocal" in named
    has_lead = "Lead Vocal" in named or bool(tokens & _LEAD_MARKERS)
    group = None
    if category in vocal_pair:
        if tokens & _VOCAL_FX_MARKERS and "FX" in {c.name for c in categories}:
            category, matched = "FX", f"{matched} + {sorted(tokens & _VOCAL_FX_MARKERS)[0]}"
            confidence = min(confidence, CONFLICT_CAP)
        elif has_backing and has_lead and (_has_connector(root, raw, matches)
                                           or tokens & _BUS_WORDS):
            # "Vox + BVs", "Gesang und Chor": lead and harmonies bounced together.
            vocal = [m for m in matches if m.entry.category in vocal_pair]
            category, group = "Lead Vocal", "vocals"
            confidence = max((m.entry.confidence for m in vocal if m.entry.kind != "hint"),
                             default=confidence)
            matched = " + ".join(" ".join(m.key) for m in vocal)
        elif category == "Lead Vocal" and has_backing:
            marker = sorted(tokens & backing_words)
            category, confidence = "Backing Vocal", min(confidence, VOCAL_MODIFIER_CAP)
            matched = f"{matched} + {marker[0]}" if marker else matched
        elif category == "Lead Vocal" and (
                (tokens & _VOCAL_PLURALS and not tokens & _LEAD_MARKERS)
                or tokens & _BUS_WORDS):
            group = "vocals"
    elif category == "Drums":
        group = "drum room" if top.key in _ROOM_KEYS else "drum kit"
    elif category == "Guitar":
        if (tokens & _GUITAR_PLURALS or tokens & _BUS_WORDS
                or (tokens & _LEAD_MARKERS and tokens & _RHYTHM_MARKERS)
                or re.search(r"\d\s*(?:[+&/]|and|und)\s*\d", root, re.IGNORECASE)):
            group = "guitars"
    elif category == "Other" and top.key in _FULL_MIX_KEYS:
        group = "full mix"

    # Importance: the category's default, moved by what the name says about the part.
    row = next((c for c in categories if c.name == category), None)
    importance = row.default_importance if row else "medium"
    if group == "full mix":
        importance = "medium"
    if category in _MELODIC and tokens & _LEAD_MARKERS:
        importance = "high"
    elif category != "Lead Vocal" and tokens & _LOW_MARKERS:
        importance = "low"
    return NameSuggestion(category, round(confidence, 3), importance, group, matched)


@lru_cache(maxsize=32)
def _category_tokens(name: str, categories: tuple[Category, ...]) -> frozenset[str]:
    """The single-word keywords of one category (used as modifiers, e.g. "Dbl")."""
    out: set[str] = set()
    for row in categories:
        if row.name == name:
            for word in (*row.words, *row.abbreviations, *row.hints):
                key = _tokens(word)
                if len(key) == 1:
                    out.add(key[0])
    return frozenset(out)


def group_note(suggestion: NameSuggestion | str | None) -> str | None:
    """A note for a stem that seems to hold several parts, in plain words.

    Parameters
    ----------
    suggestion : NameSuggestion, str or None
        A suggestion from :func:`suggest_from_name`, or a group name
        (``"drum kit"``, ``"drum room"``, ``"vocals"``, ``"guitars"``,
        ``"full mix"``).

    Returns
    -------
    str or None
        ``None`` when the stem holds one part (or the group is unknown).

    Examples
    --------
    >>> group_note(suggest_from_name("Kick.wav")) is None
    True
    >>> "whole drum kit" in group_note(suggest_from_name("Drums.wav"))
    True
    """
    group = suggestion.group if isinstance(suggestion, NameSuggestion) else suggestion
    return _GROUP_NOTES.get(group) if group else None
