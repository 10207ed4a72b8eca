"""Reading GeoJSON features into shapely geometries in the site's CRS.

GeoJSON per RFC 7946 is WGS84 longitude/latitude; files exported by QGIS in a
projected CRS carry the older ``crs`` member (``urn:ogc:def:crs:EPSG::31370``),
which is honoured. A file without a ``crs`` member whose coordinates are not
longitude/latitude is refused rather than guessed.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import shapely
from pyproj import CRS, Transformer
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from heatsim.errors import InputError


@dataclass
class Feature:
    geometry: BaseGeometry
    properties: dict = field(default_factory=dict)


def geojson_crs(data: dict, source: str, default: str = "EPSG:4326") -> CRS:
    """The CRS a GeoJSON object declares, or ``default`` when it declares none
    (WGS84 for files, per RFC 7946)."""
    member = data.get("crs")
    if member is None:
        return CRS.from_user_input(default)
    try:
        return CRS.from_user_input(member["properties"]["name"])
    except Exception:
        raise InputError(source, "crs", f"unreadable crs member {member!r}; expected e.g. "
                         "{'type': 'name', 'properties': {'name': 'urn:ogc:def:crs:EPSG::31370'}}") from None


def parse_geojson(data: dict, source: str, target_crs: str, field_name: str = "geometry",
                  default_crs: str = "EPSG:4326") -> list[Feature]:
    """Features of a GeoJSON object (FeatureCollection, Feature or bare geometry) in ``target_crs``.

    Without a ``crs`` member the coordinates are taken to be in ``default_crs``.
    """
    if not isinstance(data, dict) or "type" not in data:
        raise InputError(source, field_name, "expected a GeoJSON object with a 'type'")
    crs = geojson_crs(data, source, default_crs)
    kind = data["type"]
    if kind == "FeatureCollection":
        feats = data.get("features")
        if not isinstance(feats, list) or not all(isinstance(f, dict) for f in feats):
            raise InputError(source, f"{field_name}.features", "expected a list of GeoJSON Feature objects")
        raw = [(f.get("geometry"), f.get("properties")) for f in feats]
    elif kind == "Feature":
        raw = [(data.get("geometry"), data.get("properties"))]
    else:
        raw = [(data, {})]
    features = []
    for i, (geom, props) in enumerate(raw):
        where = f"{field_name}[{i}]" if len(raw) > 1 else field_name
        if geom is None:
            raise InputError(source, where, "feature without a geometry")
        if props is not None and not isinstance(props, dict):
            raise InputError(source, f"{where}.properties", f"expected an object, got {type(props).__name__}")
        try:
            with warnings.catch_warnings():  # NaN coordinates: refused below with a clear message
                warnings.simplefilter("ignore", RuntimeWarning)
                g = shape(geom)
            coords = shapely.get_coordinates(g)
        except Exception as exc:  # shapely raises several types for malformed coordinates
            raise InputError(source, where, f"not a valid GeoJSON geometry ({type(exc).__name__}: {exc})") from None
        if g.is_empty:
            raise InputError(source, where, "empty geometry")
        if not np.isfinite(coords).all():
            raise InputError(source, where, "coordinates must be finite numbers (found NaN or infinity)")
        features.append(Feature(g, dict(props or {})))
    if not features:
        raise InputError(source, field_name, "no features")
    target = CRS.from_user_input(target_crs)
    if crs.is_geographic:
        coords = np.concatenate([shapely.get_coordinates(f.geometry) for f in features])
        if np.any(np.abs(coords[:, 0]) > 180) or np.any(np.abs(coords[:, 1]) > 90):
            raise InputError(source, "crs", "coordinates are not longitude/latitude but the file has no crs member; "
                             "add \"crs\": {\"type\": \"name\", \"properties\": {\"name\": \"urn:ogc:def:crs:EPSG::31370\"}}")
    if crs != target:
        tr = Transformer.from_crs(crs, target, always_xy=True)
        for f in features:
            f.geometry = shapely.transform(f.geometry, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))
    for i, f in enumerate(features):
        if not f.geometry.is_valid:
            f.geometry = shapely.make_valid(f.geometry)
    return features


def read_geojson(path: Path, target_crs: str, source: str | None = None, field_name: str = "geometry") -> list[Feature]:
    """Read a GeoJSON file into :class:`Feature` objects in ``target_crs``."""
    path = Path(path)
    src = source or str(path)
    if not path.is_file():
        raise InputError(src, field_name, f"file not found: {path}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(path, field_name, f"not valid GeoJSON/JSON ({exc})") from None
    return parse_geojson(data, str(path), target_crs, field_name)
