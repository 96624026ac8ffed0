"""What a free sentence (no reply keyword) asks for, in English, French or Spanish."""

from __future__ import annotations

import re

from handlers.understanding.keywords import Intent

# Everything below matches folded text: lower case, no accents, curly apostrophes as '.
# A space in a phrase stands for any run of whitespace.


def _phrases(*phrases: str) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(p.replace(" ", r"\s+") for p in phrases) + r")")


_STOP = _phrases(
    r"stop (?:sending|emailing|writing|messaging|reminding|contacting|these|this|the|all|it\b)",
    r"unsubscribe",
    r"opt out",
    r"no more (?:e-?mails|reminders|messages)",
    r"(?:do not|don't) (?:send|email|write|contact) (?:me|us)",
    r"remove (?:me|us) from",
    r"arret(?:ez|er) (?:ces|les|de|d'|l'envoi|tout|svp|s'il)",
    r"arretez\W*$",
    r"ne (?:plus|pas) (?:m'|nous )?envoyer",
    r"(?:me |se )?desabonn",
    r"(?:me |se )?desinscri",
    r"plus de (?:rappels|messages|courriels)",
    r"dej(?:en|e|ar) de (?:enviar|escribir|mandar)",
    r"no (?:me|nos) (?:envi|mand|escrib)",
    r"dar(?:me|nos)? de baja",
    r"basta\b",
    r"no mas (?:correos|recordatorios|mensajes)",
)
_NOT_ME_STRONG = _phrases(
    r"not the (?:right|correct|appropriate|relevant|responsible|best) "
    r"(?:person|contact|official|focal)",
    r"wrong (?:person|contact|address|recipient)",
    r"not me\b",
    r"(?:am|i'm|is) not (?:in charge|responsible|the focal)",
    r"no longer (?:responsible|in charge|work|handl|deal|the focal|at the|with the|in this)",
    r"not (?:my|our) (?:area|responsibility|file|portfolio|department)",
    r"(?:has|have) left (?:the|our|this) (?:ministry|mission|office|department|post|position)",
    r"pas (?:la|le) bon(?:ne)? (?:personne|interlocut|contact|destinataire)",
    r"pas moi\b",
    r"mauvais(?:e)? (?:personne|destinataire|interlocut)",
    r"ne (?:suis|sommes) (?:plus|pas) (?:en charge|charge|responsable|le point focal|la personne)",
    r"ne m'occupe (?:plus|pas)",
    r"no soy (?:la persona|el responsable|la responsable|el punto focal|yo)",
    r"persona equivocada",
    r"ya no (?:soy|estoy|me ocupo|trabajo)",
    r"no (?:estoy|me encuentro) a cargo",
    r"no me corresponde",
)
_NOT_ME_WEAK = _phrases(
    r"(?:please )?(?:write|send|forward|redirect|email|contact|reach)\b",
    r"ecri(?:re|vez)",
    r"contact(?:ez|er)",
    r"transfer(?:er|ez)",
    r"adress(?:er|ez)",
    r"escrib(?:a|ir|e)",
    r"contact(?:e|ar)",
    r"reenvi(?:e|ar)",
    r"dirigir(?:se)?",
)
_SNOOZE_STRONG = _phrases(
    r"remind (?:me|us)",
    r"snooze",
    r"more time",
    r"rappel(?:ez|le|er)[\s-]+(?:moi|nous)",
    r"plus de temps",
    r"recuerd(?:e|a|en)(?:me|nos)",
    r"mas tiempo",
)
_SNOOZE_WEAK = _phrases(
    r"later\b",
    r"next (?:week|month)",
    r"not now",
    r"another time",
    r"in a (?:few|couple of) days",
    r"plus tard",
    r"(?:la )?semaine prochaine",
    r"pas maintenant",
    r"dans (?:quelques|deux|trois) jours",
    r"mas tarde",
    r"(?:la )?(?:proxima semana|semana que viene)",
    r"ahora no",
    r"en unos dias",
)
_WITHDRAW = _phrases(
    r"withdraw",
    r"cancel",
    r"remove",
    r"delete",
    r"no longer need",
    r"retir",
    r"annul",
    r"supprim",
    r"plus besoin",
    r"elimin",
    r"borr",
    r"ya no necesit",
)
_CORRECT = _phrases(
    r"correct",
    r"change",
    r"update",
    r"amend",
    r"modif",
    r"edit\b",
    r"fix\b",
    r"corrig",
    r"rectifi",
    r"cambi",
    r"actualiz",
    r"enmend",
)
_NEED = _phrases(
    r"need(?:s|ed)?\b",
    r"requir",
    r"looking for",
    r"seeking",
    r"request(?:ing)? (?:for )?(?:assistance|support|help|funding|funds)",
    r"besoin",
    r"necessit",
    r"(?:re)?cherch(?:ons|e)",
    r"sollicit",
    r"demand(?:ons|e) (?:un|une|des|de l')",
    r"necesit",
    r"necesidad",
    r"requer",
    r"requier",
    r"buscamos",
    r"solicit",
)
_OFFER = _phrases(
    r"offer",
    r"(?:can|could|able to|willing to|happy to|ready to) (?:provide|support|share|fund|deploy|"
    r"train|donate|contribute|send|supply|finance|assist|help)",
    r"available to",
    r"offr",
    r"propos(?:ons|er)",
    r"(?:pouvons|pourrions|pouvez|sommes prets a) (?:fournir|offrir|apporter|mettre|partager|"
    r"financer|former|deployer|contribuer|aider|soutenir)",
    r"mett(?:re|ons) a (?:la |votre )?disposition",
    r"ofrec",
    r"oferta",
    r"(?:podemos|podriamos|estamos dispuestos a) (?:ofrecer|brindar|proporcionar|aportar|"
    r"facilitar|compartir|financiar|capacitar|desplegar|donar|contribuir|apoyar|ayudar)",
    r"pone(?:r|mos) a (?:su |la )?disposicion",
)
_SUBMITTED_STRONG = _phrases(
    r"submitted",
    r"filed",
    r"lodged",
    r"soumis",
    r"presentad[oa]s?",
    r"sometid[oa]",
)
_SUBMITTED_WEAK = _phrases(
    r"sent",
    r"transmitted",
    r"delivered",
    r"uploaded",
    r"handed in",
    r"done",
    r"envoye",
    r"transmis",
    r"remis",
    r"depose",
    r"presente",
    r"enviad[oa]",
    r"enviamos",
    r"presentamos",
    r"remitimos",
    r"entregamos",
    r"remitid[oa]",
    r"entregad[oa]",
    r"transmitid[oa]",
)
_REPORT = re.compile(
    r"\b(?:report|rapport|informe|transparency|transparence|transparencia)|\bart(?:icle|iculo)?\.?\s*7\b"
)
_CONFIRM = _phrases(
    r"(?:i|we) (?:hereby )?confirm",
    r"confirmed",
    r"je confirme",
    r"nous confirmons",
    r"confirmo\b",
    r"confirmamos",
    r"confirmado",
)
_AFFIRMATIVE = frozenset(
    {
        "yes",
        "yes please",
        "ok",
        "okay",
        "correct",
        "that's right",
        "that is correct",
        "that's correct",
        "right",
        "oui",
        "d'accord",
        "exact",
        "exactement",
        "c'est exact",
        "c'est correct",
        "si",
        "de acuerdo",
        "correcto",
        "vale",
        "es correcto",
    }
)
_HELP = _phrases(
    r"help\b",
    r"how does (?:this|it) work",
    r"what (?:can|should|do) (?:i|we) (?:do|reply|say|write|answer)",
    r"what is this",
    r"aide\b",
    r"comment (?:ca|cela) (?:marche|fonctionne)",
    r"que (?:dois|puis)[\s-]je",
    r"ayuda\b",
    r"como funciona",
    r"que (?:puedo|debo) (?:hacer|responder|escribir)",
)

