"""``/views/stances``: proposals × actors, each cell coloured by the actor's position on it.

A cell holds one bar per position the sources give (proposed, supported, opposed), lettered
as well as coloured. A bar is pale with a dashed edge when no source states that stance as
holding when written (only former, announced or hypothetical), and marked F, A, H for those
times, ``~`` when hedged and ``if`` when conditional — what the qualification rule keeps with
each stance. Each dot in a bar is one claim and links to it; ``?focus=IRI`` lights up an
actor's column or a proposal's row.

Whose words a stance rests on matters as much: a party that said it opposes a proposal is not
an author's reading of that party. The claims say which (their kind and ``nkg:claimant``), so a
bar is hatched when no claim gives the stance in the actor's own words — it rests on the
author's analysis, or on what another actor said — and each dot's shape says whose words its
claim is (:data:`BASES`): a circle the actor's own, a diamond another actor's report, a square
the author's analysis. Shapes and hatching, not colour alone; the tooltips and the table say it
in words.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from kg.namespaces import NKG
from kg.server.markup import href
from kg.server.views.common import INK, legend, link, local_name, rows
from kg.server.views.svg import Markup, el, join, svg_document, text_width, wrap
from kg.store.base import Store

__all__ = ["BASES", "POSITIONS", "Matrix", "Stance", "draw", "load", "table"]

#: position → (property, colour, letter), in the order bars are drawn
POSITIONS = {
    "proposed": (str(NKG.proposedBy), "#3a6ea5", "P"),
    "supported": (str(NKG.supportedBy), "#2f8a4c", "S"),
    "opposed": (str(NKG.opposedBy), "#c0392b", "O"),
}
_BY_PROPERTY = {prop: name for name, (prop, _, _) in POSITIONS.items()}
_TIME_LETTER = {"former": "F", "announced": "A", "hypothetical": "H"}
#: whose words a claim is, strongest first → what a dot's shape and the legend say of it
BASES = {
    "own": "the actor's own words",
    "reported": "another actor's report",
    "analysis": "the author's analysis",
}
_STATEMENTS = {str(NKG.QuotedStatement), str(NKG.ParaphrasedStatement)}
#: a claim's kind (the four of ``stances.rq``), in words
_KINDS = {str(NKG.QuotedStatement): "quoted statement", str(NKG.ParaphrasedStatement): "paraphrased statement",
          str(NKG.AnalyticalClaim): "analytical claim", str(NKG.KeyTakeaway): "key takeaway"}
#: the stripes over a bar not in the actor's own words: light on a solid bar, dark on a pale one
_HATCH = {True: "hatch-light", False: "hatch-dark"}
CELL_W, CELL_H, LEFT, GAP, DOT = 68, 46, 260, 3, 7
#: how steeply the actors' names rise over their columns
SLANT = 55
FOCUS = "#fff1b8"


@dataclass
class Evidence:
    """One claim's statement of a stance, with what its sentence puts on it."""

    claim: str | None
    quote: str = ""
    #: whose words the claim is (a key of :data:`BASES`)
    basis: str = "analysis"
    #: who asserts it, by label, and its kind in words ("quoted statement", …; "claim" for none)
    claimant: str = ""
    kind: str = "claim"
    times: set[str] = field(default_factory=set)
    hedges: set[str] = field(default_factory=set)
    conditions: set[str] = field(default_factory=set)


