"""Draw the schematic Harelbeke: the vector layers in ``vectors/`` and the
scenario geometries in ``scenarios/geometries/``.

This script is how the bundled vectors were made; it is run once by a
developer (``python inputs/harelbeke/draw_schematic.py``), not by users, and its
output is committed. It is deterministic (seeded). Everything except the
municipal boundary is *schematic*: placed from the approximate positions in
DESIGN.md and general knowledge of the town, not surveyed. See README.md here.

Coordinates are Belgian Lambert 72 (EPSG:31370), metres.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import shapely
from pyproj import Transformer
import shapely.affinity
import shapely.ops
from shapely.geometry import LineString, MultiPolygon, Point, Polygon, box, mapping, shape
from shapely.ops import unary_union

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
OUT = HERE / "vectors"
SCENARIO_GEOMETRIES = ROOT / "scenarios" / "geometries"
BOUNDARY_SOURCE = ROOT.parent / "shared" / "data" / "leiedal-municipalities.geojson"
RNG = np.random.default_rng(20240725)  # fixed seed: the drawing is reproducible

to_lambert = Transformer.from_crs("EPSG:4326", "EPSG:31370", always_xy=True).transform


def wgs(lon: float, lat: float) -> tuple[float, float]:
    return to_lambert(lon, lat)


# --- places from DESIGN.md (WGS84, approximate) -------------------------------
PLACES = {
    "Markt": wgs(3.3097, 50.8553),
    "Moleneiland": wgs(3.312, 50.858),
    "Collegewijk": wgs(3.314, 50.850),
    "Bavikhove": wgs(3.303, 50.874),
    "Hulste": wgs(3.285, 50.885),
    "Stasegem": wgs(3.330, 50.835),
    "De Gavers": wgs(3.323, 50.826),
}
MX, MY = PLACES["Markt"]


def load_boundary() -> Polygon:
    data = json.loads(BOUNDARY_SOURCE.read_text())
    feat = next(f for f in data["features"] if f["properties"]["name"] == "Harelbeke")
    geom = shapely.transform(shape(feat["geometry"]), lambda xy: np.column_stack(to_lambert(xy[:, 0], xy[:, 1])))
    return max(geom.geoms, key=lambda g: g.area) if isinstance(geom, MultiPolygon) else geom


BOUNDARY = load_boundary()
# The grid extent: the boundary's bounding box plus a 250 m margin, snapped to 50 m.
MARGIN = 250.0
bx0, by0, bx1, by1 = BOUNDARY.bounds
EXTENT = (np.floor((bx0 - MARGIN) / 50) * 50, np.floor((by0 - MARGIN) / 50) * 50,
          np.ceil((bx1 + MARGIN) / 50) * 50, np.ceil((by1 + MARGIN) / 50) * 50)
FRAME = box(*EXTENT)

# --- water -----------------------------------------------------------------------
LEIE = LineString([(72000, 172950), (73600, 172850), (74590, 172660), (74950, 172570), (75300, 172550),
                   (75600, 172548), (75900, 172560), (76300, 172640), (76800, 172800), (77200, 172950),
                   (77480, 173010), (78000, 173150), (79000, 173400)])
LEIE_WIDTH = 50.0  # [m] the Leie is a class Va/Vb waterway here (~50 m wide)
OLD_ARM = LineString([(75380, 172540), (75470, 172445), (75600, 172420), (75730, 172440), (75820, 172548)])
MOLENEILAND = Polygon([(75420, 172528), (75480, 172463), (75600, 172443), (75720, 172460), (75790, 172528),
                       (75600, 172532)])
GAVERS_LAKE = shapely.affinity.rotate(shapely.affinity.scale(Point(76330, 168960).buffer(1.0, 64), 380, 190), 25)
GAVERBEEK = LineString([(76470, 169120), (76560, 169450), (76520, 169800), (76300, 170300), (76050, 170800),
                        (75860, 171200), (75760, 171550), (75700, 171900), (75690, 172200), (75800, 172420)])
# culverted from here (Collegewijk, south edge) to the Leie under the centre
GAVERBEEK_CULVERT_FROM = 0.58  # fraction of the stream's length where the culvert starts
HULSTEBEEK = LineString([(73250, 177000), (73500, 176300), (73760, 175500), (74150, 174500), (74600, 173500),
                         (74850, 172630)])
BAVIKHOVEBEEK = LineString([(75700, 176600), (75350, 175600), (75050, 174600), (75100, 173600), (75250, 172570)])
CANAL = LineString([(73450, 170900), (73700, 170460), (74280, 169640), (74300, 169330), (74920, 169300),
                    (75080, 168800), (75640, 168060), (75900, 167600)]).offset_curve(-60)

# --- roads and rail ------------------------------------------------------------
ROADS = {  # name: (line, width [m])
    "N43": (LineString([(73700, 170300), (74150, 170750), (74700, 171350), (75150, 171900), (MX + 10, MY - 80),
                        (75900, 172330), (76700, 172780), (77300, 173250), (77800, 173600)]), 14.0),
    "R8": (LineString([(73800, 169900), (74300, 171000), (74600, 171900), (74650, 172650), (74400, 173400),
                       (74100, 174200)]), 25.0),
    "N36": (LineString([(78300, 169200), (77500, 169500), (76950, 170100), (76700, 171000), (76550, 172000),
                        (76500, 172750), (76300, 173800), (76200, 175500), (75900, 176500), (75600, 177600),
                        (75400, 178300)]), 14.0),
    "N50": (LineString([(73900, 169850), (74350, 169650), (75300, 169550), (75700, 169300), (75850, 168700),
                        (76000, 167700)]), 14.0),
}
LOCAL_ROADS = [  # rural links between the villages and the centre, 7 m
    LineString([(73741, 175516), (74300, 174900), (74990, 174274), (75300, 173300), (75450, 172650), (MX, MY)]),
    LineString([(73741, 175516), (73200, 176500), (73000, 177300)]),
    LineString([(74990, 174274), (75800, 175300), (76200, 175500)]),
    LineString([(MX, MY), (75900, 171300), (76829, 169909), (77300, 169000)]),
    LineString([(76829, 169909), (76400, 169300), (76330, 169200)]),
    LineString([(74600, 171000), (75300, 170500), (76100, 170200), (76950, 170100)]),
]
RAILWAY = LineString([(73300, 170300), (75150, 171780), (76200, 172350), (77000, 172560), (77900, 172250)])

# --- built-up zones (schematic) ----------------------------------------------------
SOUTH_OF_LEIE = Polygon([(70000, 165000), (80000, 165000), (80000, 172500), (77480, 172960), (76300, 172600),
                         (75300, 172500), (74590, 172620), (70000, 172700)])
NORTH_OF_LEIE = FRAME.difference(SOUTH_OF_LEIE.buffer(30))
CENTRE = Point(MX, MY + 40).buffer(480).intersection(SOUTH_OF_LEIE.buffer(-35))
ZONES = [  # (name, kind, polygon, street orientation [deg], street spacing [m])
    ("Centrum", "centre", CENTRE, 12, 75),
    ("Harelbeke residential", "residential",
     Point(MX + 100, MY - 350).buffer(1350).intersection(SOUTH_OF_LEIE.buffer(-35)).difference(CENTRE), 20, 90),
    ("Stasegem", "residential", Point(*PLACES["Stasegem"]).buffer(650), -15, 90),
    ("Bavikhove", "residential", Point(*PLACES["Bavikhove"]).buffer(550).intersection(NORTH_OF_LEIE), 5, 90),
    ("Hulste", "residential", Point(*PLACES["Hulste"]).buffer(450), 30, 90),
    ("Bavikhove-Zuid", "residential", Point(75300, 173250).buffer(380).intersection(NORTH_OF_LEIE.buffer(-40)), 10, 90),
]
INDUSTRIAL = [
    ("Harelbeke-Zuid", Polygon([(74350, 170300), (75200, 170000), (75650, 170500), (75000, 170950), (74600, 171050)])),
    ("Leie-Oost (Eiland/Ooste)", Polygon([(75950, 172640), (76800, 172860), (76700, 173150), (75900, 172950)])),
    ("Stasegem-Noord", Polygon([(77000, 170350), (77600, 170500), (77450, 171000), (76950, 170900)])),
    ("Hulste-Noord", Polygon([(73900, 176300), (74500, 176200), (74600, 176700), (74000, 176800)])),
]
BOMARBRE_COREX = Polygon([(76050, 172665), (76420, 172760), (76380, 172950), (76000, 172860)])

# Parks and green spaces (schematic, placed where the plans name them)
GREEN = [
    ("Gavers domain", "grass", GAVERS_LAKE.buffer(220).difference(GAVERS_LAKE)),
    ("Gavers woods", "trees", GAVERS_LAKE.buffer(350).difference(GAVERS_LAKE.buffer(220))
     .intersection(box(75800, 168500, 76600, 169500))),
    ("Stadspark", "trees", Point(75050, 172250).buffer(130)),
    ("Leie banks west", "grass", LEIE.buffer(LEIE_WIDTH / 2 + 25).difference(LEIE.buffer(LEIE_WIDTH / 2))
     .intersection(box(74600, 172400, 75300, 172800))),
    ("Vrijetijdssite Bavikhove", "grass", Point(75250, 174450).buffer(160)),
    ("Sportpark Stasegem", "grass", box(77050, 169450, 77350, 169700)),
    ("Kerkhof", "grass", box(75700, 171980, 75820, 172060)),
]


def rotate(geom, angle, origin):
    return shapely.affinity.rotate(geom, angle, origin=origin)


def street_grid(zone: Polygon, angle: float, spacing: float, width: float):
    """Streets (a rotated, jittered grid) and the blocks between them, clipped to ``zone``."""
    cx, cy = zone.centroid.x, zone.centroid.y
    r = max(zone.bounds[2] - zone.bounds[0], zone.bounds[3] - zone.bounds[1])
    n = int(r / spacing) + 2
    xs = cx + (np.arange(-n, n + 1) * spacing) + RNG.uniform(-0.15, 0.15, 2 * n + 1) * spacing
    ys = cy + (np.arange(-n, n + 1) * spacing * 1.4) + RNG.uniform(-0.15, 0.15, 2 * n + 1) * spacing
    lines = [LineString([(x, cy - r), (x, cy + r)]) for x in xs] + [LineString([(cx - r, y), (cx + r, y)]) for y in ys]
    streets = rotate(unary_union([ln.buffer(width / 2, cap_style="flat") for ln in lines]), angle, (cx, cy))
    streets = streets.intersection(zone)
    blocks = []
    for i in range(len(xs) - 1):
        for j in range(len(ys) - 1):
            b = rotate(box(xs[i] + width / 2, ys[j] + width / 2, xs[i + 1] - width / 2, ys[j + 1] - width / 2), angle, (cx, cy))
            if b.within(zone):
                blocks.append((b, xs[i + 1] - xs[i] - width, ys[j + 1] - ys[j] - width, (xs[i], ys[j])))
    return streets, blocks, (cx, cy)


def houses_along_block(block_box, angle, origin, kind):
    """Building footprints along the two long sides of a block, in the block's frame."""
    (b, w, h, (x0, y0)) = block_box
    cx, cy = origin
    out, paving = [], []
    if kind == "centre":
        depth, lot, setback, heights, gap_p = 13.0, (6.0, 9.0), 0.0, (8.0, 14.0), 0.0
    else:
        depth, lot, setback, heights, gap_p = 10.0, (9.0, 16.0), 6.0, (6.0, 9.5), 0.3
    # rows along the south and north edges of the (unrotated) block
    xa, xb = x0 + 4.0, x0 + w - 0.0
    for edge_y, sign in ((y0 + 4.0 + setback, +1), (y0 + h - setback, -1)):
        x = xa + RNG.uniform(0, 3)
        while x < xb - lot[0]:
            lw = RNG.uniform(*lot)
            if RNG.random() >= gap_p * 0.25:
                bw = lw if kind == "centre" else lw * RNG.uniform(0.7, 0.95)
                y_in = edge_y if sign > 0 else edge_y - depth
                fp = box(x, y_in, x + bw, y_in + depth)
                out.append((rotate(fp, angle, (cx, cy)), float(np.round(RNG.uniform(*heights), 1))))
                if kind != "centre":
                    # drive / terrace beside the house
                    drive = box(x + bw, y_in - (setback if sign > 0 else 0), min(x + lw, x + bw + 4.0), y_in + depth)
                    paving.append(rotate(drive, angle, (cx, cy)))
            x += lw
    return out, paving