_NEGATIONS = frozenset({"not", "never", "no", "pas", "plus", "jamais", "nunca", "aun", "todavia"})
# "will be submitted", "sera soumis", "va a ser presentado": not done yet.
_FUTURE = _NEGATIONS | {
    "will",
    "shall",
    "going",
    "sera",
    "seront",
    "serait",
    "va",
    "vamos",
    "seran",
}
_CLAUSE_END = re.compile(r"[,.;:!?\n]")
_WORD = re.compile(r"[a-z']+")


def _negated(folded: str, position: int, blockers: frozenset[str] = _NEGATIONS) -> bool:
    """A negation (or other blocker) among the three words before `position`, same clause."""
    window = folded[max(0, position - 40) : position]
    clause = _CLAUSE_END.split(window)[-1]
    words = _WORD.findall(clause)[-3:]
    return any(word in blockers or word.endswith("n't") for word in words)


def _first(
    pattern: re.Pattern[str], folded: str, blockers: frozenset[str] = _NEGATIONS
) -> int | None:
    """Where the first non-negated match starts."""
    for found in pattern.finditer(folded):
        if not _negated(folded, found.start(), blockers):
            return found.start()
    return None


def _earliest(folded: str, *candidates: tuple[Intent, re.Pattern[str]]) -> Intent | None:
    positions = [
        (position, intent)
        for intent, pattern in candidates
        if (position := _first(pattern, folded)) is not None
    ]
    return min(positions)[1] if positions else None


def classify(folded: str, *, has_reference: bool, has_email: bool) -> Intent:
    """The intent of a free sentence, checked in an order that settles the usual overlaps:
    a stop or not-me request overrides everything ("stop sending these", even about needs);
    asking for time beats a need ("we need more time"); a need or offer beats a stray email
    address or "contact"; a report verb beats "later"."""
    if _STOP.search(folded):
        return Intent.STOP
    if _NOT_ME_STRONG.search(folded):
        return Intent.NOT_ME
    if _SNOOZE_STRONG.search(folded):
        return Intent.SNOOZE
    if has_reference:
        change = _earliest(folded, (Intent.WITHDRAW, _WITHDRAW), (Intent.CORRECT, _CORRECT))
        if change is not None:
            return change
    need_or_offer = _earliest(folded, (Intent.NEED, _NEED), (Intent.OFFER, _OFFER))
    if need_or_offer is not None:
        return need_or_offer
    if _first(_SUBMITTED_STRONG, folded, _FUTURE) is not None or (
        _first(_SUBMITTED_WEAK, folded, _FUTURE) is not None and _REPORT.search(folded)
    ):
        return Intent.REPORT_SUBMITTED
    if _SNOOZE_WEAK.search(folded):
        return Intent.SNOOZE
    if has_email and _NOT_ME_WEAK.search(folded):
        return Intent.NOT_ME
    short = " ".join(_WORD.findall(folded))
    if _CONFIRM.search(folded) or short in _AFFIRMATIVE:
        return Intent.CONFIRM
    if _HELP.search(folded):
        return Intent.HELP
    return Intent.UNKNOWN
