"""Tests for the category table and the suggestion from file names.

The names below are the kind that real sessions arrive with: Cambridge-MT
"Mixing Secrets" multitracks (``01_KickIn``, ``04_SnareDown``, ``21_LeadVoxDT``),
MedleyDB (``Artist_Song_STEM_03``), and Logic / Pro Tools / Ableton / Cubase
exports (``Audio 1_01``, ``Kick.L``, ``1-Audio``, ``Kick_bip``), in several
languages and with the usual numbering prefixes and mic-position suffixes.
"""

from __future__ import annotations

import dataclasses
import doctest
from pathlib import Path

import pytest

from workbench import categories
from workbench.categories import (
    CATEGORIES,
    CATEGORY_NAMES,
    Category,
    NameSuggestion,
    canonical,
    default_importance,
    display_name,
    group_note,
    is_generic_name,
    suggest_from_name,
)
from workbench.errors import WorkbenchError

# --------------------------------------------------------------------------- the table


def test_sixteen_categories_in_the_design_order():
    assert CATEGORY_NAMES == (
        "Kick", "Snare", "Cymbals", "Percussion", "Drums", "Bass", "Guitar", "Keys", "Synth",
        "Pads", "Strings", "Brass", "Lead Vocal", "Backing Vocal", "FX", "Other")
    assert CATEGORY_NAMES == tuple(c.name for c in CATEGORIES)


def test_rows_are_frozen_data_with_one_line_descriptions():
    for c in CATEGORIES:
        assert isinstance(c, Category)
        assert c.description and "\n" not in c.description
        assert c.default_importance in ("low", "medium", "high")
        with pytest.raises(dataclasses.FrozenInstanceError):
            c.name = "x"  # type: ignore[misc]
    assert len({c.priority for c in CATEGORIES}) == len(CATEGORIES)


def test_a_bad_default_importance_is_refused():
    with pytest.raises(ValueError, match="default_importance"):
        Category("Zither", "Plucked box zither.", "loud", 99)


def test_descriptions_state_the_guides_rules():
    d = {c.name: c.description.lower() for c in CATEGORIES}
    assert "tom" in d["Percussion"] and "not under drums" in d["Percussion"]
    assert "hi-hat" in d["Cymbals"]
    assert "clap" in d["Snare"]
    assert "bell" in d["Cymbals"] and "synth bell" in d["Cymbals"]
    assert "whole drum kit" in d["Drums"] and "one stem" in d["Drums"]
    assert "crackle" in d["FX"] and "noise" in d["FX"] and "atmospheres" in d["FX"]
    assert "separate" in d["Lead Vocal"] and "separate" in d["Backing Vocal"]


def test_no_keyword_is_claimed_by_two_categories():
    index, _, _ = categories._index(CATEGORIES)  # builds, or raises ValueError
    assert len(index) > 400


def test_the_table_can_be_extended_as_data():
    zither = Category("Zither", "Plucked box zither.", "medium", 46, words=("zither",),
                      aliases=("zithers",))
    table = CATEGORIES + (zither,)
    s = suggest_from_name("07_Zither_L.wav", categories=table)
    assert (s.category, s.confidence) == ("Zither", categories.CONFIDENCE_WORD)
    assert canonical("ZITHERS", categories=table) == "Zither"
    assert suggest_from_name("Zither.wav").category is None  # the default table is unchanged


def test_a_keyword_claimed_twice_is_an_error_in_the_data():
    clash = Category("Clash", "Claims the kick.", "low", 99, words=("kick",))
    with pytest.raises(ValueError, match="claimed by"):
        suggest_from_name("Kick.wav", categories=CATEGORIES + (clash,))


def test_module_docstring_examples_run():
    result = doctest.testmod(categories, optionflags=doctest.ELLIPSIS)
    assert result.attempted >= 8 and result.failed == 0


# --------------------------------------------------------------------------- names → category