def gen_zones():
    landcover, buildings, trees, street_polys = [], [], [], []
    for name, kind, zone, angle, spacing in ZONES:
        if zone.is_empty:
            continue
        base = "paving" if kind == "centre" else "grass"
        landcover.append(dict(geometry=zone, cls=base, priority=20, kind=f"{kind} fabric", name=name))
        width = 10.0 if kind == "centre" else 8.0
        streets, blocks, origin = street_grid(zone, angle, spacing, width)
        street_polys.append(streets)
        for blk in blocks:
            fps, pav = houses_along_block(blk, angle, origin, kind)
            for fp, hgt in fps:
                buildings.append(dict(geometry=fp, height_m=hgt, kind="house" if kind != "centre" else "terraced",
                                      zone=name))
            for p in pav:
                landcover.append(dict(geometry=p, cls="paving", priority=30, kind="drive", name=name))
            if kind == "centre":
                # courtyards: a garden in the middle of a perimeter block
                inner = blk[0].buffer(-16)
                if not inner.is_empty and inner.area > 200:
                    landcover.append(dict(geometry=inner, cls="grass", priority=25, kind="courtyard garden", name=name))
            else:
                # garden trees: a few crowns per block
                for _ in range(int(blk[0].area / 350)):
                    p = Point(*_random_point_in(blk[0]))
                    trees.append(dict(geometry=p, radius_m=float(np.round(RNG.uniform(3.0, 5.0), 1)), canopy=1.0,
                                      height_m=float(np.round(RNG.uniform(6, 14), 1)), kind="garden tree"))
        landcover.append(dict(geometry=streets, cls="asphalt", priority=40, kind="street", name=name))
    return landcover, buildings, trees


