"""The report's words in Dutch (the default) and English, and how its numbers are written.

:func:`text` looks up a phrase by key; :func:`indicator` gives the label, unit and
formatting of an indicator key of ``indicators.json`` (``heat.uhi_night_k``, ...);
:func:`number` writes a number the way the language does (Dutch: ``1.234,5``).
Texts may hold ``{placeholders}`` filled with :meth:`str.format` by the caller; they are
plain text (the HTML renderer escapes them), never markup.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from heatsim.errors import InputError

#: the report languages; the first is the default
LANGS = ("nl", "en")
MINUS = "\u2212"  # a real minus sign: "−0,3" reads better than "-0,3" and does not break lines


def check_lang(lang: str) -> str:
    """``lang`` if it is a report language, else an :class:`InputError` naming the choices."""
    if lang not in LANGS:
        raise InputError("--lang", None, f"unknown report language {lang!r}; choose nl (Dutch) or en (English)")
    return lang


# Each entry: key -> {"nl": ..., "en": ...}. Plain Dutch as a Flemish climate officer writes it.
TEXTS: dict[str, dict[str, str]] = {
    "title": {"nl": "Hitte en water in {site}: vergelijking van scenario's",
              "en": "Heat and water in {site}: a comparison of scenarios"},
    "subtitle": {"nl": "Rapport van heatsim {version}, gemaakt op {time}",
                 "en": "Report by heatsim {version}, made on {time}"},
    "contents": {"nl": "Inhoud", "en": "Contents"},
    "no_js": {"nl": "Dit rapport staat volledig in één bestand: de figuren zitten erin, het heeft geen internet nodig.",
              "en": "This report is one self-contained file: the figures are inside it, it needs no internet."},
    # section headings
    "sec.overview": {"nl": "Wat werd vergeleken", "en": "What was compared"},
    "sec.headline": {"nl": "De belangrijkste cijfers", "en": "Headline figures"},
    "sec.heat": {"nl": "Hitte", "en": "Heat"},
    "sec.water": {"nl": "Water: wateroverlast en infiltratie", "en": "Water: flooding and infiltration"},
    "sec.exposure": {"nl": "Wie wordt blootgesteld", "en": "People exposed"},
    "sec.walking": {"nl": "Koele plekken binnen 15 minuten wandelen", "en": "Cool places within a 15-minute walk"},
    "sec.districts": {"nl": "Per wijk", "en": "By district"},
    "sec.other": {"nl": "Andere figuren", "en": "Other figures"},
    "sec.gis": {"nl": "Kaartlagen voor GIS", "en": "Map layers for GIS"},
    "sec.model": {"nl": "Wat het model is en wat niet", "en": "What the model is and is not"},
    "sec.provenance": {"nl": "Herkomst", "en": "Provenance"},
    # what was compared
    "overview.intro": {
        "nl": "Dit rapport vergelijkt {n} {scenarios} met het basisscenario \u201c{base}\u201d, op de site "
              "\u201c{site}\u201d in rastercellen van {res} m.",
        "en": "This report compares {n} {scenarios} with the base scenario \u201c{base}\u201d, on the site "
              "\u201c{site}\u201d in grid cells of {res} m."},
    "scenario.one": {"nl": "scenario", "en": "scenario"},
    "scenario.many": {"nl": "scenario's", "en": "scenarios"},
    "overview.weather": {
        "nl": "Elk scenario krijgt hetzelfde weer: {weather}.",
        "en": "Every scenario gets the same weather: {weather}."},
    "overview.storm": {"nl": "eerst een ontwerpbui ({storm})", "en": "first a design storm ({storm})"},
    "overview.hot_day": {"nl": "dan een hete dag ({day})", "en": "then a hot day ({day})"},
    "overview.how_to_read": {
        "nl": "Verschillen zijn altijd scenario min basisscenario: een minteken betekent minder dan vandaag "
              "(koeler, minder water op straat, minder mensen blootgesteld); een plusteken meer.",
        "en": "Differences are always scenario minus base: a minus sign means less than in the base "
              "(cooler, less water on the street, fewer people exposed); a plus sign more."},
    "col.role": {"nl": "Rol", "en": "Role"},
    "col.name": {"nl": "Scenario", "en": "Scenario"},
    "col.title": {"nl": "Titel", "en": "Title"},
    "col.description": {"nl": "Beschrijving", "en": "Description"},
    "col.interventions": {"nl": "Ingrepen", "en": "Interventions"},
    "role.base": {"nl": "basis", "en": "base"},
    "role.scenario": {"nl": "scenario", "en": "scenario"},
    "none": {"nl": "geen", "en": "none"},
    "more_interventions": {"nl": "en nog {n} (alle staan in manifest.json van de run)",
                           "en": "and {n} more (all are in the run's manifest.json)"},
    "missing": {"nl": "\u2013", "en": "\u2013"},
    # headline table
    "headline.intro": {
        "nl": "Per indicator de waarde in het basisscenario en, per scenario, het verschil met het basisscenario.",
        "en": "For each indicator, the value in the base scenario and, for each scenario, the difference from it."},
    "headline.caption": {"nl": "Kerncijfers: basisscenario en verschil per scenario",
                         "en": "Headline indicators: the base and the difference per scenario"},
    "col.indicator": {"nl": "Indicator", "en": "Indicator"},
    "col.unit": {"nl": "Eenheid", "en": "Unit"},
    "col.base": {"nl": "Basis ({name})", "en": "Base ({name})"},
    "col.diff": {"nl": "{name} min basis", "en": "{name} minus base"},
    "col.value": {"nl": "{name}", "en": "{name}"},
    "col.district": {"nl": "Wijk", "en": "District"},
    "col.town": {"nl": "Hele gemeente", "en": "Whole town"},
    "better": {"nl": "gunstig", "en": "better"},
    "worse": {"nl": "ongunstig", "en": "worse"},
    # sections with figures
    "heat.intro": {
        "nl": "De oppervlaktetemperatuur om 15 uur, de luchttemperatuur om 4 uur 's nachts (als het hitte-eiland "
              "de nachtrust verstoort) en het aantal uren met sterke hittestress (gevoelstemperatuur UTCI boven 32 \u00b0C).",
        "en": "Surface temperature at 15:00, air temperature at 04:00 (when the heat island disturbs sleep) and "
              "the hours of strong heat stress (UTCI above 32 \u00b0C)."},
    "water.intro": {
        "nl": "De grootste waterdiepte op het land tijdens de bui en het water dat in de bodem zakt. "
              "Overstroomde oppervlakte telt landcellen (geen waterlopen) waar het water minstens 5 of 20 cm hoog kwam.",
        "en": "The largest water depth on land during the storm and the water that soaks into the ground. "
              "Flooded area counts land cells (not watercourses) where the water rose at least 5 or 20 cm."},
    "exposure.intro": {
        "nl": "Inwoners worden geteld aan hun voordeur: de dichtstbijzijnde straatcel bij hun woning. "
              "Persoonsuren sterke hittestress zijn inwoners maal uren met UTCI boven 32 \u00b0C aan hun deur; "
              "een tropische nacht betekent dat de lucht aan hun deur de hele nacht boven 20 \u00b0C blijft.",
        "en": "Residents are counted at their front door: the street cell nearest to their home. Person-hours "
              "of strong heat stress are residents times hours with UTCI above 32 \u00b0C at their door; a tropical "
              "night means the air at their door stays above 20 \u00b0C all night."},
    "walking.intro": {
        "nl": "Inwoners die meer dan 15 minuten moeten wandelen (4,5 km/u, langs begaanbare cellen) naar de "
              "dichtstbijzijnde koele plek: een groene of blauwe zone van minstens 0,5 ha waar de UTCI om 15 uur "
              "onder 32 \u00b0C blijft. Tuinen tellen mee: het model kent geen verschil tussen publiek en privaat groen.",
        "en": "Residents who must walk more than 15 minutes (4.5 km/h, along walkable cells) to the nearest cool "
              "place: a green or blue area of at least 0.5 ha whose UTCI at 15:00 stays below 32 \u00b0C. Gardens "
              "count: the model cannot tell public from private green."},
    "walking.caption": {"nl": "Inwoners op meer dan 15 minuten van een koele plek, per wijk",
                        "en": "Residents beyond 15 minutes of a cool place, by district"},
    "districts.intro": {
        "nl": "Per wijk de waarde in het basisscenario en het verschil per scenario.",
        "en": "For each district, the value in the base scenario and the difference per scenario."},
    "exposure.caption": {"nl": "Blootgestelde inwoners in de hele gemeente",
                         "en": "Residents exposed in the whole town"},
    "no_figures": {"nl": "Geen figuren voor dit onderdeel.", "en": "No figures for this part."},
    "no_districts": {"nl": "De runs hebben geen cijfers per wijk.", "en": "The runs have no figures per district."},
    "figure": {"nl": "Figuur {n}", "en": "Figure {n}"},
    # GIS layers
    "gis.intro": {
        "nl": "De kaarten staan ook als GeoTIFF (Belgische Lambert 72, EPSG:31370) naast dit rapport: de "
              "verschilkaarten in maps/, de kaarten van elk scenario in layers/. Een .qml-bestand met dezelfde naam "
              "geeft ze in QGIS dezelfde kleuren als de figuren.",
        "en": "The maps are also GeoTIFFs (Belgian Lambert 72, EPSG:31370) next to this report: the difference "
              "maps in maps/, each scenario's maps in layers/. A .qml file of the same name gives them the figures' "
              "colours in QGIS."},
    "gis.none": {"nl": "Geen GeoTIFF-kaarten in deze vergelijking.", "en": "No GeoTIFF maps in this comparison."},
    "col.layer": {"nl": "GeoTIFF", "en": "GeoTIFF"},
    "col.style": {"nl": "QGIS-stijl", "en": "QGIS style"},
    "gis.no_style": {"nl": "(geen)", "en": "(none)"},
    # what the model is and is not
    "model.is": {
        "nl": "heatsim is een fysisch model. Per rastercel rekent het de energiebalans van het oppervlak over een "
              "etmaal (zon en schaduw van gebouwen en bomen, straling, verdamping, warmteopslag in bodem, daken en "
              "muren, de luchttemperatuur die met de wind meegaat) en de weg van het regenwater (interceptie, "
              "infiltratie, riolering, duikers, stroming over het terrein). Het behoudt energie en water tot op "
              "afrondingsfouten en doorstaat controles met een gekend antwoord.",
        "en": "heatsim is a physically based model. For each grid cell it computes the surface energy balance over "
              "a day (sun and shade of buildings and trees, radiation, evaporation, heat stored in ground, roofs and "
              "walls, air temperature carried by the wind) and the path of the rain (interception, infiltration, "
              "sewers, culverts, flow over the terrain). It conserves energy and water to round-off and passes "
              "checks with known answers."},
    "model.is_not": {
        "nl": "Het is niet gevalideerd met metingen in Harelbeke. De cijfers tonen hoe scenario's zich tot elkaar "
              "verhouden onder dezelfde aannames; ze voorspellen niet de temperatuur of de waterhoogte op een "
              "bepaalde plek of dag.",
        "en": "It is not validated against observations in Harelbeke. The numbers show how scenarios compare under "
              "the same assumptions; they do not predict the temperature or the water depth at a given place or day."},
    "model.assumptions": {"nl": "Belangrijkste aannames", "en": "Key assumptions"},
    "assume.site_bundled": {
        "nl": "De site \u201c{site}\u201d is schematisch: rivier, wijken, straten, gebouwen, bomen en bodem liggen "
              "op plausibele plaatsen binnen de echte gemeentegrens, maar zijn niet opgemeten "
              "(zie inputs/{site}/README.md). Bruggen ontbreken; de straten zijn een synthetisch raster.",
        "en": "The site \u201c{site}\u201d is schematic: river, districts, streets, buildings, trees and soil lie "
              "in plausible places inside the real municipal boundary but are not surveyed "
              "(see inputs/{site}/README.md). Bridges are missing; the streets are a synthetic grid."},
    "assume.site_other": {
        "nl": "De site \u201c{site}\u201d: de herkomst van de lagen staat in de map van de site.",
        "en": "The site \u201c{site}\u201d: where its layers come from is described in the site's folder."},
    "assume.resolution": {
        "nl": "Rastercellen van {res} m: een ingreep werkt op hele cellen; een beek van 4 m is een cel breed.",
        "en": "Grid cells of {res} m: an intervention acts on whole cells; a 4 m brook is one cell wide."},
    "assume.residents_schematic": {
        "nl": "De inwoners zijn schematisch: {residents} mensen verspreid over de vloeroppervlakte van de gebouwen, "
              "overal {over_65} % 65-plussers en {under_5} % kinderen onder 5 jaar. Ze wonen in de juiste straten, "
              "maar niet in de juiste aantallen per straat.",
        "en": "The residents are schematic: {residents} people spread over the buildings' floor area, "
              "{over_65} % over 65 and {under_5} % under 5 everywhere. They live in the right streets, but not in "
              "the right numbers per street."},
    "assume.residents_data": {"nl": "Inwoners: {source}.", "en": "Residents: {source}."},
    "assume.sewer": {
        "nl": "Riolering: kolken op verharde, aangesloten oppervlakken nemen water op tot {rate} mm/u "
              "({lsha} l/s/ha), een aanname van heatsim; er is geen rioolnetwerk, de buizen lopen nooit over.",
        "en": "Sewers: inlets on sealed, connected surfaces take water up to {rate} mm/h ({lsha} l/s/ha), a "
              "heatsim assumption; there is no sewer network, the pipes never surcharge."},
    "assume.storm": {
        "nl": "De bui: {what}, {depth} mm in {hours} uur, daarna {after} uur zonder regen.",
        "en": "The storm: {what}, {depth} mm in {hours} h, then {after} h without rain."},
    "assume.weather": {
        "nl": "De hete dag: {day}, {what}, na {spinup} opwarmdag(en). De temperatuur van het platteland komt "
              "uit de weerreeks; de begintoestand van de bodem is een aanname.",
        "en": "The hot day: {day}, {what}, after {spinup} spin-up day(s). The rural temperature comes from the "
              "weather series; the initial state of the ground is assumed."},
    "assume.heat_limits": {
        "nl": "Geen warmte van verkeer, airco of industrie; boomkruinen geven schaduw maar hebben geen eigen "
              "energiebalans; geen verdamping tijdens de bui.",
        "en": "No heat from traffic, air conditioning or industry; tree crowns shade but have no energy balance "
              "of their own; no evaporation during the storm."},
    "model.run_checks": {"nl": "Balansen van de runs in deze vergelijking",
                         "en": "Balances of the runs in this comparison"},
    "model.run_checks_intro": {
        "nl": "De waterbalans (regen + instroom = interceptie + infiltratie + riolering + afvoer + berging) en de "
              "energiebalans van het oppervlak sluiten per run tot op deze relatieve fout:",
        "en": "The water balance (rain + inflow = interception + infiltration + sewers + outflow + storage) and "
              "the surface energy balance close in each run to this relative error:"},
    "col.mass_error": {"nl": "Fout waterbalans (relatief)", "en": "Water balance error (relative)"},
    "col.energy_error": {"nl": "Sluitfout energiebalans (relatief)", "en": "Energy closure error (relative)"},
    "model.published": {"nl": "Het basisscenario tegenover gepubliceerde waarden",
                        "en": "The base scenario against published values"},
    "model.published_intro": {
        "nl": "De testreeks legt het basisscenario van Harelbeke (10 m, 25 juli 2019) naast gepubliceerde "
              "bereiken. Dezelfde bereiken voor het basisscenario van deze vergelijking ({res} m, {day}):",
        "en": "The test suite holds the Harelbeke base scenario (10 m, 25 July 2019) against published ranges. "
              "The same ranges for the base scenario of this comparison ({res} m, {day}):"},
    "model.published_other_day": {
        "nl": "De bereiken gelden voor de heetste dag van 2019; op een andere dag of een andere site zijn ze alleen "
              "een oriëntatie, en buiten het bereik liggen is dan geen fout.",
        "en": "The ranges hold for the hottest day of 2019; on another day or another site they are only a guide, "
              "and lying outside them is then no fault."},
    "col.check": {"nl": "Controle", "en": "Check"},
    "col.range": {"nl": "Gepubliceerd bereik", "en": "Published range"},
    "col.this_run": {"nl": "Deze vergelijking", "en": "This comparison"},
    "col.source": {"nl": "Bron", "en": "Source"},
    "in_range": {"nl": "binnen het bereik", "en": "in range"},
    "out_of_range": {"nl": "buiten het bereik", "en": "out of range"},
    "check.asphalt": {"nl": "Asfalt om 15 uur (celgemiddelde)", "en": "Asphalt at 15:00 (cell mean)"},
    "check.grass_cooler": {"nl": "Gras koeler dan asfalt om 15 uur", "en": "Grass cooler than asphalt at 15:00"},
    "check.uhi": {"nl": "Nachtelijk hitte-eiland (4 uur, kern min platteland)",
                  "en": "Night-time heat island (04:00, core minus rural)"},
    "model.tests": {"nl": "Controles met een gekend antwoord (de testreeks)",
                    "en": "Checks with known answers (the test suite)"},
    "model.tests_intro": {
        "nl": "Bij elke wijziging van heatsim rekent de testreeks deze gevallen na; de toleranties zijn die van de "
              "tests, tussen haakjes wat gemeten werd.",
        "en": "On every change of heatsim the test suite runs these cases; the tolerances are the tests', in "
              "brackets what was measured."},
    "test.lake": {
        "nl": "Meer in rust: een vlak waterpeil boven een oneffen bodem met eilanden en gebouwen blijft 1000 "
              "tijdstappen in rust: debiet en peilverandering onder 1e-10 (gemeten: exact 0).",
        "en": "Lake at rest: a flat water level over an uneven bed with islands and buildings stays at rest for "
              "1000 time steps: discharge and change of level below 1e-10 (measured: exactly 0)."},
    "test.dam_break": {
        "nl": "Dambreuk (1 m water, vlak kanaal, na 40 s), als gemiddelde dieptefout relatief tot 1 m: tegenover "
              "de exacte oplossing van de vergelijkingen die het schema oplost onder 1 % met water benedenstrooms "
              "(gemeten 0,6 %) en onder 6 % op een droge bodem (4,1 %); tegenover Stoker onder 8 % (5,6 %) en "
              "Ritter onder 15 % (11,8 %). Het lokaal-inertiële schema laat de advectie weg en is bedoeld voor trage "
              "stroming (Froude onder ongeveer 0,5), niet voor een dambreuk op een droge bodem.",
        "en": "Dam break (1 m of water, flat channel, after 40 s), as mean depth error relative to 1 m: against the "
              "exact solution of the equations the scheme solves below 1 % on a wet bed (measured 0.6 %) and below "
              "6 % on a dry bed (4.1 %); against Stoker below 8 % (5.6 %) and Ritter below 15 % (11.8 %). The local "
              "inertial scheme drops advection and is meant for slow flow (Froude below about 0.5), not for a dam "
              "break on a dry bed."},
    "test.kinematic": {
        "nl": "Constante regen (50 mm/u) op een helling van 1 %: de afvoer bereikt regen maal oppervlakte binnen "
              "1 % (gemeten ~1e-14) en het diepteprofiel volgt de kinematische-golfoplossing binnen 1 % (0,42 %).",
        "en": "Steady rain (50 mm/h) on a 1 % slope: the outflow reaches rain times area within 1 % (measured "
              "~1e-14) and the depth profile follows the kinematic-wave solution within 1 % (0.42 %)."},
    "test.depression": {
        "nl": "Een gesloten kom vullen: het water komt tot rust op het peil dat zijn volume vraagt, binnen 1 mm "
              "(gemeten 0,0002 en 0,51 mm); het volume blijft behouden tot 1e-12 relatief.",
        "en": "Filling a closed depression: the water settles at the level its volume implies, within 1 mm "
              "(measured 0.0002 and 0.51 mm); the volume is kept to 1e-12 relative."},
    "test.mass": {
        "nl": "Waterbalans: met open randen tot 1e-12 relatief en nooit een negatieve diepte; over een hele bui "
              "van 20 jaar op Harelbeke (25 m) onder 1e-6.",
        "en": "Water balance: with open edges to 1e-12 relative and never a negative depth; over a whole 20-year "
              "storm on Harelbeke (25 m) below 1e-6."},
    "test.twins": {
        "nl": "Elke Numba-kernel (stroming, infiltratie, riolering, duikers, zon en schaduw, hemelzicht, "
              "warmtegeleiding, lucht) geeft hetzelfde als een eenvoudige NumPy-versie, tot 1e-12 absoluut "
              "(1e-6 in float32); de stroming hangt niet af van het aantal threads (bit voor bit).",
        "en": "Every Numba kernel (flow, infiltration, sewers, culverts, sun and shade, sky view, conduction, air) "
              "equals a plain NumPy version to 1e-12 absolute (1e-6 in float32); the flow does not depend on the "
              "number of threads (bit for bit)."},
    "test.conduction": {
        "nl": "Warmtegeleiding: een periodiek opgewarmd oppervlak (Carslaw en Jaeger) dempt en vertraagt met de "
              "diepte zoals de analytische oplossing, binnen 2 %; de energiebalans sluit over twee dagen tot 1e-9.",
        "en": "Conduction: a periodically heated surface (Carslaw and Jaeger) damps and lags with depth as the "
              "analytic solution does, within 2 %; the energy balance closes over two days to 1e-9."},
    "test.green_ampt": {
        "nl": "Infiltratie volgt de analytische Green-Ampt-oplossing (1e-9 relatief) en het uitgewerkte voorbeeld "
              "van Chow, Maidment en Mays (1988) binnen 0,5 %.",
        "en": "Infiltration follows the analytic Green-Ampt solution (1e-9 relative) and the worked example of "
              "Chow, Maidment and Mays (1988) within 0.5 %."},
    "test.published": {
        "nl": "Hitte tegenover gepubliceerde waarden (basisscenario Harelbeke, 10 m, 25 juli 2019): asfalt om 15 "
              "uur tussen 48 en 68 \u00b0C (Santamouris 2013), tegels koeler dan asfalt, gras koeler dan asfalt "
              "maar hooguit 24 \u00b0C (Armson et al. 2012), de grond onder bomen en open water het koelst; "
              "nachtelijk hitte-eiland tussen 1,0 en 4,9 \u00b0C (CurieuzeNeuzen 2021, Oke 1973). Het model zit "
              "aan de lage kant: 1,2 \u00b0C op 5 m.",
        "en": "Heat against published values (Harelbeke base scenario, 10 m, 25 July 2019): asphalt at 15:00 "
              "between 48 and 68 \u00b0C (Santamouris 2013), paving cooler than asphalt, grass cooler than asphalt "
              "by at most 24 \u00b0C (Armson et al. 2012), the ground under trees and open water the coolest; "
              "night-time heat island between 1.0 and 4.9 \u00b0C (CurieuzeNeuzen 2021, Oke 1973). The model sits "
              "at the low end: 1.2 \u00b0C at 5 m."},
    # provenance
    "prov.intro": {
        "nl": "Vergelijkingsmap: {folder}. Vergelijking gemaakt op {time}.",
        "en": "Comparison folder: {folder}. Comparison made on {time}."},
    "col.run_folder": {"nl": "Run-map", "en": "Run folder"},
    "col.version": {"nl": "heatsim-versie", "en": "heatsim version"},
    "col.run_key": {"nl": "Runsleutel", "en": "Run key"},
    "col.wall_time": {"nl": "Rekentijd", "en": "Wall time"},
    "col.file": {"nl": "Invoerbestand", "en": "Input file"},
    "col.sha256": {"nl": "SHA-256", "en": "SHA-256"},
    "col.used_by": {"nl": "Gebruikt door", "en": "Used by"},
    "all_runs": {"nl": "alle runs", "en": "all runs"},
    "prov.inputs": {"nl": "Invoerbestanden", "en": "Input files"},
    "prov.missing_run": {"nl": "run-map niet gevonden", "en": "run folder not found"},
    "seconds": {"nl": "{s} s", "en": "{s} s"},
}

#: weather presets in plain words (the registry in heatsim.presets is English)
PRESETS: dict[str, dict[str, str]] = {
    "composite-t2": {"nl": "samengestelde ontwerpbui die gemiddeld eens in 2 jaar valt (IDF-statistiek Ukkel)",
                     "en": "composite design storm with a 2-year return period (Uccle IDF statistics)"},
    "composite-t20": {"nl": "samengestelde ontwerpbui die gemiddeld eens in 20 jaar valt (IDF-statistiek Ukkel)",
                      "en": "composite design storm with a 20-year return period (Uccle IDF statistics)"},
    "composite-t100": {"nl": "samengestelde ontwerpbui die gemiddeld eens in 100 jaar valt (IDF-statistiek Ukkel)",
                       "en": "composite design storm with a 100-year return period (Uccle IDF statistics)"},
    "juli-2021": {"nl": "langdurige regen zoals op 13-15 juli 2021 (iets meer dan 50 mm in 24 uur)",
                  "en": "long rain as on 13-15 July 2021 (just over 50 mm in 24 h)"},
    "hittegolf-2019": {"nl": "hete dag van de hittegolf van juli 2019, tot ~39,7 \u00b0C (record in Ukkel)",
                       "en": "hot day of the July 2019 heat wave, up to ~39.7 \u00b0C (Uccle record)"},
    "warme-zomerdag": {"nl": "een warme, maar geen extreme zomerdag", "en": "a warm but not extreme summer day"},
}


def text(key: str, lang: str = "nl", **values) -> str:
    """The phrase ``key`` in ``lang``, with ``{placeholders}`` filled from ``values``.

    An unknown language is an :class:`InputError`; an unknown key is a bug (KeyError).
    """
    phrase = TEXTS[key][check_lang(lang)]
    return phrase.format(**values) if values else phrase


def preset_text(name: str | None, lang: str) -> str:
    """A weather preset in plain words; a name that is not a preset (a file) is returned as is."""
    if name is None:
        return text("missing", lang)
    return PRESETS.get(name, {}).get(check_lang(lang), name)


# --------------------------------------------------------------------------- indicators


@dataclass(frozen=True)
class Indicator:
    """How an indicator of ``indicators.json`` is shown.

    ``scale`` converts the stored unit to the shown ``unit`` (m2 -> ha: 1e-4), ``digits``
    are the decimals shown, ``better`` says which direction is good ("lower", "higher" or
    None) so the report can mark a difference as better or worse.
    """

    nl: str
    en: str
    unit: tuple[str, str] = ("", "")  # (nl, en)
    scale: float = 1.0
    digits: int = 1
    better: str | None = None

    def label(self, lang: str) -> str:
        return self.nl if check_lang(lang) == "nl" else self.en

    def unit_in(self, lang: str) -> str:
        return self.unit[0] if check_lang(lang) == "nl" else self.unit[1]


C = ("\u00b0C", "\u00b0C")  # temperature differences too: "2 \u00b0C koeler" is how people say it
HOURS = ("u", "h")
HA = ("ha", "ha")
M3 = ("m\u00b3", "m\u00b3")
CM = ("cm", "cm")
PEOPLE = ("inwoners", "residents")
PERSON_HOURS = ("persoonsuren", "person-hours")
REL = ("", "")

#: town-wide indicators (keys as in indicators.json)
INDICATORS: dict[str, Indicator] = {
    "heat.surface_temperature_15h_c.mean": Indicator(
        "Oppervlaktetemperatuur om 15 uur, gemiddeld", "Surface temperature at 15:00, mean", C, digits=1,
        better="lower"),
    "heat.surface_temperature_15h_c.p95": Indicator(
        "Oppervlaktetemperatuur om 15 uur, heetste 5 %", "Surface temperature at 15:00, hottest 5 %", C,
        better="lower"),
    "heat.air_temperature_15h_c.mean": Indicator(
        "Luchttemperatuur om 15 uur, gemiddeld", "Air temperature at 15:00, mean", C, digits=2, better="lower"),
    "heat.air_temperature_04h_c.mean": Indicator(
        "Luchttemperatuur om 4 uur 's nachts, gemiddeld", "Air temperature at 04:00, mean", C, digits=2,
        better="lower"),
    "heat.uhi_night_k": Indicator(
        "Nachtelijk hitte-eiland (4 uur, kern min platteland)", "Night-time heat island (04:00, core minus rural)",
        C, digits=2, better="lower"),
    "heat.mean_radiant_temperature_15h_c.mean": Indicator(
        "Stralingstemperatuur om 15 uur, gemiddeld", "Mean radiant temperature at 15:00, mean", C, better="lower"),
    "heat.utci_15h_c.mean": Indicator(
        "Gevoelstemperatuur (UTCI) om 15 uur, gemiddeld", "Felt temperature (UTCI) at 15:00, mean", C,
        better="lower"),
    "heat.strong_heat_stress.mean_hours": Indicator(
        "Uren sterke hittestress (UTCI > 32 \u00b0C), gemiddeld per cel",
        "Hours of strong heat stress (UTCI > 32 \u00b0C), mean per cell", HOURS, digits=2, better="lower"),
    "heat.strong_heat_stress.area_m2_at_15h": Indicator(
        "Oppervlakte met sterke hittestress om 15 uur", "Area in strong heat stress at 15:00", HA, 1e-4, 1,
        "lower"),
    "heat.tropical_night.area_m2": Indicator(
        "Oppervlakte met een tropische nacht (lucht > 20 \u00b0C)", "Area with a tropical night (air > 20 \u00b0C)",
        HA, 1e-4, 1, "lower"),
    "water.flooded_area_m2.0.05": Indicator(
        "Overstroomde oppervlakte, water hoger dan 5 cm", "Flooded area, water deeper than 5 cm", HA, 1e-4, 2,
        "lower"),
    "water.flooded_area_m2.0.20": Indicator(
        "Overstroomde oppervlakte, water hoger dan 20 cm", "Flooded area, water deeper than 20 cm", HA, 1e-4, 2,
        "lower"),
    "water.max_depth_m": Indicator(
        "Grootste waterdiepte op het land", "Largest water depth on land", CM, 100.0, 1, "lower"),
    "water.infiltration_m3": Indicator(
        "Water dat in de bodem zakt (infiltratie)", "Water soaking into the ground (infiltration)", M3, digits=0,
        better="higher"),
    "water.sewer_m3": Indicator(
        "Water naar de riolering", "Water into the sewers", M3, digits=0, better="lower"),
    "water.outflow_m3": Indicator(
        "Water dat afstroomt naar de Leie en over de rand", "Water flowing off to the river and over the edges",
        M3, digits=0),
    "water.storage_m3": Indicator(
        "Water dat op het terrein blijft staan", "Water left standing on the ground", M3, digits=0),
    "water.rain_m3": Indicator("Regen", "Rain", M3, digits=0),
    "water.max_speed_m_s": Indicator(
        "Grootste stroomsnelheid", "Largest flow speed", ("m/s", "m/s"), digits=2, better="lower"),
    "exposure.residents": Indicator("Inwoners", "Residents", PEOPLE, digits=0),
    "exposure.person_hours_strong_heat_stress.all": Indicator(
        "Persoonsuren sterke hittestress, alle inwoners", "Person-hours of strong heat stress, all residents",
        PERSON_HOURS, digits=0, better="lower"),
    "exposure.person_hours_strong_heat_stress.over_65": Indicator(
        "Persoonsuren sterke hittestress, 65-plussers", "Person-hours of strong heat stress, over 65",
        PERSON_HOURS, digits=0, better="lower"),
    "exposure.person_hours_strong_heat_stress.under_5": Indicator(
        "Persoonsuren sterke hittestress, kinderen onder 5", "Person-hours of strong heat stress, under 5",
        PERSON_HOURS, digits=0, better="lower"),
    "exposure.residents_tropical_night": Indicator(
        "Inwoners met een tropische nacht aan hun deur", "Residents with a tropical night at their door",
        PEOPLE, digits=0, better="lower"),
    "exposure.residents_flooded_above_0.20_m": Indicator(
        "Inwoners met meer dan 20 cm water aan hun deur", "Residents with more than 20 cm of water at their door",
        PEOPLE, digits=0, better="lower"),
    "exposure.residents_beyond_15_min_of_a_cool_place": Indicator(
        "Inwoners op meer dan 15 minuten van een koele plek", "Residents beyond 15 minutes of a cool place",
        PEOPLE, digits=0, better="lower"),
    "water.mass_balance_error_rel": Indicator("Fout waterbalans (relatief)", "Water balance error (relative)", REL),
    "heat.energy_closure_rel": Indicator("Sluitfout energiebalans (relatief)", "Energy closure error (relative)", REL),
}

#: the headline table, in this order
HEADLINE = (
    "heat.surface_temperature_15h_c.mean",
    "heat.air_temperature_04h_c.mean",
    "heat.uhi_night_k",
    "heat.utci_15h_c.mean",
    "heat.strong_heat_stress.mean_hours",
    "water.flooded_area_m2.0.05",
    "water.flooded_area_m2.0.20",
    "water.max_depth_m",
    "water.infiltration_m3",
    "water.sewer_m3",
    "exposure.person_hours_strong_heat_stress.all",
    "exposure.person_hours_strong_heat_stress.over_65",
    "exposure.residents_tropical_night",
    "exposure.residents_flooded_above_0.20_m",
    "exposure.residents_beyond_15_min_of_a_cool_place",
)

#: town-wide indicators of the "people exposed" section
EXPOSURE = (
    "exposure.residents",
    "exposure.person_hours_strong_heat_stress.all",
    "exposure.person_hours_strong_heat_stress.over_65",
    "exposure.person_hours_strong_heat_stress.under_5",
    "exposure.residents_tropical_night",
    "exposure.residents_flooded_above_0.20_m",
)

#: per-district indicators: (section, key under ``<section>.by_district.<district>.``) -> Indicator
DISTRICT_INDICATORS: dict[tuple[str, str], Indicator] = {
    ("heat", "surface_temperature_15h_c"): Indicator(
        "Oppervlaktetemperatuur om 15 uur", "Surface temperature at 15:00", C, better="lower"),
    ("heat", "air_temperature_04h_c"): Indicator(
        "Luchttemperatuur om 4 uur 's nachts", "Air temperature at 04:00", C, digits=2, better="lower"),
    ("heat", "strong_heat_stress_mean_hours"): Indicator(
        "Uren sterke hittestress (UTCI > 32 \u00b0C)", "Hours of strong heat stress (UTCI > 32 \u00b0C)", HOURS,
        digits=2, better="lower"),
    ("water", "flooded_area_m2.0.05"): Indicator(
        "Overstroomde oppervlakte, water hoger dan 5 cm", "Flooded area, water deeper than 5 cm", HA, 1e-4, 2,
        "lower"),
    ("water", "flooded_area_m2.0.20"): Indicator(
        "Overstroomde oppervlakte, water hoger dan 20 cm", "Flooded area, water deeper than 20 cm", HA, 1e-4, 2,
        "lower"),
    ("water", "max_depth_m"): Indicator("Grootste waterdiepte op het land", "Largest water depth on land", CM,
                                        100.0, 1, "lower"),
    ("water", "infiltration_m3"): Indicator("Infiltratie", "Infiltration", M3, digits=0, better="higher"),
    ("exposure", "residents"): Indicator("Inwoners", "Residents", PEOPLE, digits=0),
    ("exposure", "person_hours_strong_heat_stress.all"): Indicator(
        "Persoonsuren sterke hittestress", "Person-hours of strong heat stress", PERSON_HOURS, digits=0,
        better="lower"),
    ("exposure", "person_hours_strong_heat_stress.over_65"): Indicator(
        "Persoonsuren sterke hittestress, 65-plussers", "Person-hours of strong heat stress, over 65",
        PERSON_HOURS, digits=0, better="lower"),
    ("exposure", "residents_tropical_night"): Indicator(
        "Inwoners met een tropische nacht", "Residents with a tropical night", PEOPLE, digits=0, better="lower"),
    ("exposure", "residents_flooded_above_0.20_m"): Indicator(
        "Inwoners met meer dan 20 cm water aan de deur", "Residents with more than 20 cm of water at the door",
        PEOPLE, digits=0, better="lower"),
    ("exposure", "residents_beyond_15_min_of_a_cool_place"): Indicator(
        "Inwoners op meer dan 15 minuten van een koele plek", "Residents beyond 15 minutes of a cool place",
        PEOPLE, digits=0, better="lower"),
}


def indicator(key: str) -> Indicator:
    """How to show the town-wide indicator ``key``; an unlisted key is shown by its name, as stored."""
    return INDICATORS.get(key) or Indicator(key, key, REL, digits=3)


# --------------------------------------------------------------------------- numbers


def number(value: float | None, digits: int, lang: str, sign: bool = False) -> str:
    """``value`` with ``digits`` decimals in the language's style (nl ``1.234,5``; en ``1,234.5``).

    ``sign`` shows "+" before positive numbers (differences). A non-zero value that would
    round to zero gets two significant digits instead, so a small change never reads as
    "no change"; an exact zero is "0". Missing values are a dash.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return text("missing", lang)
    if value == 0:
        return "0"
    small = abs(value) < 0.5 * 10.0 ** -digits
    if small:
        digits = max(digits, 1 - math.floor(math.log10(abs(value))))
        if digits > 6:  # a round-off sized number: scientific notation says it honestly
            core = f"{abs(value):.1e}".replace("e-0", "e-").replace("e+0", "e+")
            core = core.replace(".", ",") if check_lang(lang) == "nl" else core
            return (MINUS if value < 0 else ("+" if sign else "")) + core
    core = f"{abs(value):,.{digits}f}"
    if small:  # two significant digits, without a trailing zero: 0.004, not 0.0040
        core = core.rstrip("0")
    if check_lang(lang) == "nl":  # swap the separators: 1,234.5 -> 1.234,5
        core = core.replace(",", "\0").replace(".", ",").replace("\0", ".")
    if value < 0:
        return MINUS + core
    return ("+" + core) if sign else core