REAL_WORLD_NAMES = [
    # Kick
    ("01_KickIn.wav", "Kick"), ("02_KickOut.wav", "Kick"), ("Kick In.wav", "Kick"),
    ("KICK OUT.wav", "Kick"), ("BD.wav", "Kick"), ("03 - Kck.wav", "Kick"), ("Kik_01.wav", "Kick"),
    ("Bassdrum.wav", "Kick"), ("Bass Drum.wav", "Kick"), ("808.wav", "Kick"),
    ("02_KickSub.wav", "Kick"), ("Sub Kick.wav", "Kick"), ("Kick Drum.L.wav", "Kick"),
    ("Kick_bip.wav", "Kick"), ("grosse caisse.wav", "Kick"), ("Bombo.wav", "Kick"),
    ("Cassa.wav", "Kick"), ("Bastrumma.wav", "Kick"), ("TR808 Kick.wav", "Kick"),
    # Snare (claps and rim shots too)
    ("03_SnareTop.wav", "Snare"), ("04_SnareBot.wav", "Snare"), ("SnareUp.wav", "Snare"),
    ("Snare Down.wav", "Snare"), ("SN top.wav", "Snare"), ("Snr.wav", "Snare"),
    ("Sd.wav", "Snare"), ("Clap.wav", "Snare"), ("Claps.wav", "Snare"),
    ("808 Clap.wav", "Snare"), ("Rimshot.wav", "Snare"), ("caisse claire.wav", "Snare"),
    ("Caja.wav", "Snare"), ("Rullante.wav", "Snare"),
    # Cymbals (hats, overheads, bells)
    ("05_HiHat.wav", "Cymbals"), ("HH.wav", "Cymbals"), ("Hat.wav", "Cymbals"),
    ("Hihat.wav", "Cymbals"), ("Hi-Hat.wav", "Cymbals"), ("hi hats.wav", "Cymbals"),
    ("OH L.wav", "Cymbals"), ("OH R.wav", "Cymbals"), ("08_OverheadsL.wav", "Cymbals"),
    ("Overheads.wav", "Cymbals"), ("Ride.wav", "Cymbals"), ("Crash.wav", "Cymbals"),
    ("Cym.wav", "Cymbals"), ("Cymbals.wav", "Cymbals"), ("Bells.wav", "Cymbals"),
    ("Glock.wav", "Cymbals"), ("Glockenspiel.wav", "Cymbals"), ("Synth Bell.wav", "Cymbals"),
    ("Chimes.wav", "Cymbals"), ("Becken.wav", "Cymbals"), ("HHTop.wav", "Cymbals"),
    # Percussion (toms too)
    ("06_Tom1.wav", "Percussion"), ("Tom 2.wav", "Percussion"), ("Floor Tom.wav", "Percussion"),
    ("FT.wav", "Percussion"), ("Rack Tom.wav", "Percussion"), ("Toms.wav", "Percussion"),
    ("Perc.wav", "Percussion"), ("Percussion.wav", "Percussion"), ("Shaker.wav", "Percussion"),
    ("Tamb.wav", "Percussion"), ("Tambourine.wav", "Percussion"), ("Conga.wav", "Percussion"),
    ("Bongos.wav", "Percussion"), ("Cowbell.wav", "Percussion"), ("Cabasa.wav", "Percussion"),
    ("Perc Loop.wav", "Percussion"), ("Marimba.wav", "Percussion"),
    # Drums (a whole kit, or a room mic)
    ("Drums.wav", "Drums"), ("Drum Kit.wav", "Drums"), ("Kit.wav", "Drums"),
    ("Drum Bus.wav", "Drums"), ("Drum Loop.wav", "Drums"), ("10_Room.wav", "Drums"),
    ("RoomL.wav", "Drums"), ("Schlagzeug.wav", "Drums"), ("Batterie.wav", "Drums"),
    ("Bateria.wav", "Drums"), ("Batteria.wav", "Drums"),
    # Bass
    ("Bass.wav", "Bass"), ("13_BassDI.wav", "Bass"), ("14_BassAmp.wav", "Bass"),
    ("Bass DI.wav", "Bass"), ("Sub.wav", "Bass"), ("Upright.wav", "Bass"),
    ("Contrabass.wav", "Bass"), ("808 Bass.wav", "Bass"), ("Sub 808.wav", "Bass"),
    ("Synth Bass.wav", "Bass"), ("BassSynth.wav", "Bass"), ("Double Bass.wav", "Bass"),
    ("Basse.wav", "Bass"), ("Bajo.wav", "Bass"), ("Basso.wav", "Bass"), ("Baixo.wav", "Bass"),
    ("Bassgitarre.wav", "Bass"), ("Moog Bass.wav", "Bass"),
    # Guitar
    ("Gtr.wav", "Guitar"), ("Guit.wav", "Guitar"), ("Guitar.wav", "Guitar"), ("EG.wav", "Guitar"),
    ("AG.wav", "Guitar"), ("Acoustic.wav", "Guitar"), ("15_ElecGtr1.wav", "Guitar"),
    ("18_AcGtrDI.wav", "Guitar"), ("Gtr DI.wav", "Guitar"), ("Lead Guitar.wav", "Guitar"),
    ("Guitar FX.wav", "Guitar"), ("12 String Gtr.wav", "Guitar"), ("E-Gitarre.wav", "Guitar"),
    ("Guitare.wav", "Guitar"), ("Guitarra.wav", "Guitar"), ("Chitarra.wav", "Guitar"),
    ("Gitaar.wav", "Guitar"), ("Banjo.wav", "Guitar"), ("Mandolin.wav", "Guitar"),
    # Keys
    ("Keys.wav", "Keys"), ("Piano.wav", "Keys"), ("Pno.wav", "Keys"), ("Rhodes.wav", "Keys"),
    ("Wurli.wav", "Keys"), ("Organ.wav", "Keys"), ("20_HammondL.wav", "Keys"),
    ("Clav.wav", "Keys"), ("EP.wav", "Keys"), ("Upright Piano.wav", "Keys"),
    ("B3.wav", "Keys"), ("Klavier.wav", "Keys"), ("Teclado.wav", "Keys"), ("Orgel.wav", "Keys"),
    ("Piano Arp.wav", "Keys"),
    # Synth
    ("Synth.wav", "Synth"), ("Lead Synth.wav", "Synth"), ("SynthLead.wav", "Synth"),
    ("Arp.wav", "Synth"), ("Pluck.wav", "Synth"), ("Saw Lead.wav", "Synth"),
    ("Moog.wav", "Synth"), ("Juno Stab.wav", "Synth"),
    # Pads
    ("Pad.wav", "Pads"), ("Pads.wav", "Pads"), ("SynthPad.wav", "Pads"),
    ("String Pad.wav", "Pads"), ("Fläche.wav", "Pads"),
    # Strings
    ("Strings.wav", "Strings"), ("Str.wav", "Strings"), ("Violin.wav", "Strings"),
    ("Vln 1.wav", "Strings"), ("Viola.wav", "Strings"), ("Cello.wav", "Strings"),
    ("Synth Strings.wav", "Strings"), ("Streicher.wav", "Strings"), ("Cordes.wav", "Strings"),
    ("Cuerdas.wav", "Strings"), ("Archi.wav", "Strings"), ("Harp.wav", "Strings"),
    # Brass and other winds
    ("Brass.wav", "Brass"), ("Horns.wav", "Brass"), ("Trumpet.wav", "Brass"),
    ("Tpt.wav", "Brass"), ("Trombone.wav", "Brass"), ("Tbn.wav", "Brass"), ("Sax.wav", "Brass"),
    ("Solo Sax.wav", "Brass"), ("Flute.wav", "Brass"), ("Bass Clarinet.wav", "Brass"),
    ("Harmonica.wav", "Brass"), ("Bläser.wav", "Brass"), ("Blaeser.wav", "Brass"),
    ("Cuivres.wav", "Brass"), ("Trompete.wav", "Brass"),
    # Lead vocal
    ("Vox.wav", "Lead Vocal"), ("Vocal.wav", "Lead Vocal"), ("Lead Vox.wav", "Lead Vocal"),
    ("22_LeadVox.wav", "Lead Vocal"), ("Ld Vox.wav", "Lead Vocal"), ("LV.wav", "Lead Vocal"),
    ("Main Vox.wav", "Lead Vocal"), ("Vocals.wav", "Lead Vocal"),
    ("LEAD_VOCAL_comp.wav", "Lead Vocal"), ("Lead.wav", "Lead Vocal"),
    ("Gesang.wav", "Lead Vocal"), ("Stimme.wav", "Lead Vocal"), ("Voix.wav", "Lead Vocal"),
    ("Chant Lead.wav", "Lead Vocal"), ("Voz.wav", "Lead Vocal"), ("Voce.wav", "Lead Vocal"),
    ("Zang.wav", "Lead Vocal"), ("Sång.wav", "Lead Vocal"), ("Rap.wav", "Lead Vocal"),
    # Backing vocal (harmonies, doubles, choirs, ad-libs)
    ("BGV.wav", "Backing Vocal"), ("BVs.wav", "Backing Vocal"), ("BV 2.wav", "Backing Vocal"),
    ("Backing.wav", "Backing Vocal"), ("Backs.wav", "Backing Vocal"),
    ("Harmony.wav", "Backing Vocal"), ("Harm Hi.wav", "Backing Vocal"),
    ("Choir.wav", "Backing Vocal"), ("Ad Libs.wav", "Backing Vocal"),
    ("AdLib.wav", "Backing Vocal"), ("Dbl.wav", "Backing Vocal"),
    ("Vox Dbl.wav", "Backing Vocal"), ("21_LeadVoxDT.wav", "Backing Vocal"),
    ("LeadVoxDouble.wav", "Backing Vocal"), ("24_BackingVox2.wav", "Backing Vocal"),
    ("Backing Vocals L.wav", "Backing Vocal"), ("Lead Harm.wav", "Backing Vocal"),
    ("Chor.wav", "Backing Vocal"), ("Chœurs.wav", "Backing Vocal"), ("Coros.wav", "Backing Vocal"),
    ("Cori.wav", "Backing Vocal"), ("Kör.wav", "Backing Vocal"), ("BVox.wav", "Backing Vocal"),
    # FX
    ("FX.wav", "FX"), ("SFX.wav", "FX"), ("Riser.wav", "FX"), ("Sweep.wav", "FX"),
    ("Impact.wav", "FX"), ("Noise.wav", "FX"), ("Vinyl.wav", "FX"), ("Vinyl Crackle.wav", "FX"),
    ("Atmos.wav", "FX"), ("Ambience.wav", "FX"), ("Drone.wav", "FX"), ("Texture.wav", "FX"),
    ("Foley.wav", "FX"), ("Vocal Chop.wav", "FX"), ("VoxFX.wav", "FX"),
    ("Reverse Cymbal.wav", "FX"), ("Effekte.wav", "FX"),
    # Other
    ("Click.wav", "Other"), ("Click Track.wav", "Other"), ("Whistle.wav", "Other"),
    ("Instrumental.wav", "Other"),
]