def _random_point_in(poly):
    x0, y0, x1, y1 = poly.bounds
    for _ in range(100):
        p = (RNG.uniform(x0, x1), RNG.uniform(y0, y1))
        if poly.contains(Point(p)):
            return p
    return (poly.centroid.x, poly.centroid.y)


def gen_industry():
    landcover, buildings = [], []
    for name, poly in INDUSTRIAL:
        landcover.append(dict(geometry=poly, cls="paving", priority=21, kind="industrial yard", name=name))
        x0, y0, x1, y1 = poly.bounds
        x = x0 + 20
        while x < x1 - 40:
            y = y0 + 20
            w = RNG.uniform(40, 110)
            while y < y1 - 30:
                h = RNG.uniform(30, 80)
                hall = box(x, y, x + w, y + h)
                if hall.within(poly.buffer(-8)):
                    buildings.append(dict(geometry=hall, height_m=float(np.round(RNG.uniform(8, 13), 1)),
                                          kind="industrial hall", zone=name))
                y += h + RNG.uniform(18, 30)
            x += w + RNG.uniform(18, 30)
        landcover.append(dict(geometry=poly.exterior.buffer(4), cls="grass", priority=22, kind="verge", name=name))
    return landcover, buildings


def gen_centre_features():
    """The Markt, the church, schools, parkings and squares the plans name."""
    lc, bld, squares = [], [], {}
    markt = rotate(box(MX - 55, MY - 35, MX + 55, MY + 35), 12, (MX, MY))
    squares["marktplein"] = markt
    # the Markt is a pedestrian square: streets end at its edge (priority over the roads)
    lc.append(dict(geometry=markt, cls="paving", priority=75, kind="square", name="Marktplein"))
    church = rotate(box(MX + 70, MY + 20, MX + 120, MY + 42), 12, (MX, MY))
    bld.append(dict(geometry=church, height_m=22.0, kind="church", zone="Centrum"))
    # Markt frontage: terraced buildings around the square
    ring = markt.buffer(28, join_style="mitre").difference(markt.buffer(10, join_style="mitre")).difference(church.buffer(6))
    bld.append(dict(geometry=ring.difference(rotate(box(MX - 70, MY - 6, MX + 70, MY + 6), 12, (MX, MY))),
                    height_m=12.0, kind="terraced", zone="Centrum"))
    lc.append(dict(geometry=markt.buffer(10, join_style="mitre").difference(markt), cls="asphalt", priority=55,
                   kind="street", name="Markt ring street"))
    # Squares, parkings and schoolyards that the de-paving programme targets (schematic).
    named = {
        "Vismarkt": (MX - 230, MY + 110, 45, 35, "square"),
        "Stationsplein": (75150, 171800, 70, 40, "square"),
        "Parking Eiland": (75950, 172300, 90, 50, "parking"),
        "Parking Zuidstraat": (75250, 171650, 60, 45, "parking"),
        "Schoolyard Collegewijk": (75600, 171500, 55, 40, "schoolyard"),
        "Schoolyard Stasegem": (76700, 170000, 50, 35, "schoolyard"),
        "Schoolyard Bavikhove": (75050, 174200, 45, 35, "schoolyard"),
        "Schoolyard Hulste": (73800, 175450, 40, 30, "schoolyard"),
        "Parking Sportpark": (77150, 169380, 70, 40, "parking"),
        "Kerkplein Bavikhove": (74990, 174320, 40, 30, "square"),
        "Dorpsplein Hulste": (73741, 175560, 40, 30, "square"),
        "Parking Gavers": (76000, 169250, 80, 45, "parking"),
    }
    for name, (x, y, w, h, kind) in named.items():
        poly = box(x - w / 2, y - h / 2, x + w / 2, y + h / 2)
        squares[name] = poly
        lc.append(dict(geometry=poly, cls="asphalt" if kind == "parking" else "paving", priority=60, kind=kind, name=name))
        if kind == "schoolyard":
            bld.append(dict(geometry=box(x - w / 2, y + h / 2 + 3, x + w / 2, y + h / 2 + 18), height_m=9.0,
                            kind="school", zone=name))
    return lc, bld, squares