@dataclass
class Stance:
    proposal: str
    actor: str
    position: str
    evidence: dict[str, Evidence] = field(default_factory=dict)

    @property
    def times(self) -> set[str]:
        return {t for e in self.evidence.values() for t in e.times}

    @property
    def held(self) -> bool:
        """Whether some source states it as holding when written."""
        return "current" in self.times

    @property
    def hedges(self) -> set[str]:
        return {h for e in self.evidence.values() for h in e.hedges}

    @property
    def conditions(self) -> set[str]:
        return {c for e in self.evidence.values() for c in e.conditions}

    @property
    def claims(self) -> list[str]:
        return sorted(c for c in (e.claim for e in self.evidence.values()) if c)

    @property
    def basis(self) -> str:
        """Whose words the stance rests on at best (a key of :data:`BASES`); "none" for a plain
        triple that no claim states."""
        found = {e.basis for e in self.evidence.values() if e.claim}
        return next((b for b in BASES if b in found), "none")

    def basis_of(self, claim: str) -> str:
        """Whose words ``claim`` is, as it states this stance."""
        return next((e.basis for e in self.evidence.values() if e.claim == claim), "analysis")

    def whose_words(self, labels: dict[str, str]) -> str:
        """Whose words the stance rests on, in words."""
        if self.basis == "none":
            return "no claim"
        if self.basis == "own":
            return f"{labels[self.actor]}'s own words"
        reporters = sorted({e.claimant for e in self.evidence.values() if e.basis == "reported" and e.claimant})
        if self.basis == "reported":
            return "not its own words: reported by " + ", ".join(reporters or ["another actor"])
        return "not its own words: the author's analysis only"

    @property
    def marks(self) -> str:
        """The letters of its qualifiers: F, A, H (times other than current), ~ (hedged), if."""
        letters = [_TIME_LETTER[t] for t in ("former", "announced", "hypothetical") if t in self.times]
        return " ".join([*letters, *(["~"] if self.hedges else []), *(["if"] if self.conditions else [])])

    def qualifiers(self) -> list[str]:
        """What its sentences put on it, in words: times other than current, hedges, conditions."""
        parts = []
        others = sorted(self.times - {"current"})
        if others:
            parts.append(("also " if self.held else "") + ", ".join(others))
        if self.hedges:
            parts.append("hedged: " + "; ".join(f"‘{h}’" for h in sorted(self.hedges)))
        if self.conditions:
            parts.append("on condition: " + "; ".join(f"‘{c}’" for c in sorted(self.conditions)))
        return parts

    def describe(self, labels: dict[str, str]) -> str:
        """One sentence for a tooltip: the stance, its qualifiers, whose words, how many claims."""
        parts = [f"{labels[self.actor]} {self.position} {labels[self.proposal]}", *self.qualifiers()]
        if self.basis != "none":
            parts.append(self.whose_words(labels))
        count = len(self.claims)
        parts.append(f"{count} claim{'s' if count != 1 else ''}" if count else "no claim (a plain triple)")
        return " — ".join(parts)


@dataclass
class Matrix:
    proposals: list[str]
    actors: list[str]
    labels: dict[str, str]
    stances: dict[tuple[str, str], list[Stance]]


def load(store: Store) -> Matrix:
    """The stances of ``store``: rows are proposals by label, columns actors by how many stances."""
    stances: dict[tuple[str, str, str], Stance] = {}
    labels: dict[str, str] = {}
    for row in rows(store, "stances"):
        proposal, actor, position = row["proposal"], row["actor"], _BY_PROPERTY[row["property"]]
        labels.setdefault(proposal, row.get("proposalLabel") or proposal)
        labels.setdefault(actor, row.get("actorLabel") or actor)
        stance = stances.setdefault((proposal, actor, position), Stance(proposal, actor, position))
        claim = row.get("claim")
        key = f"{claim} {row.get('statement', '')}" if claim else ""
        evidence = stance.evidence.get(key)
        if evidence is None:
            evidence = stance.evidence[key] = Evidence(claim, row.get("quote", ""), *_basis(row, actor))
        evidence.times.add(local_name(row["time"]) if "time" in row else "current")
        if "hedge" in row:
            evidence.hedges.add(row["hedge"])
        if "condition" in row:
            evidence.conditions.add(row["condition"])
    cells: dict[tuple[str, str], list[Stance]] = {}
    for (proposal, actor, _), stance in stances.items():
        cells.setdefault((proposal, actor), []).append(stance)
    order = list(POSITIONS)
    for cell in cells.values():
        cell.sort(key=lambda s: order.index(s.position))
    count: dict[str, int] = {}
    for _, actor in cells:
        count[actor] = count.get(actor, 0) + 1
    proposals = sorted({p for p, _ in cells}, key=lambda p: (labels[p].lower(), p))
    actors = sorted(count, key=lambda a: (-count[a], labels[a].lower(), a))
    return Matrix(proposals, actors, labels, cells)


def _basis(row: dict[str, str], actor: str) -> tuple[str, str, str]:
    """Whose words the claim of ``row`` is, as it states ``actor``'s stance: a quoted or
    paraphrased statement whose claimant is the actor itself is its own word; one whose
    claimant is someone else, that one's report; anything else (the author's analysis, a key
    takeaway) the author's. With the claimant's label and the claim's kind."""
    kind, claimant = row.get("kind", ""), row.get("claimant", "")
    if kind in _STATEMENTS:
        basis = "own" if claimant == actor else "reported"
    else:
        basis = "analysis"
    return basis, row.get("claimantLabel") or claimant, _KINDS.get(kind, "claim")


def _dot(basis: str, cx: float, cy: float, fill: str) -> Markup:
    """One claim's dot, shaped by whose words it is: circle (own), diamond (reported), square (analysis)."""
    if basis == "own":
        return el("circle", cx=cx, cy=cy, r=2.6, fill=fill, stroke=INK, stroke_width=0.6)
    if basis == "reported":
        r = 3.3
        points = f"{cx:.1f},{cy - r:.1f} {cx + r:.1f},{cy:.1f} {cx:.1f},{cy + r:.1f} {cx - r:.1f},{cy:.1f}"
        return el("polygon", points=points, fill=fill, stroke=INK, stroke_width=0.6)
    return el("rect", x=cx - 2.4, y=cy - 2.4, width=4.8, height=4.8, fill=fill, stroke=INK, stroke_width=0.6)


