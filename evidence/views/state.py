"""Named session-state keys: the ones pages share (a cell chosen on the gap map opens on What works),
so a renamed key cannot silently break the hand-over between pages."""

#: The cell What works shows (set by the gap map's "Open in What works", a shared link or the page).
WW_INTERVENTION = "ww_intervention"
WW_OUTCOME = "ww_outcome"
#: A three-level fit the user asked for, with the options and filters it belongs to.
WW_THREE_LEVEL = "ww_three_level"
#: The gap map's chosen cell.
GM_INTERVENTION = "gm_intervention"
GM_OUTCOME = "gm_outcome"
#: The study open on the Studies page.
ST_STUDY = "st_study"
#: Filters survive page switches through shadow copies under this prefix.
SHADOW_PREFIX = "_"
#: The multi-choice sidebar filters; each is also a query parameter of the same name (``?regions=...``),
#: as are ``sex``, ``years`` and ``ages`` (``lo-hi``), so a shared link reopens the same filters.
FILTER_PARAMS = ("regions", "countries", "designs", "rob_levels", "coding_status")
#: How many times a gap-map cell was picked below the map (each pick keys a fresh chart showing it).
GM_PICKS = "gm_picks"
#: The sidebar's country filter (``components.sidebar_filters`` key ``f_<Filters field>``); the Where
#: page's map sets it when a country is clicked, and every page with the sidebar then applies it.
COUNTRY_FILTER = "f_countries"
#: The Where page's world map (its selection event).
WH_MAP = "wh_map"