def gen_farmland():
    """Field parcels over the open land: Voronoi cells of seeded points."""
    pts = shapely.MultiPoint(RNG.uniform([EXTENT[0], EXTENT[1]], [EXTENT[2], EXTENT[3]], size=(900, 2)))
    cells = shapely.voronoi_polygons(pts, extend_to=FRAME)
    lc, bld = [], []
    classes = ["cropland"] * 13 + ["grass"] * 5 + ["trees"] + ["shrub"]
    for cell in cells.geoms:
        cell = cell.intersection(FRAME)
        cls = classes[RNG.integers(len(classes))]
        lc.append(dict(geometry=cell.buffer(-3, join_style="mitre"), cls=cls, priority=10, kind="field", name=""))
        lc.append(dict(geometry=cell.exterior.buffer(3, quad_segs=1), cls="grass", priority=9, kind="field edge", name=""))
        if RNG.random() < 0.12:  # a farm: house and barns
            c = cell.representative_point()
            bld.append(dict(geometry=box(c.x, c.y, c.x + 14, c.y + 10), height_m=7.0, kind="farmhouse", zone=""))
            bld.append(dict(geometry=box(c.x + 20, c.y - 10, c.x + 60, c.y + 12), height_m=8.0, kind="barn", zone=""))
            lc.append(dict(geometry=box(c.x - 5, c.y - 15, c.x + 65, c.y + 17), cls="paving", priority=15,
                           kind="farmyard", name=""))
    return lc, bld