@pytest.mark.parametrize(("filename", "expected"), REAL_WORLD_NAMES)
def test_real_world_names(filename, expected):
    s = suggest_from_name(filename)
    assert s.category == expected, (filename, s)
    assert 0.5 <= s.confidence <= 1.0


def test_the_name_table_is_large_and_covers_every_category():
    assert len(REAL_WORLD_NAMES) >= 120
    assert {cat for _, cat in REAL_WORLD_NAMES} == set(CATEGORY_NAMES)


@pytest.mark.parametrize("prefix", ["", "01_", "1-", "03 - ", "Track01_", "(07) ", "12. "])
@pytest.mark.parametrize("suffix", ["", " L", "_R", ".L", " Left", "_Up", " Bot", " Close",
                                    " DI", "_01", " 1", "_bip"])
@pytest.mark.parametrize(("core", "expected"), [
    ("Snare", "Snare"), ("Kick", "Kick"), ("Lead Vox", "Lead Vocal"), ("Gtr", "Guitar"),
    ("Piano", "Keys"), ("BGV", "Backing Vocal")])
def test_numbering_and_position_words_do_not_change_the_category(prefix, suffix, core, expected):
    assert suggest_from_name(f"{prefix}{core}{suffix}.wav").category == expected


@pytest.mark.parametrize("name", ["kick.wav", "KICK.WAV", "Kick.wav", "kIcK.aiff"])
def test_case_does_not_matter(name):
    assert suggest_from_name(name).category == "Kick"


