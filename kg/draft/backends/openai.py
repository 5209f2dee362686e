"""A chat model behind an OpenAI-compatible endpoint (llama.cpp, vLLM, Ollama servers speak it).

The model gets the text with numbered sentences and the gazetteer's names, and answers with
JSON claims: ``{"claims": [{"quote", "claimant", "kind", "hedge", "stances": [{"proposal",
"stance", "actor", "hedge", "condition"}]}]}``. Nothing it says is trusted: a quote must
occur in the text exactly (else the claim is dropped, and the draft says so), names must be
the gazetteer's, hedges and conditions the quote's own words; then the draft's gate checks
everything again, as for any backend.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from kg.build.annotations import find_quote
from kg.draft.backends import Context, Proposal
from kg.draft.model import DraftClaim, DraftFact
from kg.errors import InputError
from kg.iris import Kind

__all__ = ["ChatBackend"]

_STANCES = {"propose": "proposedBy", "proposedby": "proposedBy", "support": "supportedBy",
            "supportedby": "supportedBy", "oppose": "opposedBy", "opposedby": "opposedBy"}
_KINDS = {"takeaway", "analysis", "quoted", "paraphrased"}
_PROMPT = (
    "You annotate a news or analysis article about diplomatic negotiations. Answer with JSON only: "
    '{"claims": [{"quote": "exact words copied from the text", "claimant": "who asserts it (the author '
    'for the author\'s own analysis)", "kind": "analysis|takeaway|quoted|paraphrased", "hedge": ["words"], '
    '"stances": [{"proposal": "name", "stance": "propose|support|oppose", "actor": "name", "hedge": ["words"], '
    '"condition": ["words"]}]}]}. Copy quotes exactly. A question states no stance. The author is never '
    "the actor of a stance. Known names: "
)


class ChatBackend:
    """Claims proposed by a chat model at ``url`` (the server's base URL, e.g. ``http://127.0.0.1:8080/v1``)."""

    def __init__(self, url: str, *, model: str = "default", timeout: float = 120.0, api_key: str = "") -> None:
        self.url = url.rstrip("/")
        self.model = model
        self.timeout = timeout
        self.api_key = api_key

    @property
    def method(self) -> str:
        """``openai:<model>``."""
        return f"openai:{self.model}"

    def _ask(self, context: Context) -> Any:
        names = sorted({k.label for k in context.gazetteer.entities.values()})
        body = {"model": self.model, "temperature": 0,
                "messages": [{"role": "system", "content": _PROMPT + "; ".join(names)},
                             {"role": "user", "content": context.text}]}
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        try:
            response = httpx.post(f"{self.url}/chat/completions", json=body, headers=headers, timeout=self.timeout)
        except httpx.HTTPError as exc:
            raise InputError(f"the chat endpoint {self.url} cannot be reached: {exc}") from None
        if response.status_code != 200:
            raise InputError(f"the chat endpoint {self.url} answered {response.status_code}")
        try:
            content = response.json()["choices"][0]["message"]["content"]
            start, end = content.find("{"), content.rfind("}")
            return json.loads(content[start : end + 1])
        except (ValueError, KeyError, IndexError, TypeError):
            raise InputError(f"the chat endpoint {self.url} did not answer with JSON claims") from None

    def _entity(self, context: Context, name: Any, kind: Kind) -> str | None:
        if not isinstance(name, str):
            return None
        known = context.gazetteer.find(name) or context.gazetteer.entities.get(name)
        return known.id if known is not None and known.kind is kind else None

    def propose(self, context: Context) -> Proposal:
        """The model's claims, each checked against the text and the gazetteer."""
        answer = self._ask(context)
        items = answer.get("claims", []) if isinstance(answer, dict) else []
        claims: list[DraftClaim] = []
        dropped: list[str] = []
        for item in items if isinstance(items, list) else []:
            quote = item.get("quote") if isinstance(item, dict) else None
            placed = find_quote(context.text, quote, 1) if isinstance(quote, str) and quote.strip() else "no quote"
            if isinstance(placed, str) or not isinstance(quote, str):
                dropped.append(f"the model's claim was dropped, its quote is not verbatim in the text: {str(quote)[:80]!r}")
                continue
            author_words = str(item.get("claimant", "")).lower() in ("", "author", "the author")
            claimant = context.author if author_words else self._entity(context, item.get("claimant"), Kind.ACTOR)
            kind = item.get("kind") if item.get("kind") in _KINDS else "analysis"
            if claimant is None or claimant == context.author:
                claimant, kind = context.author, kind if kind in ("analysis", "takeaway") else "analysis"
            hedges = [h for h in _words(item.get("hedge")) if h in quote]
            claim = DraftClaim(kind, claimant, placed[0], placed[1], quote, hedges=hedges)
            claim.about = [m.entity.id for m in context.gazetteer.mentions(context.text, *placed)]
            claim.about = [a for a in dict.fromkeys(claim.about) if a != context.author]
            for stance in item.get("stances") or []:
                fact = self._fact(context, stance, quote)
                if fact is not None and fact.object != context.author:
                    claim.asserts.append(fact)
            claims.append(claim)
        return Proposal(claims, [], dropped)

    def _fact(self, context: Context, stance: Any, quote: str) -> DraftFact | None:
        if not isinstance(stance, dict):
            return None
        predicate = _STANCES.get(str(stance.get("stance", "")).lower().replace(" ", ""))
        proposal = self._entity(context, stance.get("proposal"), Kind.PROPOSAL)
        actor = self._entity(context, stance.get("actor"), Kind.ACTOR)
        if predicate is None or proposal is None or actor is None:
            return None
        fact = DraftFact(proposal, predicate, actor)
        fact.hedges = [h for h in _words(stance.get("hedge")) if h in quote]
        fact.conditions = [c for c in _words(stance.get("condition")) if c in quote]
        return fact


def _words(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value] if value.strip() else []
    return [v for v in value if isinstance(v, str) and v.strip()] if isinstance(value, list) else []