def gen_ribbons():
    """Ribbon development (lintbebouwing): houses with gardens along the roads between the
    villages, typical of the Flemish countryside."""
    lc, bld, trees = [], [], []
    towns = unary_union([z[2] for z in ZONES] + [poly for _, poly in INDUSTRIAL]).buffer(20)
    lines = [line for line, _ in ROADS.values()] + LOCAL_ROADS
    widths = [w for _, w in ROADS.values()] + [7.0] * len(LOCAL_ROADS)
    for line, width in zip(lines, widths):
        for side in (-1, 1):
            d = RNG.uniform(0, 20)
            while d < line.length:
                if RNG.random() < 0.45:
                    p0 = line.interpolate(d)
                    p1 = line.interpolate(min(d + 1.0, line.length))
                    ux, uy = p1.x - p0.x, p1.y - p0.y
                    norm = np.hypot(ux, uy) or 1.0
                    ux, uy = ux / norm, uy / norm
                    nx, ny = -uy * side, ux * side
                    off = width / 2 + 7.0
                    cx, cy = p0.x + nx * (off + 5), p0.y + ny * (off + 5)
                    house = shapely.affinity.rotate(box(cx - 5, cy - 5, cx + 5, cy + 5),
                                                    np.degrees(np.arctan2(uy, ux)), origin=(cx, cy))
                    if not towns.contains(house):
                        bld.append(dict(geometry=house, height_m=float(np.round(RNG.uniform(6, 9), 1)),
                                        kind="house", zone="ribbon"))
                        gx, gy = p0.x + nx * (off + 20), p0.y + ny * (off + 20)
                        lc.append(dict(geometry=Point(gx, gy).buffer(16, 2), cls="grass", priority=18,
                                       kind="garden", name="ribbon"))
                        lc.append(dict(geometry=LineString([(p0.x + nx * (width / 2), p0.y + ny * (width / 2)),
                                                            (cx, cy)]).buffer(1.5), cls="paving", priority=19,
                                       kind="drive", name="ribbon"))
                        if RNG.random() < 0.6:
                            trees.append(dict(geometry=Point(gx, gy), radius_m=float(np.round(RNG.uniform(3, 5), 1)),
                                              canopy=1.0,
                                              height_m=float(np.round(RNG.uniform(7, 14), 1)), kind="garden tree"))
                d += RNG.uniform(18, 28)
    return lc, bld, trees


def gen_green():
    lc, trees = [], []
    for name, cls, poly in GREEN:
        lc.append(dict(geometry=poly, cls=cls, priority=50, kind="park", name=name))
        if cls == "trees":
            trees.append(dict(geometry=poly, canopy=0.9, height_m=18.0, kind="woodland"))
    # street trees along the main roads in town
    town = unary_union([z[2] for z in ZONES])
    for name, (line, width) in ROADS.items():
        d = 0.0
        while d < line.length:
            p = line.interpolate(d)
            if town.contains(p):
                for side in (-1, 1):
                    q = line.offset_curve(side * (width / 2 + 2)).interpolate(d)
                    trees.append(dict(geometry=q, radius_m=3.5, canopy=1.0, height_m=12.0, kind=f"street tree {name}"))
            d += 12.0
    return lc, trees