def test_paths_are_read_by_their_file_name():
    assert suggest_from_name(Path("/sessions/song/09_OverheadsR.wav")).category == "Cymbals"
    assert suggest_from_name(r"C:\Stems\Take 2\Bass DI.wav").category == "Bass"
    assert display_name(Path("/x/y/03_Lead_Vox.wav")) == "Lead Vox"


# --------------------------------------------------------------------------- the guide's rules


@pytest.mark.parametrize("name", ["Tom 1", "Floor Tom", "Rack Tom", "Toms", "Drum Tom", "Tom Drum"])
def test_toms_are_percussion_not_drums(name):
    assert suggest_from_name(name).category == "Percussion"


@pytest.mark.parametrize("name", ["Hi-Hat", "HiHat", "HH", "Hats", "Open Hat", "Drum Hat"])
def test_hi_hats_are_cymbals(name):
    assert suggest_from_name(name).category == "Cymbals"


@pytest.mark.parametrize("name", ["Clap", "Claps", "Handclap", "808 Clap", "Clap Loop"])
def test_claps_are_snare(name):
    assert suggest_from_name(name).category == "Snare"


@pytest.mark.parametrize("name", ["Bells", "Bell", "Synth Bell", "Bell Synth", "Glock",
                                  "Tubular Bells", "Sleigh Bells"])
