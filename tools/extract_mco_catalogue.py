#!/usr/bin/env python3
"""Turn the community's catalogue seed SQL into Pitlane's MCO car catalogue.

Usage: tools/extract_mco_catalogue.py <seed/migrations dir> > crates/motorcity/data/catalogue.json

The seed rows are recorded facts about the game's data (brands, models,
branded parts, stock vehicles with their prices and default part trees,
paint skins, the system players that act as dealers). Only the columns the
server uses are kept, as a compact JSON document, so no SQL from the seed
ends up in the project. Dealer stock is not in the seed; the server makes
it (see crates/motorcity/src/catalogue.rs).
"""
import json
import os
import re
import sys


def rows(path, table):
    """Yields dicts for every VALUES tuple of `INSERT INTO table (...)`."""
    text = open(path, encoding="utf-8").read()
    out = []
    for m in re.finditer(r"INSERT\s+INTO\s+\"?%s\"?\s*\(([^)]*)\)\s*VALUES" % table, text, re.I):
        cols = [c.strip().strip('"') for c in m.group(1).split(",")]
        i = m.end()
        for values, i in tuples(text, i):
            out.append(dict(zip(cols, values)))
    return out


def tuples(text, i):
    n = len(text)
    while True:
        while i < n and text[i] in " \t\r\n,":
            i += 1
        if i >= n or text[i] != "(":
            return
        i += 1
        vals = []
        while True:
            while text[i] in " \t\r\n":
                i += 1
            if text[i] == "'":
                j = i + 1
                s = []
                while True:
                    if text[j] == "'" and j + 1 < n and text[j + 1] == "'":
                        s.append("'")
                        j += 2
                    elif text[j] == "'":
                        break
                    else:
                        s.append(text[j])
                        j += 1
                vals.append("".join(s))
                i = j + 1
            else:
                j = i
                while text[j] not in ",)":
                    j += 1
                tok = text[i:j].strip()
                if tok.upper() == "NULL":
                    vals.append(None)
                else:
                    try:
                        vals.append(int(tok))
                    except ValueError:
                        vals.append(float(tok))
                i = j
            while text[i] in " \t\r\n":
                i += 1
            if text[i] == ",":
                i += 1
                continue
            if text[i] == ")":
                i += 1
                break
        yield vals, i


def main(seed):
    p = lambda name: os.path.join(seed, name)
    brands = {r["brand_id"]: r["brand"] for r in rows(p("0016_seedBrand.sql"), "brand")}
    models = {r["model_id"]: r for r in rows(p("0017_seedModel.sql"), "model")}
    parts = {r["branded_part_id"]: r for r in rows(p("0021_seedBrandedPart.sql"), "branded_part")}
    svas = rows(p("0031_seedStockVehicleAttributes.sql"), "stock_vehicle_attributes")
    assembly = rows(p("0033_seedStockAssembly.sql"), "stock_assembly")
    skins = rows(p("0035_seedPTSkin.sql"), "pt_skin")
    players = rows(p("0025_seedPlayer.sql"), "player")

    cars = []
    car_ids = set()
    for s in sorted(svas, key=lambda r: r["branded_part_id"]):
        bp = parts.get(s["branded_part_id"])
        if bp is None:
            continue
        model = models.get(bp["model_id"], {})
        car_ids.add(s["branded_part_id"])
        cars.append({
            "id": s["branded_part_id"],
            "brand": model.get("brand_id", 0),
            "name": (model.get("e_model") or "").strip(),
            "class": s["car_class"] or 0,
            "price": s["retail_price"] or 0,
            "part_type": bp["part_type_id"],
        })

    # Part trees: every stock assembly row whose parent is a car or one of
    # the parts below a car, as [parent, child, attachment point].
    children = {}
    for a in assembly:
        children.setdefault(a["parent_branded_part_id"], []).append(
            [a["child_branded_part_id"], a["attachment_point_id"]])
    assemblies = {}
    for car in car_ids:
        tree, todo, seen = [], [car], set()
        while todo:
            parent = todo.pop(0)
            if parent in seen:
                continue
            seen.add(parent)
            for child, point in children.get(parent, []):
                tree.append([parent, child, point])
                todo.append(child)
        assemblies[str(car)] = tree
    used = {c for tree in assemblies.values() for _, c, _ in tree}
    part_rows = {
        str(i): [parts[i]["retail_price"], parts[i]["max_item_wear"] or 0]
        for i in sorted(used | car_ids) if i in parts
    }

    car_types = {c["part_type"] for c in cars}
    car_skins = {}
    for s in skins:
        if s["part_type_id"] in car_types:
            car_skins.setdefault(str(s["part_type_id"]), []).append(
                [s["skin_id"], s["price"] or 0, 1 if s.get("default_flag") else 0])

    dealers = [
        {"id": r["player_id"], "name": r["persona"].strip()}
        for r in sorted(players, key=lambda r: r["player_id"])
        if r["player_type_id"] == 1
    ]

    doc = {
        "source": "rustymotors/drazisil mcos seed migrations (catalogue data of the game)",
        "brands": {str(k): v for k, v in sorted(brands.items())},
        "cars": cars,
        "parts": part_rows,
        "assemblies": assemblies,
        "skins": car_skins,
        "dealers": dealers,
    }
    json.dump(doc, sys.stdout, separators=(",", ":"), sort_keys=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(sys.argv[1])