def _patterns() -> Markup:
    """The stripes of a bar not in the actor's own words (:data:`_HATCH`)."""
    return el("defs", *(el("pattern", el("line", x1=0, y1=0, x2=0, y2=6, stroke=stroke, stroke_width=1.6,
                                          stroke_opacity=opacity),
                           id=name, width=6, height=6, patternUnits="userSpaceOnUse", patternTransform="rotate(45)")
                        for name, stroke, opacity in (("hatch-light", "#fff", 0.6), ("hatch-dark", INK, 0.4))))


def _bar(stance: Stance, x: float, y: float, width: float, height: float, labels: dict[str, str]) -> Markup:
    """One position in a cell: its bar, letter, qualifiers, and one dot per claim linking to it."""
    _, colour, letter = POSITIONS[stance.position]
    held = stance.held
    parts = [el("rect", x=x, y=y, width=width, height=height, rx=3, fill=colour, fill_opacity=1 if held else 0.22,
                stroke=colour, stroke_width=1.5, stroke_dasharray=None if held else "3 2"),
             el("text", letter, x=x + width / 2, y=y + 13, text_anchor="middle", font_size=11, font_weight="700",
                fill="#fff" if held else colour)]
    if stance.basis in ("reported", "analysis"):  # not in the actor's own words: hatched, under the letters
        parts.insert(1, el("rect", x=x, y=y, width=width, height=height, rx=3, fill=f"url(#{_HATCH[held]})",
                           class_="hatch"))
    if stance.marks:
        parts.append(el("text", stance.marks, x=x + width / 2, y=y + 25, text_anchor="middle", font_size=9.5,
                        font_weight="600", fill="#fff" if held else INK, class_="qualifiers"))
    per_row = max(1, int((width - 4) // DOT))
    claims, said = stance.claims, stance.describe(labels)  # both made afresh on each use: once a bar
    dots = []
    for i, claim in enumerate(claims):
        cx = x + width / 2 + (i % per_row - (min(len(claims), per_row) - 1) / 2) * DOT
        cy = y + height - 6 - (i // per_row) * DOT
        basis = stance.basis_of(claim)
        dots.append(link(claim, _dot(basis, cx, cy, "#fff" if held else colour),
                         title=f"{said}: {claim} ({BASES[basis]})", class_="claim-dot",
                         data_basis=basis))
    target = claims[0] if claims else stance.proposal
    return el("g", link(target, *parts, title=said), *dots, class_="mark " + stance.position,
              data_position=stance.position, data_actor=stance.actor, data_proposal=stance.proposal,
              data_basis=stance.basis,
              data_times=" ".join(sorted(stance.times)), data_hedged=str(bool(stance.hedges)).lower(),
              data_conditional=str(bool(stance.conditions)).lower())


def _dot_rows(cell: list[Stance]) -> int:
    width = (CELL_W - GAP * (len(cell) + 1)) / len(cell)
    per_row = max(1, int((width - 4) // DOT))
    return max(math.ceil(len(s.claims) / per_row) for s in cell)


def draw(matrix: Matrix, *, focus: str | None = None) -> Markup:
    """The matrix as an ``<svg>``; ``focus`` (an actor or proposal IRI) highlighted."""
    labels = matrix.labels
    column_words = {a: wrap(labels[a], 190, 12, lines=1)[0] for a in matrix.actors}
    longest = max((text_width(w, 12) for w in column_words.values()), default=0)
    key, key_height = legend([
        *((el("rect", x=0, y=0, width=14, height=14, rx=3, fill=colour), f"{letter} {name}")
          for name, (_, colour, letter) in POSITIONS.items()),
        (el("rect", x=0, y=0, width=14, height=14, rx=3, fill="#888", fill_opacity=0.22, stroke="#888",
            stroke_dasharray="3 2"), "pale: not held when written"),
        *((el("text", letter, x=3, y=11, font_size=10, font_weight="700"), time)
          for time, letter in _TIME_LETTER.items()),
        (el("text", "~", x=3, y=12, font_size=13, font_weight="600"), "hedged"),
        (el("text", "if", x=2, y=11, font_size=10, font_weight="600"), "conditional"),
        (join([el("rect", x=0, y=0, width=14, height=14, rx=3, fill="#888"),
               el("rect", x=0, y=0, width=14, height=14, rx=3, fill=f"url(#{_HATCH[True]})")]),
         "hatched: not in the actor's own words"),
        *((el("g", _dot(basis, 7, 7, "#fff"), transform="translate(7 7) scale(1.6) translate(-7 -7)"),
           f"a claim: {words}") for basis, words in BASES.items()),
    ], 12, 8, max(700, LEFT + CELL_W * len(matrix.actors)) - 24)
    header = 8 + key_height + 14 + longest * math.sin(math.radians(SLANT)) + 10
    width = LEFT + CELL_W * len(matrix.actors) + longest * math.cos(math.radians(SLANT)) + 20
    width = max(width, 700)
    heights = [CELL_H + 8 * max([_dot_rows(matrix.stances[(p, a)]) - 1 for a in matrix.actors
                                 if (p, a) in matrix.stances] or [0]) for p in matrix.proposals]
    bottom = header + sum(heights)
    x_of = {a: LEFT + i * CELL_W for i, a in enumerate(matrix.actors)}
    back: list[Markup] = []
    if focus in x_of:
        back.append(el("rect", x=x_of[focus], y=header - 24, width=CELL_W, height=bottom - header + 24, fill=FOCUS,
                       class_="focus"))
    heads = []
    for actor in matrix.actors:
        cx = x_of[actor] + CELL_W / 2
        heads.append(el("a", el("title", labels[actor]), el(
            "text", column_words[actor], transform=f"translate({cx:.1f},{header - 8:.1f}) rotate(-{SLANT})",
            fill="#0645ad", font_size=12, font_weight="700" if actor == focus else None), href=href(actor)))
    body: list[Markup] = []
    y = header
    for proposal, height in zip(matrix.proposals, heights):
        if proposal == focus:
            back.append(el("rect", x=0, y=y, width=LEFT + CELL_W * len(matrix.actors), height=height, fill=FOCUS,
                           class_="focus"))
        lines = wrap(labels[proposal], LEFT - 20, 12, lines=3)
        top = y + height / 2 - (len(lines) - 1) * 7 + 4
        body.append(el("a", el("title", labels[proposal]), *(el("text", line, x=LEFT - 10, y=top + 14 * i,
                                                                  text_anchor="end", fill="#0645ad", font_size=12,
                                                                  font_weight="700" if proposal == focus else None)
                                                               for i, line in enumerate(lines)), href=href(proposal)))
        body.append(el("line", x1=12, y1=y + height, x2=LEFT + CELL_W * len(matrix.actors), y2=y + height,
                       stroke="#eee"))
        for actor in matrix.actors:
            cell = matrix.stances.get((proposal, actor))
            if not cell:
                continue
            bar_w = (CELL_W - GAP * (len(cell) + 1)) / len(cell)
            for i, stance in enumerate(cell):
                body.append(_bar(stance, x_of[actor] + GAP + i * (bar_w + GAP), y + 3, bar_w, height - 6, labels))
        y += height
    grid = [el("line", x1=x, y1=header, x2=x, y2=bottom, stroke="#eee") for x in x_of.values()]
    count = sum(len(c) for c in matrix.stances.values())
    return svg_document(width, bottom + 16, "Stances on proposals",
                        f"{len(matrix.proposals)} proposals (rows) × {len(matrix.actors)} actors (columns): {count} "
                        "stances, coloured by position; every bar links to its claims.",
                        _patterns(), key, *back, *grid, *heads, *body)


def table(matrix: Matrix) -> Markup:
    """Every stance as an HTML table: proposal, actor, position, qualifiers, claims."""
    labels = matrix.labels
    head = el("tr", *(el("th", h, scope="col") for h in ("proposal", "actor", "position", "time, hedges, conditions",
                                                          "whose words", "claims")))
    body = []
    for proposal in matrix.proposals:
        for actor in matrix.actors:
            for stance in matrix.stances.get((proposal, actor), []):
                claims = join(el("li", el("a", e.quote or e.claim, href=href(e.claim)), f" ({_said(e)})") for e in
                              sorted(stance.evidence.values(), key=lambda e: e.claim or "") if e.claim)
                body.append(el("tr", el("td", link(proposal, labels[proposal])), el("td", link(actor, labels[actor])),
                               el("td", stance.position), el("td", "; ".join(stance.qualifiers()) or "current"),
                               el("td", stance.whose_words(labels)),
                               el("td", el("ul", claims) if claims else "no claim")))
    return el("table", el("caption", "Every stance, with what its sentence puts on it and the claims that state it"),
              head, *body, class_="view-table")


def _said(evidence: Evidence) -> str:
    """Who says it, and how: "paraphrased statement by Russia", "analytical claim by …"."""
    return f"{evidence.kind} by {evidence.claimant}" if evidence.claimant else evidence.kind