def test_bells_and_synth_bells_are_cymbals(name):
    assert suggest_from_name(name).category == "Cymbals"


def test_drums_only_for_a_whole_kit():
    # single pieces take their own categories, even with "drum" in the name
    assert suggest_from_name("Kick Drum").category == "Kick"
    assert suggest_from_name("Snare Drum").category == "Snare"
    assert suggest_from_name("Drum Overheads").category == "Cymbals"
    # the whole kit is Drums, flagged as a group
    for name in ("Drums", "Drum Kit", "Full Kit", "Drum Bus", "Kit"):
        s = suggest_from_name(name)
        assert (s.category, s.group) == ("Drums", "drum kit"), name


@pytest.mark.parametrize("name", ["Vinyl Crackle", "Crackle", "Noise", "White Noise", "Atmos",
                                  "Atmosphere", "Ambience", "Rain"])
def test_crackle_noise_and_atmospheres_are_fx_or_other(name):
    s = suggest_from_name(name)
    assert s.category in ("FX", "Other")
    assert s.suggested_importance == "low"


def test_lead_and_backing_vocals_are_separate():
    assert suggest_from_name("Lead Vox").category == "Lead Vocal"
    assert suggest_from_name("Backing Vox").category == "Backing Vocal"
    assert suggest_from_name("Lead Vox").category != suggest_from_name("BGV").category
    assert default_importance("Lead Vocal") == "high"
    assert default_importance("Backing Vocal") == "medium"


# --------------------------------------------------------------------------- judgment calls


@pytest.mark.parametrize(("name", "expected"), [
    ("Synth Bass", "Bass"), ("Bass Synth", "Bass"), ("Drum Loop", "Drums"),
    ("Perc Loop", "Percussion"), ("Vocal Chop", "FX"), ("Vox FX", "FX"), ("Guitar FX", "Guitar"),
    ("Snare Room", "Snare"), ("Synth Pad", "Pads"), ("Synth Strings", "Strings"),
    ("Brass Stab", "Brass"), ("808 Hat", "Cymbals"), ("Bass Vox", "Backing Vocal"),
    ("Choir Pad", "Pads"), ("Harmony Gtr", "Guitar"), ("Sub Drop", "FX"),
])
def test_two_words_the_more_specific_wins(name, expected):
    assert suggest_from_name(name).category == expected


