#!/usr/bin/env python3
"""Turn the GameConfigurationData of a captured MMCOS Login response into
Pitlane's readable default game configuration (TOML).

Usage: tools/extract_game_config.py <captured LoginDetails XML> > crates/micromachines/data/game_config.toml

The values are a recorded fact (what the official server sent in November
2023); the time-dependent parts (season dates, NextEvent, Hash) are not
copied: Pitlane computes them.
"""
import sys
import xml.etree.ElementTree as ET

A = "{http://schemas.microsoft.com/2003/10/Serialization/Arrays}"


def q(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def strings(el):
    return "[" + ", ".join(q(s.text or "") for s in el.findall(A + "string")) + "]"


def main(path):
    root = ET.parse(path).getroot()
    cfg = root.find("GameConfigurationData")
    out = []
    w = out.append
    w("# Micro Machines World Series game configuration served in every Login.")
    w("# Values as the official server sent them in November 2023 (session3, flow 02);")
    w("# regenerate with tools/extract_game_config.py. Order matters: lists are sent in")
    w("# the order written here. Season dates, NextEvent and Hash are computed by the server.")
    w("")
    # Top-level arrays first: in TOML, keys after a [[table]] belong to it.
    w("server_values = [")
    for e in cfg.find("ServerValues/Entries"):
        w(
            "  { name = %s, value = %s, const = %s },"
            % (q(e.findtext("Name")), q(e.findtext("Value")), e.findtext("Const"))
        )
    w("]")
    w("")
    w("# Points, skill points and XP per finishing position and mode; the client")
    w("# computes the points delta it reports in AddPoints from these.")
    w("scoring_constants = [")
    for e in cfg.find("ScoringConstants/Entries"):
        w("  { name = %s, value = %s }," % (q(e.findtext("Name")), e.findtext("Value")))
    w("]")
    for e in cfg.find("DivisionBands/Entries"):
        w("[[division_bands]]")
        w(f"division_id = {e.findtext('DivisionID')}")
        w(f"min_points = {e.findtext('MinPoints')}")
        w(f"relegation_min_points = {e.findtext('RelegationMinPoints')}")
        w(f"bonus_points = {e.findtext('BonusPoints')}")
        w(f"promotion_prize_code = {q(e.findtext('PromotionPrizeCode'))}")
        w("")
    for e in cfg.find("DivisionPrizes/Entries"):
        w("[[division_prizes]]")
        w(f"division_id = {e.findtext('DivisionID')}")
        w(f"prize_code = {q(e.findtext('PrizeCode'))}")
        w("")
    for e in cfg.find("RankBonus/Entries"):
        w("[[rank_bonus]]")
        w(f"min_rank = {e.findtext('MinRank')}")
        w(f"bonus_points = {e.findtext('BonusPoints')}")
        w("")
    for e in cfg.find("RankPrizes/Entries"):
        w("[[rank_prizes]]")
        w(f"min_rank = {e.findtext('MinRank')}")
        w(f"prize_code = {q(e.findtext('PrizeCode'))}")
        w("")
    for p in cfg.find("Playlists/Playlists"):
        w("[[playlists]]")
        w(f"id = {p.findtext('PlaylistID')}")
        w(f"name = {q(p.findtext('Name'))}")
        w(f"type = {q(p.findtext('Type'))}")
        w(f"sub_type = {q(p.findtext('SubType'))}")
        w(f"game_modes = {strings(p.find('GameModes'))}")
        w(f"levels = {strings(p.find('Levels'))}")
        w(f"vehicles = {strings(p.find('Vehicles'))}")
        muts = [
            "{ name = %s, parameter1 = %s, parameter2 = %s }"
            % (q(m.findtext("Name")), m.findtext("Parameter1"), m.findtext("Parameter2"))
            for m in p.find("Mutators")
        ]
        w("mutators = [" + ", ".join(muts) + "]")
        w("")
    print("\n".join(out))


if __name__ == "__main__":
    main(sys.argv[1])