def gen_water():
    lc, streams = [], []
    leie_poly = LEIE.buffer(LEIE_WIDTH / 2).union(OLD_ARM.buffer(12))
    lc.append(dict(geometry=leie_poly, cls="water", priority=80, kind="river", name="Leie"))
    lc.append(dict(geometry=MOLENEILAND, cls="grass", priority=85, kind="island", name="Moleneiland"))
    lc.append(dict(geometry=MOLENEILAND.buffer(-18), cls="paving", priority=86, kind="island yard", name="Moleneiland"))
    lc.append(dict(geometry=GAVERS_LAKE, cls="water", priority=80, kind="lake", name="De Gavers"))
    lc.append(dict(geometry=CANAL.buffer(15), cls="water", priority=80, kind="canal", name="Kanaal Bossuit-Kortrijk"))
    lc.append(dict(geometry=CANAL.buffer(30).difference(CANAL.buffer(15)), cls="grass", priority=79, kind="canal bank",
                   name="Kanaal Bossuit-Kortrijk"))
    streams.append(dict(geometry=LEIE, name="Leie", kind="river", culverted=False, width_m=LEIE_WIDTH, depth_m=3.0))
    streams.append(dict(geometry=OLD_ARM, name="Leie (oude arm, Moleneiland)", kind="river", culverted=False,
                        width_m=24.0, depth_m=2.0))
    streams.append(dict(geometry=CANAL, name="Kanaal Bossuit-Kortrijk", kind="canal", culverted=False, width_m=30.0,
                        depth_m=3.0))
    split = GAVERBEEK.length * GAVERBEEK_CULVERT_FROM
    open_part = shapely.ops.substring(GAVERBEEK, 0, split)
    culvert = shapely.ops.substring(GAVERBEEK, split, GAVERBEEK.length)
    streams.append(dict(geometry=open_part, name="Gaverbeek", kind="stream", culverted=False, width_m=4.0, depth_m=1.2))
    streams.append(dict(geometry=culvert, name="Gaverbeek (ingebuisd)", kind="stream", culverted=True, width_m=4.0,
                        depth_m=1.2, pipe_diameter_m=1.2))
    for line, name in ((HULSTEBEEK, "Hulstebeek (schematic)"), (BAVIKHOVEBEEK, "Bavikhovebeek (schematic)")):
        streams.append(dict(geometry=line, name=name, kind="stream", culverted=False, width_m=3.0, depth_m=1.0))
    for s in streams:
        if s["kind"] == "stream" and not s["culverted"]:
            lc.append(dict(geometry=s["geometry"].buffer(s["width_m"] / 2), cls="water", priority=81, kind="stream",
                           name=s["name"]))
            lc.append(dict(geometry=s["geometry"].buffer(s["width_m"] / 2 + 6), cls="grass", priority=78,
                           kind="stream bank", name=s["name"]))
    return lc, streams


def gen_roads():
    lc = []
    for name, (line, width) in ROADS.items():
        lc.append(dict(geometry=line.buffer(width / 2, cap_style="flat"), cls="asphalt", priority=70, kind="main road", name=name))
    for line in LOCAL_ROADS:
        lc.append(dict(geometry=line.buffer(3.5, cap_style="flat"), cls="asphalt", priority=45, kind="local road", name=""))
    lc.append(dict(geometry=RAILWAY.buffer(6, cap_style="flat"), cls="railway", priority=72, kind="railway",
                   name="Spoorlijn 75 Kortrijk-Gent"))
    return lc


def gen_soils():
    """Soil textures: alluvial clay loam in the Leie valley, silt loam in stream valleys,
    sandy loam on the interfluves (Harelbeke lies in the sandy-loam region)."""
    return [
        dict(geometry=FRAME, texture="sandy_loam", priority=0, name="sandy-loam region (interfluves)"),
        dict(geometry=unary_union([HULSTEBEEK, BAVIKHOVEBEEK, GAVERBEEK]).buffer(180), texture="silt_loam", priority=1,
             name="stream valleys (colluvium)"),
        dict(geometry=LEIE.buffer(450), texture="clay_loam", priority=2, name="Leie alluvial plain"),
        dict(geometry=GAVERS_LAKE.buffer(300), texture="loamy_sand", priority=3, name="Gavers sands"),
    ]