def test_two_categories_lower_the_confidence():
    one = suggest_from_name("Bass").confidence
    two = suggest_from_name("Synth Bass").confidence
    assert 0.6 <= two <= 0.8 < one


def test_vocal_doubles_are_backing_vocals():
    for name in ("Vox Dbl", "Lead Vox Double", "LeadVoxDT", "Vocal Stack", "Dbl"):
        assert suggest_from_name(name).category == "Backing Vocal", name


def test_room_mics_are_drums_with_a_note():
    s = suggest_from_name("11_Room L.wav")
    assert (s.category, s.group) == ("Drums", "drum room")
    assert "room mic" in group_note(s).lower()


def test_modifiers_alone_are_only_hints():
    for name, expected in (("808", "Kick"), ("Lead", "Lead Vocal"), ("Acoustic", "Guitar"),
                           ("Dbl", "Backing Vocal")):
        s = suggest_from_name(name)
        assert s.category == expected
        assert s.confidence == categories.CONFIDENCE_HINT


def test_compound_words_are_read_at_a_lower_confidence():
    s = suggest_from_name("Kinderchor.wav")
    assert s.category == "Backing Vocal"
    assert s.confidence == categories.CONFIDENCE_PART_OF_WORD


def test_unknown_descriptive_name_has_no_category_but_is_not_generic():
    s = suggest_from_name("Gizmo.wav")
    assert (s.category, s.confidence) == (None, 0.0)
    assert not is_generic_name("Gizmo.wav")


# --------------------------------------------------------------------------- confidence


@pytest.mark.parametrize(("full", "short"), [
    ("Kick", "Kck"), ("Snare", "Snr"), ("Guitar", "Gtr"), ("Piano", "Pno"), ("Trumpet", "Tpt"),
    ("Trombone", "Tbn"), ("Strings", "Str"), ("Violin", "Vln"), ("Hi-Hat", "HH"),
    ("Overheads", "OH"), ("Percussion", "Perc"), ("Backing Vocals", "BV"), ("Lead Vox", "LV"),
])
def test_full_words_are_more_confident_than_abbreviations(full, short):
    f, s = suggest_from_name(full), suggest_from_name(short)
    assert f.category == s.category
    assert 0.9 <= f.confidence <= 0.95
    assert 0.6 <= s.confidence <= 0.8
    assert f.confidence > s.confidence


def test_phrase_beats_word_beats_hint():
    assert (suggest_from_name("Kick Drum").confidence > suggest_from_name("Kick").confidence
            > suggest_from_name("Kck").confidence > suggest_from_name("808").confidence > 0)


def test_confidence_is_in_range_for_every_table_name():
    for name, _ in REAL_WORLD_NAMES:
        assert 0.0 < suggest_from_name(name).confidence <= 1.0


# --------------------------------------------------------------------------- generic names

GENERIC = ["Track 7.wav", "Audio 03.wav", "untitled.wav", "Untitled 2.wav", "Audio Track 1.wav",
           "Bounce 1.wav", "New Recording.m4a", "New Recording 3.wav", "Stem 4.wav", "Spur 3.wav",
           "Piste 2.wav", "Pista 5.wav", "Traccia 1.wav", "07.wav", "12.wav", "1-Audio.wav",
           "2-MIDI.wav", "Audio 1_01.wav", "Inst 1.wav", "TRACK_07.wav", "Copy of Track 3.wav",
           "LizNelson_Rainfall_STEM_01.wav", "MusicDelta_Rock_RAW_02_01.wav"]


@pytest.mark.parametrize("name", GENERIC)
def test_generic_names_give_no_category(name):
    s = suggest_from_name(name)
    assert s == NameSuggestion(None, 0.0, "medium", None, None)
    assert is_generic_name(name)


@pytest.mark.parametrize("name", ["Kick.wav", "Track 7 Kick.wav", "Audio 03 Bass.wav",
                                  "Gizmo.wav", "Mix.wav", "Lead Vox (Track 1).wav"])
def test_descriptive_names_are_not_generic(name):
    assert not is_generic_name(name)


# --------------------------------------------------------------------------- importance


@pytest.mark.parametrize(("category", "level"), [
    ("Lead Vocal", "high"),
    ("Kick", "medium"), ("Snare", "medium"), ("Cymbals", "medium"), ("Percussion", "medium"),
    ("Drums", "medium"), ("Bass", "medium"), ("Guitar", "medium"), ("Keys", "medium"),
    ("Synth", "medium"), ("Pads", "medium"), ("Strings", "medium"), ("Brass", "medium"),
    ("Backing Vocal", "medium"), ("FX", "low"), ("Other", "low"), (None, "medium"),
])
def test_default_importance(category, level):
    assert default_importance(category) == level


def test_default_importance_accepts_rows_and_aliases_and_refuses_junk():
    assert default_importance(CATEGORIES[-4]) == "high"  # Lead Vocal's row
    assert default_importance("lead vox") == "high"
    with pytest.raises(WorkbenchError) as err:
        default_importance("Kazoo section")
    assert err.value.code == "bad_category"


@pytest.mark.parametrize(("name", "level"), [
    ("Lead Guitar", "high"), ("Synth Lead", "high"), ("Solo Sax", "high"),
    ("Guitar Solo", "high"), ("Piano Melody", "high"), ("Main Riff Gtr", "high"),
    ("Hook Synth", "high"), ("Lead Vox", "high"), ("Rhythm Gtr", "medium"), ("Pad", "medium"),
    ("Lead Harm", "medium"), ("Main Kick", "medium"), ("Shaker", "low"), ("Egg Shaker", "low"),
    ("Guitar Texture", "low"), ("Ambient Pad", "low"), ("Riser", "low"), ("Click", "low"),
    ("Instrumental", "medium"), ("Riff", "high"), ("Track 7", "medium"),
])
def test_suggested_importance_reads_the_part(name, level):
    assert suggest_from_name(name).suggested_importance == level


# --------------------------------------------------------------------------- groups


@pytest.mark.parametrize(("name", "category", "group"), [
    ("Drums.wav", "Drums", "drum kit"),
    ("Drum Kit.wav", "Drums", "drum kit"),
    ("Drum Bus.wav", "Drums", "drum kit"),
    ("Kit.wav", "Drums", "drum kit"),
    ("Room.wav", "Drums", "drum room"),
    ("Vocals.wav", "Lead Vocal", "vocals"),
    ("All Vox.wav", "Lead Vocal", "vocals"),
    ("Vox + BVs.wav", "Lead Vocal", "vocals"),
    ("Lead & Backing Vocals.wav", "Lead Vocal", "vocals"),
    ("Vox Bus.wav", "Lead Vocal", "vocals"),
    ("Gesang und Chor.wav", "Lead Vocal", "vocals"),
    ("Voce e Cori.wav", "Lead Vocal", "vocals"),
    ("Guitars.wav", "Guitar", "guitars"),
    ("Gtrs.wav", "Guitar", "guitars"),
    ("Rhythm & Lead Gtr.wav", "Guitar", "guitars"),
    ("Gtr 1+2.wav", "Guitar", "guitars"),
    ("Full Mix.wav", "Other", "full mix"),
])
def test_group_detection(name, category, group):
    s = suggest_from_name(name)
    assert (s.category, s.group) == (category, group)
    note = group_note(s)
    assert note and len(note) > 60
    assert "separate" in note or "own" in note


@pytest.mark.parametrize("name", ["Kick.wav", "Lead Vox.wav", "Main Vocals.wav",
                                  "Backing Vocals.wav", "BV Bus.wav", "Guitar.wav",
                                  "Lead Gtr.wav", "Overheads.wav", "Track 7.wav"])