def gen_districts():
    seeds = {
        "Centrum": (MX, MY + 20), "Collegewijk": PLACES["Collegewijk"], "Harelbeke-Zuid": (74900, 170700),
        "Stasegem": PLACES["Stasegem"], "De Gavers": PLACES["De Gavers"], "Eiland-Ooste": (76400, 172900),
        "Bavikhove": PLACES["Bavikhove"], "Hulste": PLACES["Hulste"], "Kortrijkse Poort": (74500, 172000),
        "Bavikhove-Zuid": (75300, 173250),
    }
    pts = shapely.MultiPoint(list(seeds.values()))
    cells = shapely.voronoi_polygons(pts, extend_to=FRAME)
    out = []
    for cell in cells.geoms:
        name = next(n for n, p in seeds.items() if cell.contains(Point(p)))
        part = cell.intersection(BOUNDARY)
        if not part.is_empty:
            out.append(dict(geometry=part, name=name))
    order = list(seeds)
    return sorted(out, key=lambda d: order.index(d["name"]))


def clip_round(geom):
    geom = geom.intersection(FRAME)
    return shapely.set_precision(geom, 0.1)


def write(path: Path, records: list[dict], description: str):
    feats = []
    for r in records:
        g = clip_round(r["geometry"])
        if g.is_empty:
            continue
        props = {k: v for k, v in r.items() if k != "geometry"}
        feats.append({"type": "Feature", "properties": props, "geometry": mapping(g)})
    fc = {"type": "FeatureCollection", "name": path.stem, "description": description,
          "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::31370"}}, "features": feats}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(fc, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"{path.relative_to(ROOT)}: {len(feats)} features, {path.stat().st_size / 1e6:.2f} MB")