def test_single_parts_are_not_groups(name):
    s = suggest_from_name(name)
    assert s.group is None
    assert group_note(s) is None


def test_group_note_speaks_plainly():
    kit = group_note("drum kit")
    assert "kick" in kit and "snare" in kit
    vocals = group_note(suggest_from_name("Vocals.wav"))
    assert "lead" in vocals and "harmonies" in vocals
    assert group_note(None) is None and group_note("banjo orchestra") is None


# --------------------------------------------------------------------------- display names


@pytest.mark.parametrize(("filename", "shown"), [
    ("03_Lead_Vox.wav", "Lead Vox"),
    ("Audio 03.wav", "Audio 03"),
    ("Track 7.wav", "Track 7"),
    ("Track_07.wav", "Track 07"),
    ("Track01_Kick.wav", "Kick"),
    ("Track 01 - Kick.wav", "Kick"),
    ("01 Kick In.wav", "Kick In"),
    ("01-Kick.wav", "Kick"),
    ("1-Audio.wav", "Audio"),
    ("03 - Snare Top.wav", "Snare Top"),
    ("12. Piano.aif", "Piano"),
    ("(04) Bass.flac", "Bass"),
    ("001_Kick.wav", "Kick"),
    ("808 Bass.wav", "808 Bass"),
    ("01 808.wav", "808"),
    ("909_Hat.wav", "909 Hat"),
    ("12 String Guitar.wav", "12 String Guitar"),
    ("07.wav", "07"),
    ("Kick.L.wav", "Kick.L"),
    ("Lead__Vox   Dbl.wav", "Lead Vox Dbl"),
    ("Gtr 1+2.wav", "Gtr 1+2"),
    ("Mr. Brown", "Mr. Brown"),
    ("Bläser.wav", "Bläser"),
])
def test_display_name(filename, shown):
    assert display_name(filename) == shown


# --------------------------------------------------------------------------- canonical


@pytest.mark.parametrize(("typed", "expected"), [
    ("Kick", "Kick"), ("kick", "Kick"), ("KICK", "Kick"), ("kicks", "Kick"),
    ("lead vocal", "Lead Vocal"), ("LEAD VOCAL", "Lead Vocal"), ("lead_vocal", "Lead Vocal"),
    ("Lead-Vocal", "Lead Vocal"), ("  lead   vocal ", "Lead Vocal"), ("vocals", "Lead Vocal"),
    ("vox", "Lead Vocal"), ("bv", "Backing Vocal"), ("BGV", "Backing Vocal"),
    ("backing vocals", "Backing Vocal"), ("harmonies", "Backing Vocal"), ("hi-hat", "Cymbals"),
    ("hats", "Cymbals"), ("perc", "Percussion"), ("toms", "Percussion"), ("pad", "Pads"),
    ("fx", "FX"), ("sfx", "FX"), ("other", "Other"), ("drum kit", "Drums"),
    ("woodwinds", "Brass"), ("piano", "Keys"), ("synths", "Synth"),
])
def test_canonical_accepts_names_and_aliases(typed, expected):
    assert canonical(typed) == expected


@pytest.mark.parametrize("junk", ["", "   ", "banana", "Kick Drumz Deluxe", "lead vocal 2", None,
                                  42, "Track 7"])
def test_canonical_returns_none_for_junk(junk):
    assert canonical(junk) is None


def test_every_category_name_is_its_own_canonical_form():
    for name in CATEGORY_NAMES:
        assert canonical(name) == name
        assert canonical(name.upper()) == name


def test_get_category_returns_the_row():
    assert categories.get_category("bv").name == "Backing Vocal"
    with pytest.raises(WorkbenchError):
        categories.get_category("nope")


@pytest.mark.parametrize("name", ["SID Chords A.wav", "Chords hi.wav", "another chords 2.wav", "chorus01.ogg.wav"])
def test_chords_and_chorus_are_not_a_choir(name):
    # issue 13: "SID Chords A" was read as a backing vocal through the German "Chor"
    assert suggest_from_name(name).category != "Backing Vocal"