def main():
    lc_zones, bld_zones, trees_zones = gen_zones()
    lc_ind, bld_ind = gen_industry()
    lc_centre, bld_centre, squares = gen_centre_features()
    lc_farm, bld_farm = gen_farmland()
    lc_green, trees_green = gen_green()
    lc_ribbon, bld_ribbon, trees_ribbon = gen_ribbons()
    lc_water, streams = gen_water()
    lc_roads = gen_roads()
    culvert_route = shapely.ops.substring(GAVERBEEK, GAVERBEEK.length * GAVERBEEK_CULVERT_FROM, GAVERBEEK.length)
    lc_roads.append(dict(geometry=culvert_route.buffer(4.0, cap_style="flat"), cls="asphalt", priority=46,
                         kind="street over culvert", name="Gaverbeek culvert street"))
    lc_roads.append(dict(geometry=culvert_route.buffer(12.0, cap_style="flat").difference(culvert_route.buffer(4.0)),
                         cls="grass", priority=44, kind="verge", name="Gaverbeek culvert street"))
    water_and_roads = unary_union([r["geometry"] for r in lc_water if r["cls"] == "water"]
                                  + [r["geometry"] for r in lc_roads]
                                  + [r["geometry"] for r in lc_centre if r["kind"] in ("square", "parking")])
    green_open = unary_union([g for _, c, g in GREEN])
    buildings = []
    for b in bld_zones + bld_ind + bld_centre + bld_farm + bld_ribbon:
        g = b["geometry"]
        if b["kind"] not in ("church", "school", "terraced") or b.get("zone") != "Centrum":
            g = g.difference(water_and_roads.buffer(1.0))
        if b["kind"] in ("house", "terraced", "farmhouse", "barn", "industrial hall"):
            g = g.difference(green_open)
        g = g.difference(BOMARBRE_COREX) if b["kind"] != "industrial hall" else g
        g = g.difference(culvert_route.buffer(14.0))  # the culvert runs under a street with verges
        if g.area > 20:
            buildings.append(dict(b, geometry=g))
    # Bomarbre-Corex: an old industrial site with large derelict halls and a sealed yard
    lc_ind.append(dict(geometry=BOMARBRE_COREX, cls="paving", priority=62, kind="brownfield", name="Site Bomarbre-Corex"))
    for i, hall in enumerate([box(76080, 172700, 76200, 172800), box(76230, 172730, 76360, 172860)]):
        buildings.append(dict(geometry=hall, height_m=10.0, kind="derelict hall", zone="Site Bomarbre-Corex"))
    trees = [t for t in trees_zones + trees_green + trees_ribbon
             if not t["geometry"].buffer(t.get("radius_m", 0.0)).intersects(water_and_roads)
             or t["kind"].startswith("street")]
    landcover = lc_farm + lc_ribbon + lc_zones + lc_ind + lc_centre + lc_green + lc_roads + lc_water
    landcover = [dict(r, **{"class": r.pop("cls")}) for r in landcover]
    write(OUT / "boundary.geojson", [dict(geometry=BOUNDARY, name="Harelbeke", nis="34013",
                                          source="../shared/data/leiedal-municipalities.geojson (AGIV reference file, generalised)")],
          "Harelbeke municipal boundary (real, generalised)")
    write(OUT / "landcover.geojson", sorted(landcover, key=lambda r: r["priority"]),
          "schematic land-cover polygons; burnt in order of 'priority' (higher on top) over cropland")
    write(OUT / "buildings.geojson", buildings, "schematic building footprints with height_m above terrain")
    write(OUT / "trees.geojson", trees, "schematic tree canopy: crowns (points with radius_m) and woods (polygons), "
          "with canopy fraction and height_m")
    write(OUT / "streams.geojson", streams, "watercourses (centre lines); culverted stretches are piped under the street")
    write(OUT / "soils.geojson", gen_soils(), "schematic soil textures; burnt in order of 'priority'")
    write(OUT / "districts.geojson", gen_districts(), "schematic districts (wijken), a partition of the municipality")
    write(OUT / "places.geojson", [dict(geometry=Point(p), name=n) for n, p in PLACES.items()],
          "places named in DESIGN.md (WGS84 approximations projected to Lambert 72)")
    # --- scenario geometries ---------------------------------------------------------
    geo = SCENARIO_GEOMETRIES
    write(geo / "marktplein.geojson", [dict(geometry=squares["marktplein"], name="Marktplein")], "the Markt square")
    write(geo / "marktplein-trees.geojson", [dict(geometry=squares["marktplein"].buffer(-8), name="Marktplein trees")],
          "tree planting on the Markt square")
    open_reach = shapely.ops.substring(GAVERBEEK, GAVERBEEK.length * GAVERBEEK_CULVERT_FROM, GAVERBEEK.length * 0.86)
    write(geo / "gaverbeek-collegewijk.geojson", [dict(geometry=open_reach, name="Gaverbeek, Collegewijk reach")],
          "the culverted Gaverbeek reach through the Collegewijk to be opened (centre line)")
    write(geo / "gaverbeek-collegewijk-corridor.geojson",
          [dict(geometry=open_reach.buffer(18, cap_style="flat"), name="Gaverbeek corridor, Collegewijk")],
          "an 18 m corridor either side of the Collegewijk reach, for trees")
    write(geo / "moleneiland-wadi.geojson",
          [dict(geometry=Point(75600, 172490).buffer(14), name="Moleneiland wadi")], "a wadi on the Moleneiland")
    write(geo / "ontharding-pleinen.geojson",
          [dict(geometry=g, name=n) for n, g in squares.items() if n != "marktplein"],
          "squares, parkings and schoolyards of the de-paving programme")
    write(geo / "moleneiland.geojson", [dict(geometry=MOLENEILAND, name="Moleneiland")], "the Moleneiland")
    write(geo / "leie-oevers.geojson",
          [dict(geometry=LEIE.buffer(LEIE_WIDTH / 2 + 15).difference(LEIE.buffer(LEIE_WIDTH / 2 - 5))
                .intersection(BOUNDARY), name="Leie banks")], "a 20 m strip along both Leie banks")
    write(geo / "bomarbre-corex.geojson", [dict(geometry=BOMARBRE_COREX, name="Site Bomarbre-Corex")],
          "the Bomarbre-Corex brownfield (Eiland, Ooste)")
    write(geo / "bavikhove-vrijetijdssite.geojson",
          [dict(geometry=BAVIKHOVEBEEK.buffer(30).intersection(Point(75250, 174450).buffer(300)), name="Beekproject Bavikhove")],
          "stream corridor through the Bavikhove leisure site")
    write(geo / "hulste-centrum.geojson",
          [dict(geometry=HULSTEBEEK.buffer(20).intersection(Point(*PLACES["Hulste"]).buffer(350)), name="Bekenproject Hulste")],
          "stream corridor through Hulste centre")
    streets = {"Zuidstraat": LineString([(75300, 171950), (75250, 171300)]),
               "Treurnietstraat": LineString([(75700, 172150), (76050, 171850)]),
               "Steenbrugstraat": LineString([(76800, 170300), (77100, 170800)]),
               "Zandberg": LineString([(74800, 172050), (75100, 171800)])}
    write(geo / "gescheiden-riolering-straten.geojson",
          [dict(geometry=ln.buffer(5, cap_style="flat"), name=n) for n, ln in streets.items()],
          "street profiles rebuilt with separate sewers, infiltration strips and trees")
    corridors = unary_union([shapely.ops.substring(GAVERBEEK, 0, GAVERBEEK.length * GAVERBEEK_CULVERT_FROM),
                             HULSTEBEEK, BAVIKHOVEBEEK]).buffer(25).intersection(BOUNDARY)
    write(geo / "groenplan-beekcorridors.geojson", [dict(geometry=corridors, name="Harelbeken stream corridors")],
          "25 m corridors along the open streams (Groenplan Harelbeken)")


if __name__ == "__main__":
    main()
